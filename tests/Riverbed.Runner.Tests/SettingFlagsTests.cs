namespace Riverbed.Runner.Tests;

/// <summary>The core names settings; the CLI spells each as a flag that one of its commands really takes.</summary>
public sealed class SettingFlagsTests
{
    [Fact]
    public void Every_setting_the_core_can_name_is_spelled_as_a_flag_some_command_has()
    {
        var flags = SettingFlags.AllFlags().ToHashSet(StringComparer.Ordinal);
        foreach (var setting in Enum.GetValues<Setting>())
        {
            var flag = SettingFlags.Flag(setting);
            Assert.True(flags.Contains(flag), $"{setting} is spelled {flag}, which no command takes");
        }
    }

    [Fact]
    public void A_message_from_the_core_reads_with_the_flag_the_user_typed()
    {
        var error = Cli.Run("convert", Path.GetTempPath(), "--output", Path.Combine(Path.GetTempPath(), "riverbed-unused"), "--max-depth", "0");
        Assert.NotEqual(ExitCodes.Success, error.ExitCode);
        Assert.Contains("--max-depth must be between 1 and", error.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Setting.", error.StandardError, StringComparison.Ordinal);
    }
}
