namespace Riverbed.Runner.Tests;

/// <summary>
/// Scripts and schedulers tell "called it wrong" (exit 2) from "ran and failed" (exit 1): every command, and the root,
/// refuses a command line it cannot parse with exit 2 and the parser's message, before doing anything.
/// </summary>
public sealed class UsageTests
{
    public static TheoryData<string[]> Commands => new()
    {
        Array.Empty<string>(),
        new[] { "models" },
        new[] { "models", "check" },
        new[] { "models", "generate" },
        new[] { "models", "pull" },
        new[] { "inspect" },
        new[] { "convert" },
        new[] { "tokenize" },
        new[] { "score" },
        new[] { "filter" },
        new[] { "demo" },
        new[] { "report" },
        new[] { "bench" },
        new[] { "status" },
        new[] { "emit" },
        new[] { "emit", "slurm" },
        new[] { "emit", "k8s" },
        new[] { "merge-stats" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_unknown_flag_is_a_usage_error(string[] command)
    {
        using var scratch = new ScratchFolder("usage");
        var result = Cli.Run([.. command, "--no-such-flag"], workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains("--no-such-flag", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));
    }

    [Theory]
    [InlineData("convert", "in.jsonl", "--output", "out", "--max-rejects", "lots")]
    [InlineData("score", "in.jsonl", "--output", "out", "--threshold", "contradiction_max")]
    [InlineData("bench", "--sweep-sessions", "1,two")]
    [InlineData("emit", "slurm", "--tasks", "few", "--", "in", "--output", "out")]
    public void A_value_the_command_cannot_parse_is_a_usage_error(params string[] arguments)
    {
        using var scratch = new ScratchFolder("usage");
        var result = Cli.Run(arguments, workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));
    }

    [Fact]
    public void No_command_at_all_is_a_usage_error()
    {
        var result = Cli.Run();
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
    }
}
