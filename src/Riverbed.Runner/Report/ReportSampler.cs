using System.Globalization;
using System.Text;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>How many examples the report shows and which.</summary>
internal sealed record SamplingOptions
{
    /// <summary>Examples per bucket and decision across a score's range (and among examples with no score).</summary>
    public int PerBucket { get; init; } = 2;

    /// <summary>Examples per decision in each of the two bands next to a threshold.</summary>
    public int NearThreshold { get; init; } = 4;

    /// <summary>Equal-width buckets across a score's histogram range.</summary>
    public int RangeBuckets { get; init; } = 10;

    /// <summary>Width of each band next to a threshold, as a share of the score's range.</summary>
    public double BandFraction { get; init; } = 0.05;

    /// <summary>Mixed into the hash that orders examples: another seed draws another (equally deterministic) sample.</summary>
    public string Seed { get; init; } = string.Empty;
}

internal enum BucketKind
{
    /// <summary>Just on the side of the threshold that triggers it.</summary>
    NearTriggered,

    /// <summary>Just on the side that does not trigger it.</summary>
    NearNotTriggered,

    /// <summary>An equal-width slice of the score's range.</summary>
    Range,

    /// <summary>No value (the scorer was skipped or had nothing to score).</summary>
    Missing,
}

/// <summary>
/// A slice of one score's values. <see cref="Low"/>/<see cref="High"/> bound it; which ends are inclusive follows the
/// threshold's direction so that a triggering value never lands in a not-triggered bucket.
/// </summary>
internal sealed record SampleBucket(int Id, BucketKind Kind, double Low, double High, int Quota, string Label);

/// <summary>A bucket's exact counts (by decision) and its sampled examples.</summary>
internal sealed record BucketSample(SampleBucket Bucket, long KeptCount, long RemovedCount, IReadOnlyList<ScoredExample> Kept, IReadOnlyList<ScoredExample> Removed);

/// <summary>The samples of one score.</summary>
internal sealed record ScoreSamples(string Score, ScoreThreshold? Threshold, double Low, double High, IReadOnlyList<BucketSample> Buckets)
{
    /// <summary>Rows with a value of this score that were kept (buckets are disjoint, so this is exact).</summary>
    public long Kept => Buckets.Where(b => b.Bucket.Kind != BucketKind.Missing).Sum(b => b.KeptCount);

    public long Removed => Buckets.Where(b => b.Bucket.Kind != BucketKind.Missing).Sum(b => b.RemovedCount);

    public long Missing => Buckets.Where(b => b.Bucket.Kind == BucketKind.Missing).Sum(b => b.KeptCount + b.RemovedCount);
}

/// <summary>
/// Draws the report's examples with SQL over the committed shards, reading only small columns of every row and the
/// full rows of the few chosen. One scan buckets every row under every score (the bands next to each threshold, equal
/// slices of the range, and "no score"), counts each bucket by decision, and keeps the k rows with the smallest
/// md5(seed ‖ riverbed_id), read as a 128-bit number (ties, i.e. repeated ids, broken by file and row): the same run and seed always give the same sample,
/// independent of shard order, thread count or DuckDB version. A second query fetches the chosen rows, filtered by
/// file and row number so Parquet row groups without them are skipped.
/// </summary>
internal static class ReportSampler
{
    public static IReadOnlyList<ScoreSamples> Sample(ScoredRun run, IReadOnlyDictionary<string, ScoreThreshold?> thresholds, SamplingOptions options,
        CancellationToken cancellationToken = default)
    {
        var files = run.DataFiles.ToList();
        var plans = ReportColumns.Scores.Select(score => Plan(score, run.Statistics, thresholds.GetValueOrDefault(score), options)).ToList();
        if (files.Count == 0)
        {
            return plans.Select(plan => new ScoreSamples(plan.Score, plan.Threshold, plan.Low, plan.High, [])).ToList();
        }
        List<Pick> picks;
        Dictionary<RowKey, ScoredExample> examples;
        try
        {
            // Every core helps the scan; the sample does not depend on the thread count (ties are broken by file and row).
            using var query = ShardQuery.Open(threads: Math.Clamp(Environment.ProcessorCount, 1, 16));
            var scan = Scan(query, files, run);
            picks = PickRows(query, scan, plans, options, cancellationToken);
            examples = Fetch(query, scan, picks.SelectMany(pick => pick.Rows).Distinct().ToList(), cancellationToken);
        }
        catch (Riverbed.IO.DuckDb.DuckDbException error)
        {
            throw new RiverbedException($"the shards of {run.Folder} cannot be sampled ({files.Count} data file(s), first {run.Relative(files[0])}): {error.Message}", error);
        }
        return plans.Select((plan, index) => new ScoreSamples(plan.Score, plan.Threshold, plan.Low, plan.High,
            plan.Buckets.Select(bucket =>
            {
                var kept = picks.FirstOrDefault(pick => pick.Score == index && pick.Bucket == bucket.Id && pick.IsKept);
                var removed = picks.FirstOrDefault(pick => pick.Score == index && pick.Bucket == bucket.Id && !pick.IsKept);
                return new BucketSample(bucket, kept?.Count ?? 0, removed?.Count ?? 0,
                    Resolve(kept, bucket.Quota, examples), Resolve(removed, bucket.Quota, examples));
            }).ToList())).ToList();
    }

