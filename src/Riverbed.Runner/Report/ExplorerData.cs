using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>What the explorer embeds and how much.</summary>
internal sealed record ExplorerOptions
{
    /// <summary>Rows embedded at most; a run with more embeds a seeded sample of this many (the page says so).</summary>
    public int MaxRows { get; init; } = 50_000;

    /// <summary>A dataset column whose values the explorer counts kept/removed by (report --group-by); null: none.</summary>
    public string? GroupBy { get; init; }

    /// <summary>Distinct values of the group-by column shown one by one; rarer ones are counted together.</summary>
    public int MaxGroups { get; init; } = 60;

    /// <summary>Examples per score drawn at evenly spaced ranks, so the page can show examples either side of any threshold.</summary>
    public int PoolPerScore { get; init; } = 12;
}

/// <summary>The rows the explorer decides on: every score of every embedded row, its source and its group.</summary>
internal sealed class ExplorerData
{
    public const string OtherGroup = "(other values)";
    public const string MissingGroup = "(null)";

    /// <summary>Rows in the committed shards.</summary>
    public required long TotalRows { get; init; }

    /// <summary>Rows embedded (all of them, or the sample).</summary>
    public required int Rows { get; init; }

    public bool IsSample => Rows < TotalRows;

    /// <summary>Per score, one value per embedded row; NaN where the row has none (a missing score never triggers).</summary>
    public required IReadOnlyDictionary<string, double[]> Values { get; init; }

    public required IReadOnlyList<string> Sources { get; init; }

    /// <summary>Rows in the committed shards per source (index as <see cref="Sources"/>), sampled or not.</summary>
    public required IReadOnlyList<long> SourceTotals { get; init; }

    public required int[] SourceIndex { get; init; }

    public string? GroupColumn { get; init; }

    public IReadOnlyList<string> Groups { get; init; } = [];

    public int[] GroupIndex { get; init; } = [];

    /// <summary>Examples drawn at evenly spaced ranks of each score (for "either side of the threshold").</summary>
    public required IReadOnlyList<ScoredExample> Pool { get; init; }

