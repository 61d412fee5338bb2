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

/// <summary>The core's source spells no flag of the CLI: it names settings, and the CLI spells them.</summary>
public sealed partial class CoreSpeaksInOptionsTests
{
    // The emitted Slurm script and Kubernetes Job are command lines for schedulers and for riverbed itself: writing
    // flags is what they are for (their own messages still name settings, which review keeps true).
    private static readonly string[] EmittedSpecs = ["SlurmScript.cs", "KubernetesJob.cs"];

    [Fact]
    public void No_string_in_the_core_spells_a_flag_of_the_cli()
    {
        var flags = SettingFlags.AllFlags().Where(flag => flag.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var core = Path.Combine(TestPaths.RepositoryRoot, "src", "Riverbed.Core");
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !EmittedSpecs.Contains(Path.GetFileName(path))))
        {
            var number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                var code = line.TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal))
                {
                    continue; // Comments may explain what a user types.
                }
                foreach (System.Text.RegularExpressions.Match flag in FlagPattern().Matches(StringsOf(code)))
                {
                    if (flags.Contains(flag.Value))
                    {
                        found.Add($"{Path.GetRelativePath(core, file)}:{number}: {flag.Value}");
                    }
                }
            }
        }
        Assert.True(found.Count == 0, "flags spelled in the core (name a Setting instead):\n" + string.Join('\n', found));
    }

    [Fact]
    public void The_scan_sees_a_flag_inside_a_string_and_not_in_code_or_comments()
    {
        Assert.Equal("\"over the limit (--max-line-bytes)\"", StringsOf("throw new X($\"over the limit (--max-line-bytes)\"); // --max-depth"));
        Assert.Empty(StringsOf("var a = b--; // --limit"));
    }

    /// <summary>The string literals of one line of C#, concatenated (a quote inside a string is written \" and kept).</summary>
    private static string StringsOf(string line)
    {
        var strings = new System.Text.StringBuilder();
        var inside = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (!inside && c == '/' && i + 1 < line.Length && line[i + 1] == '/')
            {
                break;
            }
            if (c == '"' && (i == 0 || line[i - 1] != '\\'))
            {
                inside = !inside;
                strings.Append(c);
                continue;
            }
            if (inside)
            {
                strings.Append(c);
            }
        }
        return strings.ToString();
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"--[a-z][a-z-]*\b(?!=)")]
    private static partial System.Text.RegularExpressions.Regex FlagPattern();
}
