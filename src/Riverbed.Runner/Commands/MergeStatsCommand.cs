using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Riverbed.Pipeline;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed merge-stats OUT</c>: stats.json (and run.json) for a job spread over ranks. The truth is the per-shard
/// statistics of every complete shard ({base}.stats.json, committed with the shard and checked against its manifest):
/// an attempt that was killed or failed left no committed statistics, and a redone shard's replace the old ones, so a
/// merge never counts a previous attempt twice, and running it again gives the same bytes. The ranks' own files
/// (stats/rank-R-of-W.json) are cross-checked against the shards they own and summarised. Exit 0 when every shard of
/// the job is complete, <see cref="ExitCodes.Incomplete"/> (naming the shards) when some are not.
/// </summary>
internal static class MergeStatsCommand
{
    public static Command Create()
    {
        var output = new Argument<string>("output") { Description = "The output folder of a `riverbed score` job (one or many ranks)" };
        var command = new Command("merge-stats",
            "Merge the statistics of every complete shard of an output folder into stats.json (exactly, idempotently) and the ranks' run " +
            "records into run.json; exit 4 naming the shards that are not complete.");
        command.Arguments.Add(output);
        CommandAction.Set(command, parse =>
        {
            var merge = JobStatistics.Merge(parse.GetValue(output)!);
            var folder = merge.Status.OutputFolder;
            RunRecord.WriteAtomically(Path.Combine(folder, "stats.json"), merge.Total.ToJson());
            var runs = merge.WriteRunRecord();
            Print(merge, runs);
            return merge.Status.AllComplete ? ExitCodes.Success : ExitCodes.Incomplete;
        });
        return command;
    }

