namespace Riverbed.Runner.Tests;

public sealed class HelpTests
{
    [Fact]
    public void Help_lists_the_commands_and_exits_zero()
    {
        var result = Cli.Run("--help");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("models", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_command_is_a_usage_error()
    {
        var result = Cli.Run("no-such-command");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("no-such-command", result.AllOutput, StringComparison.Ordinal);
    }
}
