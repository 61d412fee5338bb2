using Riverbed.IO;

namespace Riverbed.Runner.Report;

/// <summary>One turn of a scored example's normalized dialogue (an element of <c>riverbed_turns</c>).</summary>
internal sealed record ExampleTurn(
    int Index,
    string Speaker,
    string Text,
    double? FillCompareMin,
    double? FillCompareMean,
    int? Masked,
    int? Mismatches,
    double? ReplacedEntityMax,
    double? ReplacedTokenMean,
    double? ReplacedTokenMax,
    int? Parent = null,
    string? Branch = null)
{
    /// <summary>
    /// Where the turn sits in a dialogue with branches, as the report labels it: its branch ("chosen", "rejected", an
    /// OASST reply path such as "0.1") and, when it does not follow the turn just before it, the turn it answers.
    /// Null for the turns of a plain dialogue and for the turns shared by every branch.
    /// </summary>
    public string? Place(int previousIndex)
    {
        var follows = Parent is { } parent && parent != previousIndex ? (parent < 0 ? "starts the dialogue" : $"follows turn {parent}") : null;
        return (Branch, follows) switch
        {
            (null, null) => null,
            ({ } branch, null) => $"branch {branch}",
            (null, { } where) => where,
            ({ } branch, { } where) => $"branch {branch}, {where}",
        };
    }
}

/// <summary>
/// One evidence span (an element of <c>riverbed_spans</c>): <see cref="Start"/>/<see cref="End"/> are UTF-16 offsets
/// into the text of turn <see cref="Turn"/>, exactly as the scorer recorded them.
/// </summary>
internal sealed record EvidenceSpan(
    string Kind,
    int Turn,
    int Start,
    int End,
    string? Original,
    string? Replacement,
    double? Score,
    bool Flagged,
    int? Pair)
{
    public const string Fill = "fill";
    public const string Entity = "entity";
    public const string Contradiction = "contradiction";

    /// <summary>Which span wraps which when two cover the same text: sentences outside entities outside words.</summary>
    public int NestingRank => Kind switch
    {
        Contradiction => 0,
        Entity => 1,
        Fill => 2,
        _ => 3,
    };
}

/// <summary>A sampled row of a scored shard: where it lives, its decision and scores, its dialogue and evidence.</summary>
internal sealed record ScoredExample(
    string Id,
    string Source,
    long Row,
    string File,
    string Decision,
    IReadOnlyList<string> Reasons,
    IReadOnlyDictionary<string, double?> Scores,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<ExampleTurn> Turns,
    IReadOnlyList<EvidenceSpan> Spans)
{
    public bool IsKept => Decision == "keep";

    /// <summary>Reads one row of the sample query (columns named as in <see cref="ReportColumns.Fetched"/>).</summary>
    public static ScoredExample FromRow(IReadOnlyList<QueryColumn> columns, ColumnValue[] row)
    {
        var byName = new Dictionary<string, ColumnValue>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            byName[columns[i].Name] = row[i];
        }
        ColumnValue Get(string name) => byName.TryGetValue(name, out var value) ? value : ColumnValue.Null;
        var turnFields = ScoredValues.FieldMap(columns.FirstOrDefault(column => column.Name == "riverbed_turns")?.Type, ReportColumns.TurnFields);
        var spanFields = ScoredValues.FieldMap(columns.FirstOrDefault(column => column.Name == "riverbed_spans")?.Type, ReportColumns.SpanFields);
        var scores = ReportColumns.Scores.ToDictionary(score => score, score => ScoredValues.Double(Get(ReportColumns.ScoreColumn(score))), StringComparer.Ordinal);
        return new ScoredExample(
            ScoredValues.String(Get("riverbed_id")) ?? string.Empty,
            ScoredValues.String(Get("riverbed_source")) ?? string.Empty,
            ScoredValues.Long(Get("riverbed_row")) ?? -1,
            ScoredValues.String(Get(ShardQuery.FileColumn)) ?? string.Empty,
            ScoredValues.String(Get("riverbed_decision")) ?? string.Empty,
            ScoredValues.Strings(Get("riverbed_reasons")),
            scores,
            ScoredValues.Strings(Get("riverbed_skipped")),
            ScoredValues.Items(Get("riverbed_turns")).Select((turn, position) => ReadTurn(ScoredValues.Fields(turn, turnFields), position)).ToArray(),
            ScoredValues.Items(Get("riverbed_spans")).Select(span => ReadSpan(ScoredValues.Fields(span, spanFields))).ToArray());
    }

    private static ExampleTurn ReadTurn(ColumnValue[] fields, int position) => new ExampleTurn(
            ScoredValues.Int(fields[0]) ?? position,
            ScoredValues.String(fields[1]) ?? "?",
            ScoredValues.String(fields[2]) ?? string.Empty,
            ScoredValues.Double(fields[3]),
            ScoredValues.Double(fields[4]),
            ScoredValues.Int(fields[5]),
            ScoredValues.Int(fields[6]),
            ScoredValues.Double(fields[7]),
            ScoredValues.Double(fields[8]),
            ScoredValues.Double(fields[9]),
            ScoredValues.Int(fields[10]),
            ScoredValues.String(fields[11]));

    private static EvidenceSpan ReadSpan(ColumnValue[] fields) =>
        new EvidenceSpan(
            ScoredValues.String(fields[0]) ?? "?",
            ScoredValues.Int(fields[1]) ?? -1,
            ScoredValues.Int(fields[2]) ?? 0,
            ScoredValues.Int(fields[3]) ?? 0,
            ScoredValues.String(fields[4]),
            ScoredValues.String(fields[5]),
            ScoredValues.Double(fields[6]),
            ScoredValues.Bool(fields[7]) ?? false,
            ScoredValues.Int(fields[8]));
}

