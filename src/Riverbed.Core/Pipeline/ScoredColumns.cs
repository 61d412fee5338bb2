using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>What one scored example contributes to its shard's statistics.</summary>
public sealed record ExampleFacts(Decision Decision, IReadOnlyDictionary<string, double?> Scores, int TurnsScored, int MaskedPositions,
    int Mismatches, int Entities, int SentencePairs, ModelTokenCounts Tokens)
{
    public static ExampleFacts From(Dialogue dialogue, DialogueScores scores, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(dialogue);
        ArgumentNullException.ThrowIfNull(scores);
        var anyScorer = scores.FillCompare is not null || scores.ReplacedTokens is not null || scores.Contradiction is not null;
        return new ExampleFacts(decision, scores.Scores, anyScorer ? scores.ScoredTurns?.Count ?? dialogue.AssistantTurnIndexes().Count() : 0,
            scores.FillCompare?.Masked ?? 0, scores.FillCompare?.Mismatches ?? 0, scores.ReplacedTokens?.Entities.Count ?? 0,
            scores.Contradiction?.Pairs.Count ?? 0, scores.Tokens);
    }
}

/// <summary>
/// The score columns of a scored shard (docs: the scored output format), declared once and filled per example, and
/// the removal folder a decision maps to with <c>--split</c>.
/// </summary>
public static class ScoredColumns
{
    public const string Decision = "riverbed_decision";
    public const string Reasons = "riverbed_reasons";
    public const string Skipped = "riverbed_skipped";
    public const string Turns = "riverbed_turns";
    public const string Spans = "riverbed_spans";

    public const string KeepValue = "keep";
    public const string RemoveValue = "remove";

    /// <summary>
    /// The fields of an element of <see cref="Turns"/>, in stored order: the one declaration of the turn struct, which
    /// the writer fills (<see cref="Values"/>) and the report reads (by name, so shards of earlier layouts still read).
    /// </summary>
    public static IReadOnlyList<StructField> TurnFields { get; } =
    [
        new("index", ColumnType.Int32),
        new("speaker", ColumnType.String),
        new("text", ColumnType.String),
        new("fill_compare_min", ColumnType.Double),
        new("fill_compare_mean", ColumnType.Double),
        new("masked", ColumnType.Int32),
        new("mismatches", ColumnType.Int32),
        new("replaced_entity_max", ColumnType.Double),
        new("replaced_token_mean", ColumnType.Double),
        new("replaced_token_max", ColumnType.Double),
        new("parent", ColumnType.Int32),
        new("branch", ColumnType.String),
    ];

    /// <summary>The fields of an element of <see cref="Spans"/>, in stored order: the one declaration of the span struct.</summary>
    public static IReadOnlyList<StructField> SpanFields { get; } =
    [
        new("kind", ColumnType.String),
        new("turn", ColumnType.Int32),
        new("start", ColumnType.Int32),
        new("end", ColumnType.Int32),
        new("original", ColumnType.String),
        new("replacement", ColumnType.String),
        new("score", ColumnType.Double),
        new("flagged", ColumnType.Boolean),
        new("pair", ColumnType.Int32),
        new("cp_start", ColumnType.Int32),
        new("cp_end", ColumnType.Int32),
    ];

    private static readonly ColumnType TurnType = ColumnType.StructOf([.. TurnFields]);

    private static readonly ColumnType SpanType = ColumnType.StructOf([.. SpanFields]);

    /// <summary>The column holding score <paramref name="score"/> (one of <see cref="ScoreNames"/>).</summary>
    public static string ScoreColumn(string score) => "riverbed_" + score;

    /// <summary>The extra columns of a scored shard, in order.</summary>
    public static IReadOnlyList<ColumnDefinition> All { get; } =
    [
        new(Decision, ColumnType.String),
        new(Reasons, ColumnType.ListOf(ColumnType.String)),
        .. ScoreNames.All.Select(name => new ColumnDefinition(ScoreColumn(name), ColumnType.Double)),
        new(Skipped, ColumnType.ListOf(ColumnType.String)),
        new(Turns, ColumnType.ListOf(TurnType)),
        new(Spans, ColumnType.ListOf(SpanType)),
    ];

