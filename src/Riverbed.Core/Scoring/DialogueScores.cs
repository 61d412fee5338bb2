namespace Riverbed.Scoring;

/// <summary>The kinds of evidence span.</summary>
public static class SpanKinds
{
    /// <summary>A masked word: replacement = the MLM's fill, score = the position score.</summary>
    public const string Fill = "fill";

    /// <summary>An entity: replacement = its kind, score = mean P(replaced) over its tokens.</summary>
    public const string Entity = "entity";

    /// <summary>One sentence of a compared pair: score = the pair's contradiction probability.</summary>
    public const string Contradiction = "contradiction";
}

/// <summary>
/// One piece of evidence a reviewer can see: a character range of one turn's text, what was there, what the scorer
/// put or saw there, the score and whether it crosses its flag threshold.
/// </summary>
/// <param name="Kind">One of <see cref="SpanKinds"/>.</param>
/// <param name="Turn">Index into the dialogue's turns.</param>
/// <param name="Start">UTF-16 offset into that turn's text.</param>
/// <param name="End">UTF-16 offset (exclusive).</param>
/// <param name="Original">The text of the range.</param>
/// <param name="Replacement">Fill: the predicted word; entity: the entity kind; contradiction: null.</param>
/// <param name="Pair">Contradiction only: links the two spans of one sentence pair.</param>
public sealed record ScoreSpan(string Kind, int Turn, int Start, int End, string Original, string? Replacement, double Score,
    bool Flagged, int? Pair);

/// <summary>The per-turn summary; score fields are null for non-assistant turns and for skipped scorers.</summary>
public sealed record TurnScores(int Index, Speaker Speaker, double? FillCompareMin, double? FillCompareMean, int? Masked,
    int? Mismatches, double? ReplacedEntityMax, double? ReplacedTokenMean, double? ReplacedTokenMax);

/// <summary>Real (non-padding) tokens sent to each model for one dialogue.</summary>
public sealed record ModelTokenCounts(long Mlm, long Nli, long Rtd, long Ner);

/// <summary>One masked position of fill-and-compare.</summary>
/// <param name="Forward">NLI original window → replaced window (null on a match).</param>
/// <param name="Backward">NLI replaced window → original window (null on a match).</param>
public sealed record FillPosition(int Turn, int Start, int End, string Original, string Replacement, bool Match, double Score,
    NliProbabilities? Forward, NliProbabilities? Backward, string? OriginalWindow, string? ReplacedWindow);

/// <summary>Fill-and-compare over one assistant turn.</summary>
public sealed record FillCompareTurn(int Turn, int Candidates, int Masked, int Mismatches, double? Min, double? Mean);

/// <summary>Fill-and-compare over a dialogue: every masked position, per-turn and example statistics.</summary>
public sealed class FillCompareResult
{
    internal FillCompareResult(IReadOnlyList<FillCompareTurn> turns, IReadOnlyList<FillPosition> positions)
    {
        Turns = turns;
        Positions = positions;
        Masked = positions.Count;
        Mismatches = positions.Count(p => !p.Match);
        Min = positions.Count == 0 ? null : positions.Min(p => p.Score);
        Mean = positions.Count == 0 ? null : positions.Sum(p => p.Score) / positions.Count;
    }

    public IReadOnlyList<FillCompareTurn> Turns { get; }

    /// <summary>Every masked position, by turn then character offset.</summary>
    public IReadOnlyList<FillPosition> Positions { get; }

    public int Masked { get; }

    public int Mismatches { get; }

    /// <summary>Lowest position score (null: nothing was masked).</summary>
    public double? Min { get; }

    /// <summary>Mean position score (null: nothing was masked).</summary>
    public double? Mean { get; }
}

/// <summary>An entity and its mean P(replaced).</summary>
public sealed record EntityScore(int Turn, int Start, int End, string Text, string Kind, double Score, int Tokens);

/// <summary>Replaced-token detection over one assistant turn.</summary>
/// <param name="EntityMax">Highest entity score, 0 with no entities.</param>
/// <param name="TokenMean">Mean P(replaced) over the turn's tokens (null: the turn has no tokens).</param>
public sealed record ReplacedTokenTurn(int Turn, int Tokens, double EntityMax, double? TokenMean, double? TokenMax);

/// <summary>Replaced-token detection over a dialogue.</summary>
public sealed class ReplacedTokenResult
{
    internal ReplacedTokenResult(string entitySource, IReadOnlyList<ReplacedTokenTurn> turns, IReadOnlyList<EntityScore> entities)
    {
        EntitySource = entitySource;
        Turns = turns;
        Entities = entities;
        EntityMax = turns.Count == 0 ? null : turns.Max(t => t.EntityMax);
    }

