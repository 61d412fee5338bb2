using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Riverbed.Runner.Tests.Pipeline;
using Riverbed.Sharding;

namespace Riverbed.Runner.Tests.Sharding;

/// <summary>
/// Work units through the CLI: one big file shared by three ranks gives, unit for unit, the bytes one process gives, and
/// its units' outputs concatenated are the bytes of scoring the file whole; a SIGTERM loses at most the unit each rank
/// had in flight, and the rerun finishes with the same bytes; folders of the previous layout are read, and refused
/// for scoring.
/// </summary>
[Trait("Category", "Process")]
public sealed class WorkUnitCommandTests(WorkUnitCommandTests.BigFile big) : IClassFixture<WorkUnitCommandTests.BigFile>
{
    private const string UnitSize = "64KB";

    /// <summary>A file of about 0.6 MB (the joke set four times, with a broken line now and then), scored by one process in 64 KB units.</summary>
    public sealed class BigFile : IDisposable
    {
        private readonly ScratchFolder _scratch = new("units-cli");

        public BigFile()
        {
            Inputs = _scratch.File("in");
            Directory.CreateDirectory(Inputs);
            var lines = File.ReadAllLines(PipelineModels.Jokes);
            var text = new StringBuilder();
            for (var copy = 0; copy < 4; copy++)
            {
                for (var i = 0; i < lines.Length; i++)
                {
                    text.Append(i % 97 == 13 ? "{\"broken\": \n" : lines[i] + (i % 2 == 0 ? "\r\n" : "\n"));
                }
            }
            File.WriteAllText(Path.Combine(Inputs, "big.jsonl"), text.ToString().TrimEnd('\n'));
            File.WriteAllLines(Path.Combine(Inputs, "small.jsonl"), lines.Take(5));
            OneProcess = _scratch.File("one");
            var run = Cli.Run(Score(Inputs, OneProcess));
            Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
            OneProcessLog = run.StandardOutput;
        }

        public string Inputs { get; }

        public string OneProcess { get; }

        public string OneProcessLog { get; }

        public void Dispose() => _scratch.Dispose();
    }

    [Fact]
    public async Task Three_ranks_share_the_big_file_unit_for_unit_byte_identical_to_one_process_and_to_scoring_it_whole()
    {
        using var scratch = new ScratchFolder("units-w3");
        var three = scratch.File("three");
        var ranks = Enumerable.Range(0, 3).Select(rank => Task.Run(() => Cli.Run([.. Score(big.Inputs, three), "--rank", Invariant(rank), "--world-size", "3"]))).ToArray();
        var results = await Task.WhenAll(ranks);
        Assert.All(results, rank => Assert.True(rank.ExitCode == ExitCodes.Success, rank.ToString()));

        var units = UnitFiles(big.OneProcess, ".jsonl");
        Assert.True(units.Count >= 8, $"{units.Count} unit(s): {big.OneProcessLog}");
        Assert.Equal(units, UnitFiles(three, ".jsonl"));
        foreach (var name in Directory.EnumerateFiles(big.OneProcess).Select(Path.GetFileName).Where(name => name!.StartsWith("big.", StringComparison.Ordinal)
            && !name.EndsWith(".manifest.json", StringComparison.Ordinal)))
        {
            Assert.True(Bytes(big.OneProcess, name!).AsSpan().SequenceEqual(Bytes(three, name!)), $"{name} differs between W=1 and W=3");
        }
        Assert.All(results, rank => Assert.Contains("work unit(s)", rank.StandardOutput, StringComparison.Ordinal));

        // The whole file in one unit: the units' rows and rejects, concatenated in unit order, are its bytes.
        var whole = scratch.File("whole");
        var run = Cli.Run([.. Score(big.Inputs, whole)[..^2], "--unit-size", "1GB"]);
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal(Bytes(whole, "big.jsonl"), Concatenate(big.OneProcess, units.Where(IsRows)));
        Assert.Equal(Bytes(whole, "big.rejects.jsonl"), Concatenate(big.OneProcess, UnitFiles(big.OneProcess, ".rejects.jsonl")));
        Assert.Contains("\"line\":14,", Encoding.UTF8.GetString(Bytes(whole, "big.rejects.jsonl")), StringComparison.Ordinal);

        var merge = Cli.Run("merge-stats", three);
        Assert.True(merge.ExitCode == ExitCodes.Success, merge.ToString());
        Assert.Contains("agrees with its shards", merge.StandardOutput, StringComparison.Ordinal);
        var status = Cli.Run("status", three);
        Assert.True(status.ExitCode == ExitCodes.Success, status.ToString());
        Assert.Contains($"units: 2 file(s) in {units.Count(IsRows) + 1} work unit(s) of up to {UnitSize}, dealt by size; input bytes per rank: 0: ", status.StandardOutput, StringComparison.Ordinal);
        // The tools that read a scored folder take its units as shards: filter keeps every row once, report samples them.
        var filtered = Cli.Run("filter", three, "--output", scratch.File("filtered"), "--format", "jsonl");
        Assert.True(filtered.ExitCode == ExitCodes.Success, filtered.ToString());
        Assert.Equal(RowCount(three, SearchOption.TopDirectoryOnly), RowCount(scratch.File("filtered"), SearchOption.AllDirectories));
        var report = Cli.Run("report", three);
        Assert.True(report.ExitCode == ExitCodes.Success, report.ToString());

        var perRank = JobRecord.TryLoad(three)!.Shards.GroupBy(shard => shard.Rank).Select(group => group.Sum(shard => shard.Bytes)).ToList();
        Assert.Equal(3, perRank.Count);
        Assert.True(perRank.Max() <= perRank.Min() * 1.2, string.Join(", ", perRank));
    }