    /// <summary>The buckets of one score: its histogram's range (or the score's natural one) in equal slices, the two threshold bands, and "no score".</summary>
    internal static ScorePlan Plan(string score, ScoreStatistics statistics, ScoreThreshold? threshold, SamplingOptions options)
    {
        var histogram = statistics.Scores.GetValueOrDefault(score);
        var (low, high) = histogram is { } h ? (h.Low, h.High) : ScoreNames.LowerIsWorse(score) ? (-1.0, 1.0) : (0.0, 1.0);
        var buckets = new List<SampleBucket>();
        if (threshold is { } t)
        {
            var band = (high - low) * options.BandFraction;
            var triggeredSide = t.Direction == ThresholdDirection.Below ? (t.Value - band, t.Value) : (t.Value, t.Value + band);
            var otherSide = t.Direction == ThresholdDirection.Below ? (t.Value, t.Value + band) : (t.Value - band, t.Value);
            var near = new[]
            {
                new SampleBucket(1, BucketKind.NearTriggered, triggeredSide.Item1, triggeredSide.Item2, options.NearThreshold, $"just past the threshold {Interval(triggeredSide.Item1, triggeredSide.Item2, t.Direction)}"),
                new SampleBucket(2, BucketKind.NearNotTriggered, otherSide.Item1, otherSide.Item2, options.NearThreshold, $"just short of the threshold {Interval(otherSide.Item1, otherSide.Item2, t.Direction)}"),
            };
            buckets.AddRange(near.OrderBy(bucket => bucket.Low));
        }
        var width = (high - low) / options.RangeBuckets;
        for (var i = 0; i < options.RangeBuckets; i++)
        {
            var from = low + (i * width);
            var to = i == options.RangeBuckets - 1 ? high : low + ((i + 1) * width);
            var label = i == 0 ? $"below {Number(to)}" : i == options.RangeBuckets - 1 ? $"{Number(from)} and above" : $"{Number(from)} to {Number(to)}";
            buckets.Add(new SampleBucket(10 + i, BucketKind.Range, from, to, options.PerBucket, label));
        }
        buckets.Add(new SampleBucket(0, BucketKind.Missing, double.NaN, double.NaN, options.PerBucket, "no score"));
        return new ScorePlan(score, threshold, low, high, width, buckets);
    }