    private static void Print(JobStatistics merge, int runs)
    {
        var status = merge.Status;
        var total = merge.Total;
        var complete = status.Count(ShardProgress.Complete);
        Console.Out.WriteLine($"riverbed merge-stats: {status.OutputFolder}");
        Console.Out.WriteLine(Invariant(
            $"merged {complete} complete shard(s) of {status.Shards.Count}: {total.RowsIn:N0} in, {total.RowsOut:N0} out ({total.Kept:N0} kept, {total.Removed:N0} removed), {total.RowsRejected:N0} rejected, {total.RowsFailed:N0} failed -> stats.json"));
        foreach (var line in merge.RankChecks)
        {
            Console.Out.WriteLine("  " + line);
        }
        if (runs > 0)
        {
            Console.Out.WriteLine(Invariant($"run.json: the job as {runs} rank run record(s) in runs/ describe it"));
        }
        var incomplete = status.Incomplete;
        if (incomplete.Count > 0)
        {
            Console.Out.WriteLine(Invariant($"incomplete: {incomplete.Count} shard(s) are not in stats.json yet:"));
            foreach (var report in incomplete.Take(50))
            {
                Console.Out.WriteLine($"  {StatusCommand.Word(report.Progress),-8}  {report.Shard.Name}  {report.Reason}");
            }
            if (incomplete.Count > 50)
            {
                Console.Out.WriteLine(Invariant($"  … and {incomplete.Count - 50} more (see `riverbed status {status.OutputFolder}`)"));
            }
            Console.Out.WriteLine("rerun the job's `riverbed score` command (or `riverbed emit slurm|k8s`) to finish them, then merge-stats again");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The merged statistics of a job's output folder, and what the ranks' own files say about them.</summary>
    internal sealed class JobStatistics
    {
        private JobStatistics(JobStatus status, ScoreStatistics total, IReadOnlyList<string> rankChecks)
        {
            Status = status;
            Total = total;
            RankChecks = rankChecks;
        }

        public JobStatus Status { get; }

        public ScoreStatistics Total { get; }

        /// <summary>One line per rank statistics file: agrees, differs (and why that is harmless), or not checked.</summary>
        public IReadOnlyList<string> RankChecks { get; }

        public static JobStatistics Merge(string outputFolder)
        {
            var status = JobStatus.Scan(outputFolder);
            var perShard = new ScoreStatistics?[status.Shards.Count];
            for (var i = 0; i < status.Shards.Count; i++)
            {
                var report = status.Shards[i];
                if (report.Progress != ShardProgress.Complete || report.Manifest is not { } manifest)
                {
                    continue;
                }
                perShard[i] = ScoringPipeline.LoadStatistics(manifest, status.OutputFolder)
                    ?? throw new RiverbedException(
                        $"{Path.Combine(status.OutputFolder, report.Shard.BaseName)}.manifest.json lists no {ScoreRunOptions.StatsAttachment}: the shard was not written by `riverbed score`");
            }
            var total = Sum(perShard.OfType<ScoreStatistics>());
            return new JobStatistics(status, total, CheckRanks(status, perShard));
        }

        private static ScoreStatistics Sum(IEnumerable<ScoreStatistics> shards)
        {
            var total = new ScoreStatistics();
            foreach (var shard in shards)
            {
                total.Merge(shard);
            }
            return total;
        }

        private static List<string> CheckRanks(JobStatus status, ScoreStatistics?[] perShard)
        {
            var lines = new List<string>();
            var folder = Path.Combine(status.OutputFolder, "stats");
            if (!Directory.Exists(folder))
            {
                return lines;
            }
            foreach (var path in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (name.StartsWith('.'))
                {
                    continue;
                }
                ScoreStatistics written;
                try
                {
                    written = ScoreStatistics.Load(path);
                }
                catch (RiverbedException error)
                {
                    lines.Add($"stats/{name}: unreadable ({error.Message}); not used");
                    continue;
                }
                var summary = Invariant($"{written.Shards} shard(s), {written.RowsIn:N0} in");
                if (ParseRankName(name) is not var (rank, world))
                {
                    lines.Add($"stats/{name}: {summary} (a pinned shard list's rank; not cross-checked: stats.json comes from the shards)");
                    continue;
                }
                if (status.Record.WorldSize != world)
                {
                    lines.Add(Invariant($"stats/{name}: {summary}, from a job over {world} rank(s) (now {status.Record.WorldSize?.ToString(CultureInfo.InvariantCulture) ?? "?"}); not used"));
                    continue;
                }
                var expected = Sum(perShard.Where((_, index) => status.Record.RankOf(index) == rank).OfType<ScoreStatistics>());
                lines.Add(expected.ToJson().AsSpan().SequenceEqual(written.ToJson())
                    ? $"stats/{name}: {summary}, agrees with its shards"
                    : Invariant($"stats/{name}: {summary}, but its complete shards now hold {expected.Shards} shard(s), {expected.RowsIn:N0} in") +
                        " (it was written before a later attempt, or while some of its shards were incomplete); stats.json uses the shards");
            }
            return lines;
        }

        private static (int Rank, int World)? ParseRankName(string name)
        {
            // rank-{R}-of-{W}.json
            var parts = Path.GetFileNameWithoutExtension(name).Split('-');
            return parts.Length == 4 && parts[0] == "rank" && parts[2] == "of"
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var rank)
                && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var world) && world > 0
                ? (rank, world)
                : null;
        }

        /// <summary>
        /// When ranks left run records (runs/*.json), writes run.json describing the job: the configuration every rank
        /// ran (the job record guarantees they agree), the inputs of the whole job, shard counts summed, wall time from the
        /// first start to the last finish, and one entry per rank. Returns how many rank records it used (0: run.json is
        /// left as a single-process run wrote it).
        /// </summary>
        public int WriteRunRecord()
        {
            var folder = Path.Combine(Status.OutputFolder, "runs");
            if (!Directory.Exists(folder))
            {
                return 0;
            }
            var records = new List<(string Name, RunRecordDocument Record)>();
            foreach (var path in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (name.StartsWith('.'))
                {
                    continue;
                }
                try
                {
                    var record = RunRecordDocument.Parse(File.ReadAllBytes(path));
                    if (record.ConfigHash == Status.Record.ConfigHash)
                    {
                        records.Add((name, record));
                    }
                }
                catch (Exception error) when (error is JsonException or IOException)
                {
                    throw new RiverbedException($"{path}: not a readable rank run record ({error.Message}); delete it or let its rank run again", error);
                }
            }
            if (records.Count == 0)
            {
                return 0;
            }
            try
            {
                var job = RunRecordDocument.ForJob(records, [.. Status.Record.Shards.Select(shard => shard.Path)], Status.Record.WorldSize,
                    Status.Shards.Count, Status.Count(ShardProgress.Complete));
                RunRecord.WriteAtomically(Path.Combine(Status.OutputFolder, "run.json"), job.ToFile());
            }
            catch (JsonException error)
            {
                throw new RiverbedException($"{Path.Combine(Status.OutputFolder, "runs")}: the rank run records cannot be merged ({error.Message})", error);
            }
            return records.Count;
        }
    }
}