    [Fact]
    public async Task A_SIGTERM_loses_at_most_the_unit_each_rank_had_in_flight_and_the_rerun_finishes_with_the_same_bytes()
    {
        using var scratch = new ScratchFolder("units-stop");
        var output = scratch.File("out");
        var processes = new List<(Process Process, Task<string> Stderr, List<string> Stdout, Task Reading)>();
        for (var rank = 0; rank < 2; rank++)
        {
            // Single-request batches make a unit take long enough to stop in the middle; with no grace the unit in flight is abandoned.
            var info = Cli.StartInfo([.. Score(big.Inputs, output), "--rank", Invariant(rank), "--world-size", "2", "--batch-tokens", "16", "--grace", "0"]);
            var process = Process.Start(info)!;
            var stdout = new List<string>();
            var stderr = process.StandardError.ReadToEndAsync();
            var reading = Task.Run(() =>
            {
                var stopped = false;
                while (process.StandardOutput.ReadLine() is { } line)
                {
                    lock (stdout)
                    {
                        stdout.Add(line);
                    }
                    // Stopped once its first unit of the big file is committed: the next one is then in flight.
                    if (!stopped && line.Contains("big.jsonl (unit ", StringComparison.Ordinal) && line.Contains(" in, ", StringComparison.Ordinal))
                    {
                        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
                        kill.WaitForExit();
                        stopped = true;
                    }
                }
            });
            processes.Add((process, stderr, stdout, reading));
        }
        var committed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (process, stderr, stdout, reading) in processes)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)));
            await reading;
            var log = string.Join('\n', stdout) + "\n" + await stderr;
            Assert.True(process.ExitCode == ExitCodes.Interrupted, log);
            var done = stdout.Where(line => line.Contains(" in, ", StringComparison.Ordinal) && line.Contains("(unit ", StringComparison.Ordinal)).ToList();
            Assert.True(done.Count >= 1, log);
            committed.UnionWith(done.Select(line => line.Trim().Split(':')[0]));
            process.Dispose();
        }
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
        var status = JobStatus.Scan(output);
        var complete = status.Shards.Where(shard => shard.Progress == ShardProgress.Complete).Select(shard => shard.Shard.Name).ToList();
        // Everything a rank reported committed is complete on disk; nothing else of the big file is.
        Assert.Equal(committed.Count, complete.Count(name => name.StartsWith("big.u", StringComparison.Ordinal)));
        Assert.Empty(status.LeftoverTemporaries);

        var reruns = Enumerable.Range(0, 2).Select(rank => Cli.Run([.. Score(big.Inputs, output), "--rank", Invariant(rank), "--world-size", "2"])).ToList();
        Assert.All(reruns, rerun => Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString()));
        var skipped = reruns.Sum(rerun => rerun.StandardOutput.Split('\n').Count(line => line.Contains("big.jsonl (unit ", StringComparison.Ordinal)
            && line.Contains("skipped, already complete", StringComparison.Ordinal)));
        Assert.Equal(committed.Count, skipped);
        foreach (var name in UnitFiles(big.OneProcess, ".jsonl"))
        {
            Assert.True(Bytes(big.OneProcess, name).AsSpan().SequenceEqual(Bytes(output, name)), $"{name} differs after the stop and rerun");
        }
    }

    [Fact]
    public async Task A_Parquet_file_is_split_by_row_groups_and_its_units_give_the_bytes_of_scoring_it_whole()
    {
        // 2,000 Alpaca rows in 8 row groups of about 59 KB: 120 KB units hold two row groups each.
        using var scratch = new ScratchFolder("units-parquet");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.Copy(TestPaths.Fixture("parquet", "alpaca_flat_8rowgroups.snappy.parquet"), Path.Combine(inputs, "alpaca.parquet"));
        string[] Parquet(string output, string unitSize) =>
            ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", "--unit-size", unitSize];

        var whole = scratch.File("whole");
        var run = Cli.Run(Parquet(whole, "1GB"));
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var split = scratch.File("split");
        var ranks = await Task.WhenAll(Enumerable.Range(0, 2).Select(rank => Task.Run(() =>
            Cli.Run([.. Parquet(split, "120KB"), "--rank", Invariant(rank), "--world-size", "2"]))));
        Assert.All(ranks, rank => Assert.True(rank.ExitCode == ExitCodes.Success, rank.ToString()));

        var units = Directory.EnumerateFiles(split, "alpaca.u*.jsonl").Select(path => Path.GetFileName(path)!)
            .Where(name => name.Count(c => c == '.') == 2).Order(StringComparer.Ordinal).ToList();
        Assert.True(units.Count >= 3, string.Join(", ", units) + "\n" + ranks[0]);
        Assert.Equal(Bytes(whole, "alpaca.jsonl"), Concatenate(split, units));
        // Rows keep their place in the whole file: the second unit starts where the first one ended.
        static long Row(string line) => JsonDocument.Parse(line).RootElement.GetProperty("riverbed_row").GetInt64();
        var lastOfFirst = Row(File.ReadLines(Path.Combine(split, units[0])).Last());
        Assert.Equal(lastOfFirst + 1, Row(File.ReadLines(Path.Combine(split, units[1])).First()));
        var status = Cli.Run("status", split);
        Assert.True(status.ExitCode == ExitCodes.Success, status.ToString());
        Assert.Contains($"summary: {units.Count} complete", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_of_the_previous_layout_is_read_by_status_and_refused_for_scoring_with_what_to_do()
    {
        using var scratch = new ScratchFolder("units-old");
        var output = scratch.File("old");
        var small = Path.Combine(big.Inputs, "small.jsonl");
        var run = Cli.Run(Score(small, output));
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        // What an earlier Riverbed wrote: the same shard, recorded as riverbed-assignment/1 (whole files, round-robin).
        var record = JobRecord.TryLoad(output)!;
        File.WriteAllText(JobRecord.PathIn(output),
            "{\"format\": \"riverbed-assignment/1\", \"world_size\": 1, \"shard_list_sha256\": \"" + record.ShardListSha256 + "\", \"config_hash\": \"" + record.ConfigHash +
            "\", \"assignment\": \"shard i (in this order) goes to rank i mod world_size\", \"shards\": [{\"name\": \"small.jsonl\", \"base\": \"small\", \"path\": \"" + small +
            "\"}], \"created_utc\": \"2026-01-01T00:00:00.0000000Z\"}\n");

        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Success, status.ToString());
        Assert.Contains("layout: an output folder of an earlier Riverbed", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("summary: 1 complete", status.StandardOutput, StringComparison.Ordinal);

        var again = Cli.Run(Score(small, output));
        Assert.NotEqual(ExitCodes.Success, again.ExitCode);
        Assert.Contains("written by an earlier Riverbed that gave each rank whole files round-robin", again.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", again.StandardError, StringComparison.Ordinal);

        var forced = Cli.Run([.. Score(small, output), "--force-reassign"]);
        Assert.True(forced.ExitCode == ExitCodes.Success, forced.ToString());
        Assert.Contains("small.jsonl: skipped, already complete", forced.StandardOutput, StringComparison.Ordinal);
    }

    private static string[] Score(string inputs, string output) =>
        ["score", inputs, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", "--unit-size", UnitSize];

    /// <summary>The big file's unit outputs with this suffix, in name order (which is unit order).</summary>
    private static List<string> UnitFiles(string folder, string suffix) =>
        [.. Directory.EnumerateFiles(folder, "big.u*" + suffix).Select(path => Path.GetFileName(path)!)
            .Where(name => suffix != ".jsonl" || IsRows(name) || name.EndsWith(".rejects.jsonl", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    private static bool IsRows(string name) => name.Count(c => c == '.') == 2;

    /// <summary>Scored rows in a folder's JSON Lines outputs (rejects and failures files left out).</summary>
    private static int RowCount(string folder, SearchOption search) =>
        Directory.EnumerateFiles(folder, "*.jsonl", search)
            .Where(path => !path.EndsWith(".rejects.jsonl", StringComparison.Ordinal) && !path.EndsWith(".failures.jsonl", StringComparison.Ordinal))
            .Sum(path => File.ReadLines(path).Count());

    private static byte[] Bytes(string folder, string name) => File.ReadAllBytes(Path.Combine(folder, name));

    private static byte[] Concatenate(string folder, IEnumerable<string> names) => [.. names.SelectMany(name => Bytes(folder, name))];

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