    /// <summary>
    /// Reads the score columns of every committed row (or, above the limit, of the rows with the smallest
    /// md5(seed ‖ id): the same sample every time), and full rows for the example pool.
    /// </summary>
    public static ExplorerData Gather(ScoredRun run, ExplorerOptions options, string seed, CancellationToken cancellationToken = default)
    {
        var files = run.DataFiles.ToList();
        if (files.Count == 0)
        {
            return new ExplorerData
            {
                TotalRows = 0, Rows = 0, Values = ReportColumns.Scores.ToDictionary(s => s, _ => Array.Empty<double>(), StringComparer.Ordinal),
                Sources = [], SourceTotals = [], SourceIndex = [], Pool = [], GroupColumn = options.GroupBy,
            };
        }
        try
        {
            using var query = ShardQuery.Open(threads: Math.Clamp(Environment.ProcessorCount, 1, 16));
            var scan = ReportSampler.Scan(query, files, run, options.GroupBy);
            var file = ShardQuery.Identifier(ShardQuery.FileColumn);

            var sources = new List<string>();
            var sourceTotals = new List<long>();
            long total = 0;
            using (var counts = query.Run($"SELECT coalesce(riverbed_source, ''), count(*) FROM {scan} GROUP BY ALL ORDER BY 1"))
            {
                foreach (var row in counts.Rows(cancellationToken))
                {
                    sources.Add(row[0].AsString());
                    sourceTotals.Add(row[1].AsInt64());
                    total += row[1].AsInt64();
                }
            }
            var sourceLookup = sources.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);

            var scoreColumns = string.Join(", ", ReportColumns.Scores.Select(score => ShardQuery.Identifier(ReportColumns.ScoreColumn(score))));
            var group = options.GroupBy is null ? "NULL::VARCHAR" : ShardQuery.Identifier(ReportSampler.GroupColumn);
            // Above the limit, the rows with the smallest hash of their id: a sample that does not depend on shard order
            // or thread count. Ties (repeated ids) are broken by file and row.
            var order = total > options.MaxRows
                ? $"ORDER BY md5_number({ShardQuery.Literal(seed + "\u001f")} || coalesce(riverbed_id, '')), {file}, riverbed_row LIMIT {options.MaxRows.ToString(CultureInfo.InvariantCulture)}"
                : $"ORDER BY {file}, riverbed_row";
            var values = ReportColumns.Scores.ToDictionary(score => score, _ => new List<double>(), StringComparer.Ordinal);
            var sourceIndex = new List<int>();
            var groupValues = new List<string>();
            var keys = new List<(string File, long Row)>();
            using (var result = query.Run($"SELECT {file}, riverbed_row, coalesce(riverbed_source, ''), {group}, {scoreColumns} FROM {scan} {order}"))
            {
                foreach (var row in result.Rows(cancellationToken))
                {
                    keys.Add((row[0].AsString(), ScoredValues.Long(row[1]) ?? -1));
                    sourceIndex.Add(sourceLookup[row[2].AsString()]);
                    groupValues.Add(row[3].IsNull ? MissingGroup : row[3].AsString());
                    for (var i = 0; i < ReportColumns.Scores.Count; i++)
                    {
                        values[ReportColumns.Scores[i]].Add(ScoredValues.Double(row[4 + i]) ?? double.NaN);
                    }
                }
            }

            IReadOnlyList<string> groups = [];
            var groupIndex = Array.Empty<int>();
            if (options.GroupBy is not null)
            {
                // The most frequent values one by one (ties in name order), the rest together, so the page stays small.
                var ranked = groupValues.GroupBy(v => v, StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => g.Key).ToList();
                var shown = ranked.Take(options.MaxGroups).Order(StringComparer.Ordinal).ToList();
                if (ranked.Count > options.MaxGroups)
                {
                    shown.Add(OtherGroup);
                }
                var lookup = shown.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
                groupIndex = groupValues.Select(v => lookup.TryGetValue(v, out var index) ? index : lookup[OtherGroup]).ToArray();
                groups = shown;
            }

            var pool = PoolRows(values, keys, options.PoolPerScore);
            var fetched = pool.Count == 0 ? [] : ReportSampler.Fetch(query, scan, pool, cancellationToken);
            return new ExplorerData
            {
                TotalRows = total,
                Rows = keys.Count,
                Values = values.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal),
                Sources = sources,
                SourceTotals = sourceTotals,
                SourceIndex = sourceIndex.ToArray(),
                GroupColumn = options.GroupBy,
                Groups = groups,
                GroupIndex = groupIndex,
                Pool = pool.Select(key => fetched.GetValueOrDefault(key)).OfType<ScoredExample>().ToList(),
            };
        }
        catch (Riverbed.IO.DuckDb.DuckDbException error)
        {
            throw new RiverbedException($"the shards of {run.Folder} cannot be read for the explorer ({files.Count} data file(s), first {run.Relative(files[0])}): {error.Message}", error);
        }
    }

    /// <summary>Per score, the rows at evenly spaced ranks of its values (missing values left out), without repeats.</summary>
    private static List<ReportSampler.RowKey> PoolRows(Dictionary<string, List<double>> values, List<(string File, long Row)> keys, int perScore)
    {
        var chosen = new List<ReportSampler.RowKey>();
        var seen = new HashSet<ReportSampler.RowKey>();
        if (perScore <= 0)
        {
            return chosen;
        }
        foreach (var score in ReportColumns.Scores)
        {
            var column = values[score];
            var ranked = Enumerable.Range(0, column.Count).Where(i => !double.IsNaN(column[i]))
                .OrderBy(i => column[i]).ThenBy(i => keys[i].File, StringComparer.Ordinal).ThenBy(i => keys[i].Row).ToList();
            if (ranked.Count == 0)
            {
                continue;
            }
            var take = Math.Min(perScore, ranked.Count);
            for (var k = 0; k < take; k++)
            {
                var position = take == 1 ? 0 : (int)Math.Round((double)k * (ranked.Count - 1) / (take - 1));
                var key = new ReportSampler.RowKey(keys[ranked[position]].File, keys[ranked[position]].Row);
                if (seen.Add(key))
                {
                    chosen.Add(key);
                }
            }
        }
        return chosen;
    }

    /// <summary>
    /// The page's data as JSON: scores as base64 of little-endian float64 (exact, so the page decides on the very
    /// values filter reads), sources and groups as indices into name lists.
    /// </summary>
    public string ToJson(ExplorerStart start, string folder, string seed)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("folder", folder);
            writer.WriteNumber("total", TotalRows);
            writer.WriteNumber("rows", Rows);
            writer.WriteBoolean("sampled", IsSample);
            writer.WriteString("seed", seed);
            writer.WriteStartArray("scores");
            foreach (var score in ReportColumns.Scores)
            {
                var column = Values[score];
                var bytes = new byte[column.Length * 8];
                for (var i = 0; i < column.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), column[i]);
                }
                writer.WriteStartObject();
                writer.WriteString("name", score);
                writer.WriteBoolean("lowerIsWorse", ScoreNames.LowerIsWorse(score));
                writer.WriteString("values", Convert.ToBase64String(bytes));
                WriteThreshold(writer, "base", start.Base.GetValueOrDefault(score));
                WriteThreshold(writer, "start", start.Start.GetValueOrDefault(score));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("baseCombine", start.BaseCombination);
            writer.WriteBoolean("baseKnown", start.BaseKnown);
            writer.WriteString("startCombine", start.StartCombination);
            writer.WriteStartArray("sources");
            for (var i = 0; i < Sources.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("name", Sources[i]);
                writer.WriteNumber("total", SourceTotals[i]);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("sourceIndex", Indices(SourceIndex, Sources.Count));
            if (GroupColumn is not null)
            {
                writer.WriteString("groupColumn", GroupColumn);
                writer.WriteStartArray("groups");
                foreach (var group in Groups)
                {
                    writer.WriteStringValue(group);
                }
                writer.WriteEndArray();
                writer.WriteString("groupIndex", Indices(GroupIndex, Groups.Count));
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteThreshold(Utf8JsonWriter writer, string name, ScoreThreshold? threshold)
    {
        if (threshold is null)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartObject(name);
        writer.WriteString("dir", threshold.Direction == ThresholdDirection.Below ? "<" : ">");
        writer.WriteNumber("value", threshold.Value);
        writer.WriteEndObject();
    }

    /// <summary>Indices as base64 of little-endian uint16 (or uint32 when there are more names than that holds).</summary>
    private static string Indices(int[] indices, int count)
    {
        var width = count <= ushort.MaxValue ? 2 : 4;
        var bytes = new byte[indices.Length * width];
        for (var i = 0; i < indices.Length; i++)
        {
            if (width == 2)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)indices[i]);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)indices[i]);
            }
        }
        return (width == 2 ? "u16:" : "u32:") + Convert.ToBase64String(bytes);
    }
}

/// <summary>
/// The explorer's starting point (the report's thresholds and combine rule) and the scored run's own policy, which
/// <c>riverbed filter</c> starts from: the page's command gives only what differs from it.
/// </summary>
internal sealed record ExplorerStart(
    IReadOnlyDictionary<string, ScoreThreshold?> Base,
    string BaseCombination,
    bool BaseKnown,
    IReadOnlyDictionary<string, ScoreThreshold?> Start,
    string StartCombination);
