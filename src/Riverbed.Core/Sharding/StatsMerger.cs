using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
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
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
        var records = new List<(string Name, JsonObject Json)>();
        foreach (var path in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.'))
            {
                continue;
            }
            try
            {
                if (JsonNode.Parse(File.ReadAllBytes(path)) is JsonObject json && json["config_hash"]?.GetValue<string>() == status.Record.ConfigHash)
                {
                    records.Add((name, json));
                }
            }
            catch (Exception error) when (error is JsonException or InvalidOperationException or IOException)
            {
                throw new RiverbedException($"{path}: not a readable rank run record ({error.Message}); delete it or let its rank run again", error);
            }
        }
        if (records.Count == 0)
        {
            return 0;
        }
        var started = records.Select(r => Time(r.Json, "started_utc")).Min();
        var finished = records.Select(r => Time(r.Json, "finished_utc")).Max();
        var latest = records.OrderBy(r => Time(r.Json, "finished_utc")).Last().Json;
        var job = (JsonObject)latest.DeepClone();
        job["started_utc"] = started.ToString("O", CultureInfo.InvariantCulture);
        job["finished_utc"] = finished.ToString("O", CultureInfo.InvariantCulture);
        job["inputs"] = new JsonArray([.. status.Record.Shards.Select(shard => (JsonNode?)JsonValue.Create(shard.Path))]);
        job.Remove("rank");
        job.Remove("batching");
        job["world_size"] = status.Record.WorldSize;
        job["shards"] = new JsonObject
        {
            ["total"] = status.Shards.Count,
            ["complete"] = status.Count(ShardProgress.Complete),
            ["committed"] = records.Sum(r => Long(r.Json, "shards", "committed")),
            ["skipped"] = records.Sum(r => Long(r.Json, "shards", "skipped")),
            ["failed"] = records.Sum(r => Long(r.Json, "shards", "failed")),
        };
        var wall = Math.Max(0, (finished - started).TotalSeconds);
        var examples = records.Sum(r => Long(r.Json, "throughput", "examples"));
        job["throughput"] = new JsonObject
        {
            ["wall_seconds"] = Math.Round(wall, 3),
            ["examples"] = examples,
            ["examples_per_second"] = wall > 0 ? Math.Round(examples / wall, 3) : 0,
        };
        job["ranks"] = new JsonArray([.. records.Select(r => (JsonNode?)new JsonObject
        {
            ["record"] = "runs/" + r.Name,
            ["rank"] = r.Json["rank"]?.DeepClone(),
            ["world_size"] = r.Json["world_size"]?.DeepClone(),
            ["started_utc"] = r.Json["started_utc"]?.DeepClone(),
            ["finished_utc"] = r.Json["finished_utc"]?.DeepClone(),
            ["shards"] = r.Json["shards"]?.DeepClone(),
            ["throughput"] = r.Json["throughput"]?.DeepClone(),
        })]);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            job.WriteTo(writer);
        }
        buffer.WriteByte((byte)'\n');
        RunRecord.WriteAtomically(Path.Combine(status.OutputFolder, "run.json"), buffer.ToArray());
        return records.Count;
    }

    private static DateTime Time(JsonObject json, string name) =>
        DateTime.Parse(json[name]?.GetValue<string>() ?? throw new InvalidOperationException($"no {name}"), CultureInfo.InvariantCulture,
            DateTimeStyles.RoundtripKind);

    private static long Long(JsonObject json, string block, string name) => json[block]?[name]?.GetValue<long>() ?? 0;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