    /// <summary>"ner" (the ner model's BIO labels) or "heuristic" (<see cref="EntityHeuristic"/>).</summary>
    public string EntitySource { get; }

    public IReadOnlyList<ReplacedTokenTurn> Turns { get; }

    /// <summary>Every scored entity, by turn then character offset.</summary>
    public IReadOnlyList<EntityScore> Entities { get; }

    /// <summary>Highest entity score over the assistant turns (0 with no entities; null with no assistant turn).</summary>
    public double? EntityMax { get; }
}

/// <summary>A sentence of an assistant turn.</summary>
public sealed record SentenceRef(int Turn, int Start, int End, string Text);

/// <summary>A compared sentence pair: NLI both ways, score = max(c, c′).</summary>
public sealed record SentencePair(int Pair, SentenceRef First, SentenceRef Second, int SharedWords, NliProbabilities Forward,
    NliProbabilities Backward, double Score);

/// <summary>Self-contradiction over a dialogue.</summary>
public sealed class ContradictionResult
{
    internal ContradictionResult(int sentences, long candidatePairs, IReadOnlyList<SentencePair> pairs)
    {
        Sentences = sentences;
        CandidatePairs = candidatePairs;
        Pairs = pairs;
        Max = pairs.Count == 0 ? null : pairs.Max(p => p.Score);
    }

    /// <summary>Sentences found in the assistant turns.</summary>
    public int Sentences { get; }

    /// <summary>All pairs that could have been compared (before the cap).</summary>
    public long CandidatePairs { get; }

    /// <summary>The compared pairs, in text order of their first then second sentence.</summary>
    public IReadOnlyList<SentencePair> Pairs { get; }

    /// <summary>Highest pair score (null: fewer than two sentences, or a cap of 0).</summary>
    public double? Max { get; }
}

/// <summary>
/// Everything the scorers found in one dialogue. Scores are always kept; deciding is a separate step
/// (<see cref="DecisionPolicy.Decide"/> on <see cref="Scores"/>).
/// </summary>
public sealed class DialogueScores
{
    internal DialogueScores(FillCompareResult? fillCompare, ReplacedTokenResult? replacedTokens, ContradictionResult? contradiction,
        IReadOnlyList<string> skipped, IReadOnlyList<ScoreSpan> spans, IReadOnlyList<TurnScores> turns, ModelTokenCounts tokens)
    {
        FillCompare = fillCompare;
        ReplacedTokens = replacedTokens;
        Contradiction = contradiction;
        Skipped = skipped;
        Spans = spans;
        Turns = turns;
        Tokens = tokens;
        Scores = new Dictionary<string, double?>(StringComparer.Ordinal)
        {
            [ScoreNames.FillCompareMin] = fillCompare?.Min,
            [ScoreNames.FillCompareMean] = fillCompare?.Mean,
            [ScoreNames.ReplacedEntityMax] = replacedTokens?.EntityMax,
            [ScoreNames.ContradictionMax] = contradiction?.Max,
        };
    }

    /// <summary>Null when skipped (see <see cref="Skipped"/>).</summary>
    public FillCompareResult? FillCompare { get; }

    public ReplacedTokenResult? ReplacedTokens { get; }

    public ContradictionResult? Contradiction { get; }

    /// <summary>
    /// Notes of skipped scorers, e.g. "fill_compare: no mlm model", and of turns left out or scored with a doubt
    /// ("language: turn 3 not scored, not English (…)").
    /// </summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The turns that were scored (null when not recorded: then the assistant turns).</summary>
    public IReadOnlyList<int>? ScoredTurns { get; init; }

    /// <summary>The example-level scores by <see cref="ScoreNames"/> (null: skipped, or nothing to score).</summary>
    public IReadOnlyDictionary<string, double?> Scores { get; }

    /// <summary>Fill spans (by turn, offset), then entity spans (by turn, offset), then contradiction spans (by pair).</summary>
    public IReadOnlyList<ScoreSpan> Spans { get; }

    /// <summary>One entry per turn of the dialogue, in order.</summary>
    public IReadOnlyList<TurnScores> Turns { get; }

    public ModelTokenCounts Tokens { get; }

    /// <summary>Keep or remove under <paramref name="policy"/>.</summary>
    public Decision Decide(DecisionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Decide(Scores);
    }
}