    /// <summary>The decision columns alone, which <c>riverbed filter</c> rewrites.</summary>
    public static IReadOnlyList<ColumnDefinition> DecisionOnly { get; } = [.. All.Take(2)];

    /// <summary>The values of <see cref="All"/> for one scored example.</summary>
    public static ColumnValue[] Values(Dialogue dialogue, DialogueScores scores, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(dialogue);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(decision);
        var values = new ColumnValue[All.Count];
        var i = 0;
        values[i++] = ColumnValue.From(decision.Keep ? KeepValue : RemoveValue);
        values[i++] = ColumnValue.Strings(decision.Reasons);
        foreach (var name in ScoreNames.All)
        {
            values[i++] = Number(scores.Scores.TryGetValue(name, out var value) ? value : null);
        }
        values[i++] = ColumnValue.Strings(scores.Skipped);
        var turns = new ColumnValue[scores.Turns.Count];
        for (var t = 0; t < turns.Length; t++)
        {
            var turn = scores.Turns[t];
            turns[t] = ColumnValue.Struct(
                ColumnValue.From(turn.Index),
                ColumnValue.From(SpeakerName(turn.Speaker)),
                ColumnValue.From(dialogue.Turns[turn.Index].Text),
                Number(turn.FillCompareMin),
                Number(turn.FillCompareMean),
                Number(turn.Masked),
                Number(turn.Mismatches),
                Number(turn.ReplacedEntityMax),
                Number(turn.ReplacedTokenMean),
                Number(turn.ReplacedTokenMax),
                Parent(dialogue, turn.Index),
                dialogue.Turns[turn.Index].Branch is { } branch ? ColumnValue.From(branch) : ColumnValue.Null);
        }
        values[i++] = ColumnValue.List(turns);
        var spans = new ColumnValue[scores.Spans.Count];
        for (var s = 0; s < spans.Length; s++)
        {
            var span = scores.Spans[s];
            var text = span.Turn >= 0 && span.Turn < dialogue.Turns.Count ? dialogue.Turns[span.Turn].Text : string.Empty;
            spans[s] = ColumnValue.Struct(
                ColumnValue.From(span.Kind),
                ColumnValue.From(span.Turn),
                ColumnValue.From(span.Start),
                ColumnValue.From(span.End),
                ColumnValue.From(span.Original),
                ColumnValue.From(span.Replacement),
                ColumnValue.From(span.Score),
                ColumnValue.From(span.Flagged),
                Number(span.Pair),
                ColumnValue.From(TextOffsets.CodePoint(text, span.Start)),
                ColumnValue.From(TextOffsets.CodePoint(text, span.End)));
        }
        values[i] = ColumnValue.List(spans);
        return values;
    }

    /// <summary>
    /// Where a removed row goes with <c>--split</c>: removed/{score name of the first triggered threshold}/ (reasons
    /// such as "fill_compare_min&lt;0" hold characters a folder name should not).
    /// </summary>
    public static RowDecision Route(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Keep)
        {
            return RowDecision.Keep;
        }
        var first = decision.Reasons.Count > 0 ? decision.Reasons[0] : "policy";
        var end = first.IndexOfAny(['<', '>', '=']);
        return RowDecision.Remove(end > 0 ? first[..end] : first);
    }

    public static string SpeakerName(Speaker speaker) => speaker switch
    {
        Speaker.System => "system",
        Speaker.User => "user",
        Speaker.Tool => "tool",
        Speaker.ToolCall => "tool_call",
        _ => "assistant",
    };

    /// <summary>
    /// A turn's parent in a dialogue with branches (−1 for a turn that starts it); null in a plain dialogue, where every
    /// turn follows the one before it.
    /// </summary>
    private static ColumnValue Parent(Dialogue dialogue, int turn) =>
        dialogue.Branches ? ColumnValue.From(dialogue.Previous(turn)) : ColumnValue.Null;

    private static ColumnValue Number(double? value) => value is { } v ? ColumnValue.From(v) : ColumnValue.Null;

    private static ColumnValue Number(int? value) => value is { } v ? ColumnValue.From(v) : ColumnValue.Null;
}
