using Riverbed.Pipeline;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>The progress line's words: the work done rounded down, the ETA from it, and the stop under way instead of an ETA.</summary>
public sealed class RunDisplayTests
{
    private static ProgressSnapshot Snapshot(double fraction, long examples = 1234) =>
        new(TimeSpan.FromSeconds(100), ShardsTotal: 5, ShardsDone: 2, examples, Rejected: 0, Failed: 0, Removed: 0, fraction, Batching: []);

    [Fact]
    public void The_line_shows_examples_scored_the_work_done_and_the_time_left_at_the_rate_so_far()
    {
        Assert.Equal("1,234 examples scored (12.3/s) · 0 tokens/s · batch fill 0 % · shards 2/5 · 40% done · ETA 0:02:30",
            RunDisplay.Describe(Snapshot(0.4)));
    }

    [Fact]
    public void The_percentage_is_rounded_down_so_it_never_shows_more_than_was_done()
    {
        Assert.Contains(" · 99% done · ", RunDisplay.Describe(Snapshot(0.999)), StringComparison.Ordinal);
        Assert.Contains(" · 0% done", RunDisplay.Describe(Snapshot(0.004)), StringComparison.Ordinal);
        Assert.EndsWith(" · 100% done", RunDisplay.Describe(Snapshot(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void While_a_stop_runs_its_grace_period_the_line_says_so_instead_of_an_ETA()
    {
        var line = RunDisplay.Describe(Snapshot(0.4), graceLeft: TimeSpan.FromSeconds(27));
        Assert.EndsWith(" · 40% done · stopping, grace 0:00:27 left", line, StringComparison.Ordinal);
        Assert.DoesNotContain("ETA", line, StringComparison.Ordinal);
    }
}
