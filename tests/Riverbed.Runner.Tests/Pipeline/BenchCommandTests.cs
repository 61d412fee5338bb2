using System.Text.RegularExpressions;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary><c>riverbed bench</c>: the measurements it reports, on a run small enough for the test suite.</summary>
[Trait("Category", "Slow")]
public sealed partial class BenchCommandTests
{
    [Fact]
    public void Bench_reports_throughput_padding_with_and_without_sorting_and_the_best_setting_of_its_sweep()
    {
        var result = Cli.Run(["bench", "--examples", "24", "--sweep-batch-tokens", "512,2048", "--sweep-sessions", "1",
            "--sweep-threads", "budget,1", "--sweep-mlm-head", "masked,full"]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var output = result.StandardOutput;
        Assert.Contains("24 generated OIG-style dialogues", output, StringComparison.Ordinal);
        Assert.Matches(SortedLine(), output);
        Assert.Contains("arrival order (no sort): sessions 1, batch tokens 4,096: 24 examples", output, StringComparison.Ordinal);
        Assert.Matches(PaddingLine(), output);
        Assert.Contains("|        1 |          512 |", output, StringComparison.Ordinal);
        Assert.Contains("|        1 |        2,048 |", output, StringComparison.Ordinal);
        Assert.Matches(BestLine(), output);
        Assert.Contains("threads and mlm head", output, StringComparison.Ordinal);
        Assert.Matches(@"\|\s+budget \|\s+masked \|", output);
        Assert.Matches(@"\|\s+1 per session \|\s+full \|", output);
        Assert.Matches(@"peak RSS of this bench process: [0-9,]+ MiB", output);
    }

    [Fact]
    public void A_thread_setting_that_is_not_budget_per_core_or_a_count_is_refused_with_the_option_named()
    {
        var result = Cli.Run(["bench", "--examples", "4", "--sweep-threads", "budget,many"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--sweep-threads: 'many' is not budget, per-core or a positive whole number", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_value_that_is_not_a_positive_number_is_refused_with_the_option_named()
    {
        var result = Cli.Run(["bench", "--examples", "4", "--sweep-batch-tokens", "1024,lots"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--sweep-batch-tokens: 'lots' is not a positive whole number", result.StandardError, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"sorted by length: sessions 1, batch tokens 4,096: 24 examples in [0-9.]+ s = [0-9.]+ examples/s, [0-9,]+ real tokens/s; some model running \d+ ?% of wall time")]
    private static partial Regex SortedLine();

    [GeneratedRegex(@"  mlm: [0-9.]+ ?% vs [0-9.]+ ?% \(padded tokens [0-9.]+x\)")]
    private static partial Regex PaddingLine();

    [GeneratedRegex(@"best: --sessions 1 --batch-tokens (512|2048) \([0-9.]+ examples/s")]
    private static partial Regex BestLine();
}
