using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>The stop sequence: intake stops at the first request, the shard in flight is abandoned after the grace or at a second request.</summary>
public sealed class GracefulStopTests
{
    [Fact]
    public void The_first_request_stops_intake_and_the_grace_period_then_abandons_the_shard_in_flight()
    {
        // The grace period runs on the test's clock: nothing here depends on how fast the machine is.
        var clock = new ManualClock();
        var log = new List<string>();
        using var stop = new GracefulStop(TimeSpan.FromMilliseconds(300), log.Add, time: clock);
        Assert.False(stop.Requested);
        Assert.Null(stop.GraceLeft);
        stop.Request("SIGTERM");
        Assert.True(stop.Intake.IsCancellationRequested);
        Assert.False(stop.InFlight.IsCancellationRequested);
        Assert.Equal("SIGTERM", stop.Reason);
        Assert.Equal(["SIGTERM received: taking no new shard; the one in flight has 0.3 s to finish (a second signal abandons it)"], log);
        Assert.Equal(TimeSpan.FromMilliseconds(300), stop.GraceLeft);

        clock.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(stop.InFlight.IsCancellationRequested);
        Assert.Equal(TimeSpan.FromMilliseconds(1), stop.GraceLeft);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(stop.InFlight.IsCancellationRequested);
        Assert.Equal(TimeSpan.Zero, stop.GraceLeft);
        Assert.StartsWith("the grace period ran out: abandoning", log[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_the_system_clock_the_grace_period_runs_out_by_itself()
    {
        using var stop = new GracefulStop(TimeSpan.FromMilliseconds(50));
        stop.Request("SIGTERM");
        await Task.Delay(Timeout.Infinite, stop.InFlight).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(stop.InFlight.IsCancellationRequested);
    }

    [Fact]
    public void A_second_request_abandons_the_shard_in_flight_at_once()
    {
        using var stop = new GracefulStop(TimeSpan.FromMinutes(10));
        stop.Request("SIGINT");
        Assert.False(stop.InFlight.IsCancellationRequested);
        stop.Request("SIGINT");
        Assert.True(stop.InFlight.IsCancellationRequested);
        Assert.Equal("SIGINT", stop.Reason);
    }

    [Fact]
    public void An_outer_cancellation_counts_as_a_request_and_a_disposed_stop_ignores_late_ones()
    {
        using var outer = new CancellationTokenSource();
        var stop = new GracefulStop(TimeSpan.FromMinutes(1), outer: outer.Token);
        outer.Cancel();
        Assert.True(stop.Intake.IsCancellationRequested);
        Assert.Equal("cancellation", stop.Reason);
        stop.Dispose();
        stop.Request("SIGTERM");
    }

    [Fact]
    public void A_SIGTERM_repeated_within_the_duplicate_window_is_the_same_request_but_a_later_one_abandons_the_shard()
    {
        var clock = new ManualClock();
        var log = new List<string>();
        using var stop = new GracefulStop(TimeSpan.FromMinutes(10), log.Add, time: clock);
        stop.Request("SIGTERM");
        clock.Advance(TimeSpan.FromMilliseconds(300));
        stop.Request("SIGTERM");
        Assert.False(stop.InFlight.IsCancellationRequested);
        Assert.Contains(log, line => line.StartsWith("another SIGTERM within 2 s of the first: the same stop request", StringComparison.Ordinal));

        clock.Advance(GracefulStop.DuplicateWindow);
        stop.Request("SIGTERM");
        Assert.True(stop.InFlight.IsCancellationRequested);
    }

    [Fact]
    public void A_second_Ctrl_C_abandons_the_shard_at_once_however_quickly_it_follows()
    {
        var clock = new ManualClock();
        using var stop = new GracefulStop(TimeSpan.FromMinutes(10), time: clock);
        stop.Request("SIGINT");
        stop.Request("SIGINT");
        Assert.True(stop.InFlight.IsCancellationRequested);
    }

    /// <summary>A clock that moves only when told to; its timers fire when it passes their due time.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Assert.Equal(Timeout.InfiniteTimeSpan, period); // one-shot timers are all GracefulStop uses
            var timer = new ManualTimer(callback, state, _ticks + dueTime.Ticks);
            _timers.Add(timer);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            _ticks += by.Ticks;
            foreach (var timer in _timers.Where(timer => timer.DueAt <= _ticks).ToList())
            {
                _timers.Remove(timer);
                timer.Fire();
            }
        }

        private sealed class ManualTimer(TimerCallback callback, object? state, long dueAt) : ITimer
        {
            private bool _disposed;

            public long DueAt { get; } = dueAt;

            public void Fire()
            {
                if (!_disposed)
                {
                    callback(state);
                }
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException("GracefulStop never reschedules its timer");

            public void Dispose() => _disposed = true;

            public ValueTask DisposeAsync()
            {
                _disposed = true;
                return ValueTask.CompletedTask;
            }
        }
    }
}