/// <summary>
/// The columns of a scored shard the report reads: Riverbed's standard ones and the pipeline's declared score columns
/// (so a JSON Lines scan types them exactly as they were written). The struct fields are the pipeline's one declaration
/// of turns and spans, matched by name against whatever order a shard stores them in.
/// </summary>
internal static class ReportColumns
{
    public static IReadOnlyList<string> Scores { get; } = Riverbed.Scoring.ScoreNames.All;

    /// <summary>The turn struct's fields as the pipeline declares them (the report reads all twelve, up to branch).</summary>
    public static IReadOnlyList<StructField> TurnFields => Riverbed.Pipeline.ScoredColumns.TurnFields;

    /// <summary>The span struct's fields as the pipeline declares them; the report reads the first nine (up to pair).</summary>
    public static IReadOnlyList<StructField> SpanFields => Riverbed.Pipeline.ScoredColumns.SpanFields;

    /// <summary>Everything a sampled example shows.</summary>
    public static IReadOnlyList<ColumnDefinition> Fetched { get; } = [.. ShardWriterOptions.StandardColumns, .. Riverbed.Pipeline.ScoredColumns.All];

    public static string ScoreColumn(string score) => Riverbed.Pipeline.ScoredColumns.ScoreColumn(score);
}

/// <summary>
/// Lenient reads of query values: a Parquet shard written by another version may store a field as BIGINT instead of
/// INTEGER, or lack a struct field; the report shows what it can rather than fail on a type detail.
/// </summary>
internal static class ScoredValues
{
    public static string? String(ColumnValue value) => value.IsNull ? null : value.Kind == ColumnKind.String ? value.AsString() : value.ToString();

    public static double? Double(ColumnValue value) => value.IsNull ? null : value.Kind switch
    {
        ColumnKind.Double => value.AsDouble(),
        ColumnKind.Int32 => value.AsInt32(),
        ColumnKind.Int64 => value.AsInt64(),
        _ => null,
    };

    public static long? Long(ColumnValue value) => value.IsNull ? null : value.Kind switch
    {
        ColumnKind.Int32 => value.AsInt32(),
        ColumnKind.Int64 => value.AsInt64(),
        _ => null,
    };

    public static int? Int(ColumnValue value) => Long(value) is { } number ? (int)Math.Clamp(number, int.MinValue, int.MaxValue) : null;

    public static bool? Bool(ColumnValue value) => value.IsNull || value.Kind != ColumnKind.Boolean ? null : value.AsBoolean();

    public static IReadOnlyList<ColumnValue> Items(ColumnValue value) =>
        value.IsNull || value.Kind != ColumnKind.List ? [] : value.Items;

    public static IReadOnlyList<string> Strings(ColumnValue value) =>
        Items(value).Select(String).OfType<string>().ToArray();

    /// <summary>
    /// For each expected struct field, its position in the stored list-of-struct type (matched by name,
    /// case-insensitively as DuckDB does), or -1 when the shard lacks it.
    /// </summary>
    public static int[] FieldMap(ColumnType? listType, IReadOnlyList<StructField> expected)
    {
        var stored = listType is { Kind: ColumnKind.List, Element: { Kind: ColumnKind.Struct } element } ? element.Fields : [];
        return expected
            .Select(field => stored.Select((candidate, index) => (candidate, index))
                .FirstOrDefault(pair => string.Equals(pair.candidate.Name, field.Name, StringComparison.OrdinalIgnoreCase), (null!, -1)).index)
            .ToArray();
    }

    /// <summary>A struct's values in expected-field order through a <see cref="FieldMap"/> (a missing field reads as null).</summary>
    public static ColumnValue[] Fields(ColumnValue value, int[] map)
    {
        var result = new ColumnValue[map.Length];
        Array.Fill(result, ColumnValue.Null);
        if (!value.IsNull && value.Kind == ColumnKind.Struct)
        {
            var items = value.Items;
            for (var i = 0; i < map.Length; i++)
            {
                if (map[i] >= 0 && map[i] < items.Count)
                {
                    result[i] = items[map[i]];
                }
            }
        }
        return result;
    }
}
