using System.Globalization;
using System.Runtime.InteropServices;

namespace Riverbed.Sharding;

/// <summary>
/// Preemption handling for a worker. The first SIGTERM (or Ctrl+C) stops intake at once — no new shard is started —
/// and gives the shard in flight <see cref="Grace"/> to finish; after that, or at a second signal, it is abandoned
/// (its writer aborts, its temporaries are deleted, nothing final-named appears). Nothing here is needed for
/// correctness: a worker killed outright leaves only temporaries, which the next attempt at that shard discards.
/// Since .NET 10 the runtime installs no SIGTERM handler of its own, so without this a SIGTERM ends the process at once.
/// </summary>
public sealed class GracefulStop : IDisposable
{
    private readonly CancellationTokenSource _intake = new();
    private readonly CancellationTokenSource _inFlight = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _gate = new();
    private readonly Action<string> _log;
    private ITimer? _graceTimer;
    private ITimer? _stuckTimer;
    private readonly TimeProvider _time;
    private int _signals;
    private long _firstSignalAt;
    private bool _disposed;

    /// <param name="grace">How long the shard in flight may take after the first signal.</param>
    /// <param name="log">Where to say what happens (the CLI passes standard error).</param>
    /// <param name="outer">Another cancellation that counts as a stop request (e.g. the host's).</param>
    /// <param name="time">The clock that tells a duplicate SIGTERM from a second one and runs the grace period (tests pass
    /// their own, so what they check does not depend on how fast the machine is).</param>
    public GracefulStop(TimeSpan grace, Action<string>? log = null, TimeProvider? time = null, CancellationToken outer = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        Grace = grace;
        _log = log ?? (_ => { });
        _time = time ?? TimeProvider.System;
        if (outer.CanBeCanceled)
        {
            outer.Register(() => Request("cancellation"));
        }
    }

    public TimeSpan Grace { get; }

    /// <summary>
    /// When set, the process exits with this code if it is still running <see cref="StuckDelay"/> after the shard in
    /// flight was abandoned: a read blocked where no cancellation reaches it (a FIFO with no writer, an endless device
    /// such as /dev/zero) would otherwise keep it alive forever. The shard's temporaries stay; its next attempt deletes
    /// them. Null (tests, library use): never exit.
    /// </summary>
    public int? ExitWhenStuck { get; init; }

    /// <summary>How long an abandoned shard may take to wind down before <see cref="ExitWhenStuck"/> ends the process.</summary>
    public static TimeSpan StuckDelay { get; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A SIGTERM this soon after the first one is the same stop request delivered twice, not a second request: Slurm
    /// signals every process of a task on preemption while the batch shell forwards its own copy, and that pair must not
    /// cost the shard in flight its grace period. A deliberate second SIGTERM, or any second Ctrl+C, still abandons it.
    /// </summary>
    public static TimeSpan DuplicateWindow { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Cancelled at the first signal: take no new shard.</summary>
    public CancellationToken Intake => _intake.Token;

    /// <summary>Cancelled when the grace period runs out (or at a second signal): abandon the shard in flight.</summary>
    public CancellationToken InFlight => _inFlight.Token;

    /// <summary>What stopped the worker ("SIGTERM", "SIGINT", …), or null when nothing did.</summary>
    public string? Reason { get; private set; }

    public bool Requested => _intake.IsCancellationRequested;

    /// <summary>
    /// What is left of the grace period: null before a stop request, zero once the shard in flight is abandoned (for
    /// progress displays, which say that a stop is under way and how long the shard in flight still has).
    /// </summary>
    public TimeSpan? GraceLeft
    {
        get
        {
            lock (_gate)
            {
                if (_signals == 0)
                {
                    return null;
                }
                if (_disposed || _inFlight.IsCancellationRequested)
                {
                    return TimeSpan.Zero;
                }
                var left = Grace - _time.GetElapsedTime(_firstSignalAt);
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }

    /// <summary>Handles SIGTERM and SIGINT in this process (instead of the default: die at once).</summary>
    public GracefulStop Register()
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Request(context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT");
            }));
        }
        return this;
    }

    /// <summary>Stops intake and starts the grace period; a second request abandons the shard in flight at once.</summary>
    public void Request(string reason)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            if (_signals > 0 && reason == "SIGTERM" && Reason == "SIGTERM" && _time.GetElapsedTime(_firstSignalAt) < DuplicateWindow)
            {
                _log($"another SIGTERM within {DuplicateWindow.TotalSeconds:0} s of the first: the same stop request (the grace period goes on)");
                return;
            }
            _signals++;
            if (_signals == 1)
            {
                Reason = reason;
                _firstSignalAt = _time.GetTimestamp();
                // Intake stops before the line is written, so whoever reads the line (a log, a test) knows no new shard starts.
                _intake.Cancel();
                _log(string.Create(CultureInfo.InvariantCulture,
                    $"{reason} received: taking no new shard; the one in flight has {Grace.TotalSeconds:0.#} s to finish (a second signal abandons it)"));
                _graceTimer = _time.CreateTimer(_ => Abandon("the grace period ran out"), null, Grace, Timeout.InfiniteTimeSpan);
            }
            else
            {
                Abandon($"a second {reason}");
            }
        }
    }

    private void Abandon(string why)
    {
        lock (_gate)
        {
            if (_disposed || _inFlight.IsCancellationRequested)
            {
                return;
            }
            _log($"{why}: abandoning the shard in flight (it stays incomplete; a rerun redoes it)");
            _inFlight.Cancel();
            if (ExitWhenStuck is { } code && !_disposed)
            {
                _stuckTimer = _time.CreateTimer(_ => ExitStuck(code), null, StuckDelay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void ExitStuck(int code)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _log(string.Create(CultureInfo.InvariantCulture,
                $"the shard in flight did not stop within {StuckDelay.TotalSeconds:0} s of being abandoned (is its input blocked or endless: a FIFO, /dev/zero?): exiting now"));
        }
        Environment.Exit(code);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _graceTimer?.Dispose();
            _stuckTimer?.Dispose();
            _intake.Dispose();
            _inFlight.Dispose();
        }
    }
}
