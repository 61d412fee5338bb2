using System.Diagnostics;
using System.Globalization;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// Checklist A1 and C7 for scoring: a run killed (SIGKILL) or stopped (SIGTERM) in the middle of a shard leaves the
/// shards it committed complete and nothing final-named of the shard in progress; the same command then finishes the
/// job, with the same bytes as a run that was never interrupted.
/// </summary>
[Trait("Category", "Process")]
public sealed partial class InterruptionTests(InterruptionTests.Reference reference) : IClassFixture<InterruptionTests.Reference>
{
    private const string Limit = "120";

    /// <summary>Two shards (a small one that commits first, then the joke set) and their uninterrupted scoring.</summary>
    public sealed class Reference : IDisposable
    {
        private readonly ScratchFolder _scratch = new("interrupt-reference");

        public Reference()
        {
            Inputs = _scratch.File("in");
            Directory.CreateDirectory(Inputs);
            File.WriteAllLines(Path.Combine(Inputs, "a.jsonl"), File.ReadLines(PipelineModels.Jokes).Take(6));
            File.Copy(PipelineModels.Jokes, Path.Combine(Inputs, "b.jsonl"));
            var output = _scratch.File("out");
            var result = Cli.Run(Arguments(Inputs, output));
            Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
            HashA = Sha256(Path.Combine(output, "a.parquet"));
            HashB = Sha256(Path.Combine(output, "b.parquet"));
        }

        public string Inputs { get; }

        public string HashA { get; }

        public string HashB { get; }

        public void Dispose() => _scratch.Dispose();
    }

    [Fact]
    public void A_killed_run_leaves_no_partial_shard_and_the_rerun_completes_it_identically() => Interrupt(sigterm: false);

    [Fact]
    public void SIGTERM_stops_cleanly_with_the_interrupted_exit_code_and_the_rerun_completes_the_job() => Interrupt(sigterm: true);

    private void Interrupt(bool sigterm)
    {
        using var scratch = new ScratchFolder("interrupt");
        var output = scratch.File("out");
        var release = scratch.File("release");
        // The interruption lands mid-shard by construction, not by racing the run: the writer of b stops just before
        // row 60 (test hook; rows 0-59 are in its temporaries, a is committed) and stays there until the test releases
        // it, which it does only after the kill, or, for SIGTERM, after the worker has said it abandons the shard in
        // flight. Nothing waits on a clock except the hang guards, so the outcome is the same however slow the machine.
        // With no grace the shard in flight is abandoned at once (the grace period itself is tested in Sharding/FaultTests).
        var holding = new Dictionary<string, string?>
        {
            ["RIVERBED_FAULT_HOLD_SHARD"] = "b",
            ["RIVERBED_FAULT_HOLD_ROW"] = "60",
            ["RIVERBED_FAULT_HOLD_UNTIL"] = release,
        };
        var info = Cli.StartInfo([.. Arguments(reference.Inputs, output), "--grace", "0"], environment: holding);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new List<string>();
        WaitForFile(release + ".held", process);
        Assert.True(File.Exists(Path.Combine(output, "a.manifest.json")), "a is committed before b begins");
        Assert.NotEmpty(Directory.EnumerateFiles(output, ".b.*.tmp", SearchOption.AllDirectories));
        if (sigterm)
        {
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }
            while (process.StandardError.ReadLine() is { } line)
            {
                stderr.Add(line);
                if (line.Contains("abandoning the shard in flight", StringComparison.Ordinal))
                {
                    File.WriteAllText(release, string.Empty);
                    break;
                }
            }
        }
        else
        {
            process.Kill();
        }
        stderr.Add(process.StandardError.ReadToEnd());
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)));
        var log = stdout.GetAwaiter().GetResult() + "\n" + string.Join('\n', stderr);
        if (sigterm)
        {
            Assert.True(File.Exists(release), "the worker never said it abandoned the shard in flight:\n" + log);
            Assert.True(process.ExitCode == ExitCodes.Interrupted, log);
            Assert.Contains("SIGTERM received", log, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
        }
        else
        {
            Assert.Equal(137, process.ExitCode);
        }
        Assert.True(File.Exists(Path.Combine(output, "a.manifest.json")), log);
        Assert.False(File.Exists(Path.Combine(output, "b.parquet")), log);
        Assert.False(File.Exists(Path.Combine(output, "b.manifest.json")), log);
        Assert.False(File.Exists(Path.Combine(output, "b.stats.json")), log);

        var rerun = Cli.Run(Arguments(reference.Inputs, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("a.jsonl: skipped, already complete", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(reference.HashA, Sha256(Path.Combine(output, "a.parquet")));
        Assert.Equal(reference.HashB, Sha256(Path.Combine(output, "b.parquet")));
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    /// <summary>Waits until the test hook's file exists (the wait only guards against a hang; the process must not end first).</summary>
    private static void WaitForFile(string path, Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (!File.Exists(path))
        {
            Assert.False(process.HasExited, $"the run ended (exit {(process.HasExited ? process.ExitCode : 0)}) before it reached the test hook");
            Assert.True(DateTime.UtcNow < deadline, "the run did not reach the test hook within 3 minutes");
            Thread.Sleep(20);
        }
    }

    private static string[] Arguments(string inputs, string output) =>
        ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--limit", Limit];
}
