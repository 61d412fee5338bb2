using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>The stop sequence: intake stops at the first request, the shard in flight is abandoned after the grace or at a second request.</summary>
public sealed class GracefulStopTests
{
    [Fact]
    public async Task The_first_request_stops_intake_and_the_grace_period_then_abandons_the_shard_in_flight()
    {
        var log = new List<string>();
        using var stop = new GracefulStop(TimeSpan.FromMilliseconds(300), line => { lock (log) { log.Add(line); } });
        Assert.False(stop.Requested);
        stop.Request("SIGTERM");
        Assert.True(stop.Intake.IsCancellationRequested);
        Assert.False(stop.InFlight.IsCancellationRequested);
        Assert.Equal("SIGTERM", stop.Reason);
        await Task.Delay(Timeout.Infinite, stop.InFlight).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(stop.InFlight.IsCancellationRequested);
        lock (log)
        {
            Assert.Contains(log, line => line.StartsWith("SIGTERM received: taking no new shard; the one in flight has 0.3 s", StringComparison.Ordinal));
            Assert.Contains(log, line => line.StartsWith("the grace period ran out: abandoning", StringComparison.Ordinal));
        }
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

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
