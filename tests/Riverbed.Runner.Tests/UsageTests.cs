namespace Riverbed.Runner.Tests;

/// <summary>
/// Scripts and schedulers tell "called it wrong" (exit 2) from "ran and failed" (exit 1): every command, and the root,
/// refuses a command line it cannot parse with exit 2 and the parser's message, before doing anything.
/// </summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("")]
    [InlineData("models")]
    [InlineData("models check")]
    [InlineData("models generate")]
    [InlineData("models pull")]
    [InlineData("inspect")]
    [InlineData("convert")]
    [InlineData("tokenize")]
    [InlineData("score")]
    [InlineData("filter")]
    [InlineData("demo")]
    [InlineData("report")]
    [InlineData("bench")]
    [InlineData("status")]
    [InlineData("emit")]
    [InlineData("emit slurm")]
    [InlineData("emit k8s")]
    [InlineData("merge-stats")]
    [InlineData("evaluate")]
    public void An_unknown_flag_is_a_usage_error(string command)
    {
        using var scratch = new ScratchFolder("usage");
        var result = Cli.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--no-such-flag"], workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains("--no-such-flag", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));
    }

    [Theory]
    [InlineData("convert in.jsonl --output out --max-rejects lots", "neither a count")]
    [InlineData("score in.jsonl --output out --threshold contradiction_max", "is not of the form")]
    [InlineData("bench --sweep-sessions 1,two", "'two' is not a positive whole number")]
    [InlineData("emit slurm --tasks few -- in --output out", "few")]
    [InlineData("emit slurm --tasks 2 in --output out", "Unrecognized option '--output' for 'slurm'")]
    [InlineData("inspect data/ --shema oig", "Unrecognized option '--shema' for 'inspect'")]
    [InlineData("score in.jsonl --output out --device cuda --gpu-memory-limit lots", "is not a size such as")]
    [InlineData("score in.jsonl --output out --combine some", "combine rule 'some'")]
    [InlineData("filter scored --output out --threshold contradiction_max=0.5 --threshold contradiction_max=0.7", "contradiction_max")]
    [InlineData("bench --sweep-threads 1,many", "'many' is not budget, per-core or a positive whole number")]
    public void A_value_the_command_cannot_parse_is_a_usage_error(string commandLine, string message)
    {
        using var scratch = new ScratchFolder("usage");
        var result = Cli.Run(commandLine.Split(' '), workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));
    }

    [Fact]
    public void No_command_at_all_is_a_usage_error()
    {
        var result = Cli.Run();
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
    }
}
