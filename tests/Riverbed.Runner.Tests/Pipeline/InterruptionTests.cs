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
        // Single-request batches make the first run slow enough to interrupt mid-shard; batching is not part of the
        // configuration, so the rerun may use the fast default.
        // With no grace the shard in flight is abandoned at once (the grace period itself is tested in Sharding/FaultTests).
        var info = Cli.StartInfo([.. Arguments(reference.Inputs, output), "--batch-tokens", "16", "--log-every", "1", "--grace", "0"]);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var committedA = false;
        var killed = false;
        var stdout = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            stdout.Add(line);
            committedA |= line.Contains("a.jsonl: 6 in", StringComparison.Ordinal);
            // At once when shard a commits: b (114 rows in single-request batches) is then just starting. Waiting for a
            // progress line as well (one a second) let b finish first on a fast run.
            if (!killed && committedA)
            {
                if (sigterm)
                {
                    using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                    kill.WaitForExit();
                }
                else
                {
                    process.Kill();
                }
                killed = true;
            }
        }
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
        var log = string.Join('\n', stdout) + "\n" + stderr.GetAwaiter().GetResult();
        Assert.True(killed, "the run ended before it could be interrupted:\n" + log);
        if (sigterm)
        {
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

    private static string[] Arguments(string inputs, string output) =>
        ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--limit", Limit];
}
