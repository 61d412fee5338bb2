using System.Globalization;
using System.Text.Json;
using Riverbed.Pipeline;

namespace Riverbed.Sharding;

/// <summary>What <see cref="StatsMerger.Merge"/> found and wrote.</summary>
/// <param name="Status">Every unit of the job and where it stands.</param>
/// <param name="Total">The merge of every complete unit's statistics, as written to stats.json.</param>
/// <param name="RankChecks">One line per rank statistics file (stats/*.json): agrees with its units, differs (and why that is harmless), or not checked.</param>
/// <param name="RunRecords">How many rank run records (runs/*.json) run.json was made from; 0 leaves run.json as a single-process run wrote it.</param>
public sealed record MergedStatistics(JobStatus Status, ScoreStatistics Total, IReadOnlyList<string> RankChecks, int RunRecords);

/// <summary>
/// stats.json and run.json for a job spread over ranks. The truth is the per-unit statistics of every complete unit
/// ({base}.stats.json, committed with the unit and checked against its manifest): an attempt that was killed or failed
/// left no committed statistics, and a redone unit's replace the old ones, so a merge never counts a previous attempt
/// twice, and merging again gives the same bytes. The ranks' own files (stats/rank-R-of-W.json) are cross-checked
/// against the units they own and summarised; the ranks' run records (runs/*.json) make run.json.
/// </summary>
public static class StatsMerger
{
    /// <summary>Merges the job in <paramref name="outputFolder"/>, writing its stats.json and (when ranks left run records) run.json.</summary>
    public static MergedStatistics Merge(string outputFolder)
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
        var checks = CheckRanks(status, perShard);
        RunRecord.WriteAtomically(Path.Combine(status.OutputFolder, "stats.json"), total.ToJson());
        var runs = WriteRunRecord(status);
        return new MergedStatistics(status, total, checks, runs);
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
    private static int WriteRunRecord(JobStatus status)
    {
        var folder = Path.Combine(status.OutputFolder, "runs");
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
                if (record.ConfigHash == status.Record.ConfigHash)
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
            var job = RunRecordDocument.ForJob(records, [.. status.Record.Shards.Select(shard => shard.Path)], status.Record.WorldSize,
                status.Shards.Count, status.Count(ShardProgress.Complete));
            RunRecord.WriteAtomically(Path.Combine(status.OutputFolder, "run.json"), job.ToFile());
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{folder}: the rank run records cannot be merged ({error.Message})", error);
        }
        return records.Count;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
