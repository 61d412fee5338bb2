using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Riverbed.Runner.Tests.IO;

/// <summary>
/// The commit protocol under crashes (checklist A1, A2, A9): a writer killed at any phase leaves no final-named partial
/// output and no manifest, and the next run completes the shard with the same bytes as an uninterrupted run.
/// </summary>
[Trait("Category", "Process")]
public sealed class CommitProtocolTests(CommitProtocolTests.Reference reference) : IClassFixture<CommitProtocolTests.Reference>
{
    private const int KilledBySigkill = 137;

    /// <summary>One input and its uninterrupted conversion in each format, shared by the kill tests.</summary>
    public sealed class Reference : IDisposable
    {
        private readonly ScratchFolder _scratch = new("kill-reference");
        private readonly Dictionary<string, string> _hashes = [];

        public Reference()
        {
            Input = _scratch.File("shard.jsonl");
            WriteRows(Input, 1500);
        }

        public string Input { get; }

        public string HashOf(string format)
        {
            lock (_hashes)
            {
                if (!_hashes.TryGetValue(format, out var hash))
                {
                    var result = Cli.Run("convert", Input, "--output", _scratch.File(format), "--format", format);
                    Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
                    hash = Hash(Path.Combine(_scratch.File(format), $"shard.{format}"));
                    _hashes[format] = hash;
                }
                return hash;
            }
        }

        public void Dispose() => _scratch.Dispose();
    }

    [Theory]
    [InlineData("mid-write", "parquet")]
    [InlineData("before-fsync", "parquet")]
    [InlineData("before-rename", "parquet")]
    [InlineData("before-manifest", "parquet")]
    [InlineData("mid-manifest", "parquet")]
    [InlineData("mid-write", "jsonl")]
    [InlineData("before-rename", "jsonl")]
    [InlineData("mid-manifest", "jsonl")]
    public void A_writer_killed_at_any_commit_phase_leaves_an_incomplete_shard_that_the_next_run_completes(string phase, string format)
    {
        using var scratch = new ScratchFolder("kill");
        var input = reference.Input;
        var output = scratch.File("out");
        var killed = Cli.Run(["convert", input, "--output", output, "--format", format], environment: new Dictionary<string, string?> { ["RIVERBED_FAULT_KILL_AT"] = phase });
        Assert.True(killed.ExitCode == KilledBySigkill, killed.ToString());
        Assert.False(File.Exists(Path.Combine(output, "shard.manifest.json")));
        var finalData = Path.Combine(output, $"shard.{format}");
        if (phase is "before-manifest" or "mid-manifest")
        {
            // Renamed but never vouched for: it is complete data, yet without its manifest it does not count.
            Assert.True(File.Exists(finalData));
        }
        else
        {
            Assert.False(File.Exists(finalData));
        }

        var rerun = Cli.Run("convert", input, "--output", output, "--format", format);
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("1,500 in, 1,500 out", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(reference.HashOf(format), Hash(finalData));
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_writer_killed_from_outside_mid_shard_leaves_no_final_named_file_and_a_rerun_completes()
    {
        using var scratch = new ScratchFolder("kill");
        var input = scratch.File("big.jsonl");
        WriteRows(input, 20_000);
        var output = scratch.File("out");
        Directory.CreateDirectory(output);
        var release = scratch.File("release");
        // The kill lands mid-shard by construction, not by racing the conversion: the writer stops just before row
        // 10,000 (test hook; the rows before it are in its temporaries) and waits there for a release that never comes,
        // so the process is always killed with the shard half written, however fast or slow the machine.
        var holding = new Dictionary<string, string?>
        {
            ["RIVERBED_FAULT_HOLD_SHARD"] = "big",
            ["RIVERBED_FAULT_HOLD_ROW"] = "10000",
            ["RIVERBED_FAULT_HOLD_UNTIL"] = release,
        };
        using (var process = Process.Start(Cli.StartInfo(["convert", input, "--output", output], environment: holding))!)
        {
            var deadline = DateTime.UtcNow.AddMinutes(3); // a hang guard only
            while (!File.Exists(release + ".held"))
            {
                Assert.False(process.HasExited, "the conversion ended before it reached the test hook");
                Assert.True(DateTime.UtcNow < deadline, "the conversion did not reach the test hook within 3 minutes");
                Thread.Sleep(10);
            }
            Assert.NotEmpty(Directory.EnumerateFiles(output, "*.tmp"));
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(output, "big.parquet")));
        Assert.False(File.Exists(Path.Combine(output, "big.manifest.json")));

        var rerun = Cli.Run("convert", input, "--output", output);
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("20,000 in, 20,000 out", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    private static void WriteRows(string path, int rows)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        for (var i = 0; i < rows; i++)
        {
            writer.Write("{\"id\":\"row-");
            writer.Write(i);
            writer.Write("\",\"instruction\":\"Explain item ");
            writer.Write(i);
            writer.Write(" in a sentence, with é and 𝄞.\",\"input\":\"\",\"output\":\"Item ");
            writer.Write(i);
            writer.Write(" is an example of a record that Riverbed converts.\",\"score\":");
            writer.Write(i % 7);
            writer.Write("}\n");
        }
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