    /// <summary>A band as an interval: "below" thresholds trigger on v &lt; t, so bands are [a, b); "above" ones on v &gt; t, so (a, b].</summary>
    private static string Interval(double from, double to, ThresholdDirection direction) =>
        direction == ThresholdDirection.Below ? $"[{Number(from)}, {Number(to)})" : $"({Number(from)}, {Number(to)}]";

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture).Replace('-', '−');

    private static string Sql(double value) => "(" + value.ToString("R", CultureInfo.InvariantCulture) + "::DOUBLE)";

    /// <summary>The name the scan gives the group-by column (as text), out of the way of any dataset column.</summary>
    internal const string GroupColumn = "riverbed_report_group";

    /// <summary>
    /// A table expression of the columns the report needs, over every committed data file (missing columns read as
    /// null); with <paramref name="groupBy"/>, that dataset column as text too, as <see cref="GroupColumn"/>.
    /// </summary>
    internal static string Scan(ShardQuery query, IReadOnlyList<string> files, ScoredRun run, string? groupBy = null)
    {
        var parts = new List<string>();
        var parquet = files.Where(file => file.EndsWith(".parquet", StringComparison.Ordinal)).ToList();
        var jsonLines = files.Where(file => file.EndsWith(".jsonl", StringComparison.Ordinal)).ToList();
        if (parquet.Count > 0)
        {
            var source = ShardQuery.ParquetScan(parquet);
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using (var describe = query.Run($"DESCRIBE SELECT * FROM {source}"))
            {
                foreach (var row in describe.Rows())
                {
                    present.Add(row[0].AsString());
                }
            }
            foreach (var required in (string[])["riverbed_row", "riverbed_decision"])
            {
                if (!present.Contains(required))
                {
                    throw new RiverbedException(
                        $"{run.Relative(parquet[0])} has no {required} column: {run.Folder} does not look like the output of `riverbed score` (`riverbed convert` output has no scores)");
                }
            }
            var columns = ReportColumns.Fetched.Select(column => present.Contains(column.Name)
                ? ShardQuery.Identifier(column.Name)
                : $"NULL::{column.Type.ToSql()} AS {ShardQuery.Identifier(column.Name)}");
            if (groupBy is not null)
            {
                var (column, fields) = SplitGroupBy(groupBy, present.Contains);
                if (!present.Contains(column))
                {
                    throw new RiverbedException(
                        $"--group-by {groupBy}: {run.Relative(parquet[0])} has no such column; its columns: {string.Join(", ", present.Order(StringComparer.Ordinal))}");
                }
                // A field inside a struct column (metadata.source) is read with DuckDB's struct access.
                var access = ShardQuery.Identifier(column) + string.Concat(fields.Select(field => "." + ShardQuery.Identifier(field)));
                columns = columns.Append($"CAST({access} AS VARCHAR) AS {ShardQuery.Identifier(GroupColumn)}");
            }
            parts.Add($"SELECT {ShardQuery.Identifier(ShardQuery.FileColumn)}, {string.Join(", ", columns)} FROM {source}");
        }
        if (jsonLines.Count > 0)
        {
            // A record is never longer than its file; past 128 MiB a line fails with DuckDB's own message, naming the limit.
            var longest = jsonLines.Max(file => new FileInfo(file).Length);
            // A group-by column is declared as text: strings read as they are, other JSON values as their JSON text.
            // JSON Lines has no schema to ask: a dotted name is always a column and fields inside it.
            var (groupColumn, groupFields) = SplitGroupBy(groupBy ?? string.Empty, _ => false);
            IReadOnlyList<ColumnDefinition> declared = groupBy is null || ReportColumns.Fetched.Any(column => column.Name == groupColumn)
                ? ReportColumns.Fetched
                : [.. ReportColumns.Fetched, new ColumnDefinition(groupColumn, ColumnType.String)];
            var source = ShardQuery.JsonLinesScan(jsonLines, declared, Math.Clamp(longest + 1, 1L << 20, 128L << 20));
            var selected = ReportColumns.Fetched.Select(column => ShardQuery.Identifier(column.Name));
            if (groupBy is not null)
            {
                var value = $"CAST({ShardQuery.Identifier(groupColumn)} AS VARCHAR)";
                if (groupFields.Count > 0)
                {
                    // The column reads as its JSON text; a field inside it by JSON path (null where it is not an object).
                    var path = "$" + string.Concat(groupFields.Select(field => ".\"" + field + "\""));
                    value = $"CASE WHEN json_valid({value}) THEN json_extract_string({value}, {ShardQuery.Literal(path)}) END";
                }
                selected = selected.Append($"{value} AS {ShardQuery.Identifier(GroupColumn)}");
            }
            parts.Add($"SELECT {ShardQuery.Identifier(ShardQuery.FileColumn)}, {string.Join(", ", selected)} FROM {source}");
        }
        return "(" + string.Join(" UNION ALL BY NAME ", parts) + ")";
    }

    /// <summary>
    /// A --group-by name as a column and the fields inside it: a name the shards have as a column is that column;
    /// otherwise <c>metadata.source</c> is the field source of the column metadata.
    /// </summary>
    internal static (string Column, IReadOnlyList<string> Fields) SplitGroupBy(string groupBy, Func<string, bool> isColumn)
    {
        if (isColumn(groupBy) || !groupBy.Contains('.', StringComparison.Ordinal))
        {
            return (groupBy, []);
        }
        var parts = groupBy.Split('.');
        if (parts.Any(part => part.Length == 0 || part.Contains('"', StringComparison.Ordinal)))
        {
            throw new RiverbedException($"--group-by {groupBy}: give a column, or a column and the fields inside it joined by dots (e.g. metadata.source)");
        }
        return (parts[0], parts[1..]);
    }

    private static List<Pick> PickRows(ShardQuery query, string scan, List<ScorePlan> plans, SamplingOptions options, CancellationToken cancellationToken)
    {
        var take = Math.Max(1, Math.Max(options.PerBucket, options.NearThreshold));
        var bucketCases = new StringBuilder("CASE s.score");
        for (var i = 0; i < plans.Count; i++)
        {
            bucketCases.Append(" WHEN ").Append(i).Append(" THEN ").Append(BucketExpression(plans[i], $"v{i}", options));
        }
        bucketCases.Append(" END");
        var values = string.Join(", ", plans.Select((plan, i) => $"{ShardQuery.Identifier(ReportColumns.ScoreColumn(plan.Score))} AS v{i}"));
        var scores = string.Join(", ", plans.Select((_, i) => $"({i})"));
        var file = ShardQuery.Identifier(ShardQuery.FileColumn);
        var sql = $$"""
            SELECT s.score, {{bucketCases}} AS bucket, coalesce(d, '') = 'keep' AS kept, count(*) AS n,
                   arg_min({'f': {{file}}, 'r': riverbed_row}, {'h': h, 'f': {{file}}, 'r': riverbed_row}, {{take}}) AS picks
            FROM (SELECT {{file}}, riverbed_row, riverbed_decision AS d, md5_number({{ShardQuery.Literal(options.Seed + "\u001f")}} || coalesce(riverbed_id, '')) AS h, {{values}}
                  FROM {{scan}}) AS t,
                 (VALUES {{scores}}) AS s(score)
            GROUP BY ALL
            ORDER BY ALL
            """;
        var picks = new List<Pick>();
        using var result = query.Run(sql);
        foreach (var row in result.Rows(cancellationToken))
        {
            var rows = row[4].IsNull ? [] : row[4].Items.Select(item => new RowKey(item.Items[0].AsString(), item.Items[1].AsInt64())).ToList();
            picks.Add(new Pick(row[0].AsInt32(), row[1].AsInt32(), row[2].AsBoolean(), row[3].AsInt64(), rows));
        }
        return picks;
    }

    private static string BucketExpression(ScorePlan plan, string v, SamplingOptions options)
    {
        var text = new StringBuilder($"CASE WHEN {v} IS NULL OR isnan({v}) THEN 0");
        if (plan.Threshold is { } t)
        {
            var triggered = plan.Buckets.Single(bucket => bucket.Kind == BucketKind.NearTriggered);
            var other = plan.Buckets.Single(bucket => bucket.Kind == BucketKind.NearNotTriggered);
            if (t.Direction == ThresholdDirection.Below)
            {
                text.Append(CultureInfo.InvariantCulture, $" WHEN {v} >= {Sql(triggered.Low)} AND {v} < {Sql(triggered.High)} THEN {triggered.Id}");
                text.Append(CultureInfo.InvariantCulture, $" WHEN {v} >= {Sql(other.Low)} AND {v} < {Sql(other.High)} THEN {other.Id}");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $" WHEN {v} > {Sql(triggered.Low)} AND {v} <= {Sql(triggered.High)} THEN {triggered.Id}");
                text.Append(CultureInfo.InvariantCulture, $" WHEN {v} > {Sql(other.Low)} AND {v} <= {Sql(other.High)} THEN {other.Id}");
            }
        }
        text.Append(CultureInfo.InvariantCulture, $" ELSE 10 + least(greatest(floor(({v} - {Sql(plan.Low)}) / {Sql(plan.Width)}), 0), {options.RangeBuckets - 1})::INTEGER END");
        return text.ToString();
    }

    internal static Dictionary<RowKey, ScoredExample> Fetch(ShardQuery query, string scan, IReadOnlyList<RowKey> wanted, CancellationToken cancellationToken)
    {
        var examples = new Dictionary<RowKey, ScoredExample>();
        if (wanted.Count == 0)
        {
            return examples;
        }
        var wantedSet = wanted.ToHashSet();
        var files = string.Join(", ", wanted.Select(key => key.File).Distinct(StringComparer.Ordinal).Select(ShardQuery.Literal));
        var rows = string.Join(", ", wanted.Select(key => key.Row).Distinct().Order().Select(row => row.ToString(CultureInfo.InvariantCulture)));
        var columns = string.Join(", ", ReportColumns.Fetched.Select(column => ShardQuery.Identifier(column.Name)).Prepend(ShardQuery.Identifier(ShardQuery.FileColumn)));
        using var result = query.Run($"SELECT {columns} FROM {scan} WHERE {ShardQuery.Identifier(ShardQuery.FileColumn)} IN ({files}) AND riverbed_row IN ({rows})");
        foreach (var row in result.Rows(cancellationToken))
        {
            var example = ScoredExample.FromRow(result.Columns, row);
            var key = new RowKey(example.File, example.Row);
            if (wantedSet.Contains(key))
            {
                examples[key] = example;
            }
        }
        return examples;
    }

    private static List<ScoredExample> Resolve(Pick? pick, int quota, Dictionary<RowKey, ScoredExample> examples) =>
        pick is null ? [] : pick.Rows.Take(quota).Select(key => examples.GetValueOrDefault(key)).OfType<ScoredExample>().ToList();

    internal sealed record ScorePlan(string Score, ScoreThreshold? Threshold, double Low, double High, double Width, IReadOnlyList<SampleBucket> Buckets);

    internal readonly record struct RowKey(string File, long Row);

    private sealed record Pick(int Score, int Bucket, bool IsKept, long Count, IReadOnlyList<RowKey> Rows);
}
