using Riverbed.Inference;
namespace Riverbed.ModelKit.Oracles;

/// <summary>Which part of a pair input a condition looks at.</summary>
public enum OracleSegment
{
    /// <summary>Anywhere in the (unpadded) input.</summary>
    Any,

    /// <summary>The first sequence (premise / context): before and including the first separator, or token type 0.</summary>
    First,

    /// <summary>The second sequence (hypothesis / target): after the first separator, or token type 1.</summary>
    Second,
}

/// <summary>"The input holds <paramref name="TokenId"/> (in <paramref name="Segment"/>)", ignoring padded positions.</summary>
public readonly record struct OracleCondition(int TokenId, OracleSegment Segment = OracleSegment.Any);

/// <summary>Optional extra work an oracle does before answering, for cancellation and timeout tests.</summary>
/// <param name="Steps">Chained [Size,Size] matrix products, one graph node each (cancellation is checked between nodes).</param>
/// <param name="Size">Side of the matrices: the work is about 2·Size³ floating point operations per step.</param>
public sealed record OracleSlowPath(int Steps, int Size = 256);

/// <summary>What every oracle shares: the tokenizer it is used with and the shape of its inputs.</summary>
public abstract record OracleSpec
{
    /// <summary>Vocabulary size and special ids of the tokenizer the oracle's folder ships with.</summary>
    public required TokenizerProfile Tokenizer { get; init; }

    /// <summary>
    /// config.json's max_position_embeddings (null: the tokenizer family's usual 512 or 514). The oracle refuses longer
    /// inputs the way a real model does (a position gather out of range), so a scorer that overruns it fails.
    /// </summary>
    public int? MaxPositions { get; init; }

    public TensorElementType InputElementType { get; init; } = TensorElementType.Int64;

    /// <summary>
    /// Whether the model takes <c>token_type_ids</c> (null: BERT-style families do, RoBERTa does not). With them,
    /// segments come from the type ids; without, from the first separator.
    /// </summary>
    public bool? HasTokenTypeIds { get; init; }

    public OracleSlowPath? SlowPath { get; init; }

    internal int EffectiveMaxPositions => MaxPositions ?? Tokenizer.DefaultMaxPositions;

    internal bool EffectiveTokenTypeIds => HasTokenTypeIds ?? Tokenizer.Family != EncoderFamily.Roberta;

    internal virtual void Validate()
    {
        Require(Tokenizer.VocabSize > 0, "the tokenizer's vocabulary is empty");
        Require(EffectiveMaxPositions > (Tokenizer.Family == EncoderFamily.Roberta ? Tokenizer.PadId + 1 : 0),
            $"MaxPositions {EffectiveMaxPositions} leaves no usable length");
        Require(InputElementType is TensorElementType.Int64 or TensorElementType.Int32,
            $"InputElementType must be Int64 or Int32 (got {InputElementType})");
        Require(SlowPath is null || (SlowPath.Steps > 0 && SlowPath.Size > 0), "a slow path needs positive Steps and Size");
    }

    internal void RequireToken(int id, string what) =>
        Require(id >= 0 && id < Tokenizer.VocabSize, $"{what}: token id {id} is outside the vocabulary of {Tokenizer.VocabSize}");

    internal void RequireConditions(IEnumerable<OracleCondition> conditions, string what)
    {
        foreach (var condition in conditions)
        {
            RequireToken(condition.TokenId, what);
        }
    }

    internal static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"invalid oracle spec: {message}");
        }
    }
}

/// <summary>
/// One rule of the oracle MLM: when all <see cref="Conditions"/> hold for the input (and the neighbours match, if
/// given), a mask position predicts <see cref="Ranking"/>: the first id gets the highest logit, the next ones
/// decreasing logits, every other id 0.
/// </summary>
public sealed record OracleMlmRule
{
    public required IReadOnlyList<int> Ranking { get; init; }

    public IReadOnlyList<OracleCondition> Conditions { get; init; } = [];

    /// <summary>The id just before the mask must be this one (lets one input's masks predict different words).</summary>
    public int? PreviousId { get; init; }

    /// <summary>The id just after the mask must be this one.</summary>
    public int? NextId { get; init; }

    /// <summary>"If the input contains <paramref name="contextId"/>, predict <paramref name="ranking"/>."</summary>
    public static OracleMlmRule WhenContains(int contextId, params int[] ranking) =>
        new() { Ranking = ranking, Conditions = [new OracleCondition(contextId)] };
}

/// <summary>
/// An MLM whose logits are chosen: at each mask id position the first matching rule's ranking (else
/// <see cref="DefaultRanking"/>); at every other position its own input id, so "agrees with the text" is expressible.
/// Output logits [B,T,V].
/// </summary>
public sealed record MlmOracleSpec : OracleSpec
{
    /// <summary>Logit of the top-ranked id; rank r gets TopLogit − r·RankStep, unranked ids 0.</summary>
    public const float TopLogit = 20f;

    public const float RankStep = 1f;

    public IReadOnlyList<OracleMlmRule> Rules { get; init; } = [];

    /// <summary>The ranking when no rule matches; empty: all logits 0 (every id ties).</summary>
    public IReadOnlyList<int> DefaultRanking { get; init; } = [];

    internal override void Validate()
    {
        base.Validate();
        RequireToken(Tokenizer.MaskId, "the mask token");
        Require(Rules.Count < 1 << 20, "too many rules");
        foreach (var rule in Rules)
        {
            Require(rule.Ranking.Count > 0, "a rule needs at least one predicted id");
            Require(rule.Ranking.Count < TopLogit / RankStep, $"a ranking holds at most {(int)(TopLogit / RankStep) - 1} ids");
            Require(rule.Ranking.Distinct().Count() == rule.Ranking.Count, "a ranking lists each id once");
            foreach (var id in rule.Ranking)
            {
                RequireToken(id, "a predicted id");
            }
            RequireConditions(rule.Conditions, "a rule condition");
            if (rule.PreviousId is { } previous)
            {
                RequireToken(previous, "PreviousId");
            }
            if (rule.NextId is { } next)
            {
                RequireToken(next, "NextId");
            }
        }
        Require(DefaultRanking.Count < TopLogit / RankStep, "the default ranking is too long");
        foreach (var id in DefaultRanking)
        {
            RequireToken(id, "a default prediction");
        }
    }
}

/// <summary>Probabilities an NLI oracle returns; any non-negative scale (percentages are fine), normalised on use.</summary>
public readonly record struct NliProbabilities(double Entailment, double Neutral, double Contradiction)
{
    internal double Sum => Entailment + Neutral + Contradiction;
}

/// <summary>When all <see cref="Conditions"/> hold, the NLI oracle answers <see cref="Probabilities"/>.</summary>
public sealed record OracleNliRule(IReadOnlyList<OracleCondition> Conditions, NliProbabilities Probabilities)
{
    /// <summary>"If the hypothesis (second segment) contains <paramref name="hypothesisId"/>, answer <paramref name="probabilities"/>."</summary>
    public static OracleNliRule WhenHypothesisContains(int hypothesisId, NliProbabilities probabilities) =>
        new([new OracleCondition(hypothesisId, OracleSegment.Second)], probabilities);

    /// <summary>Both directions of a replacement can be told apart: premise holds one id, hypothesis the other.</summary>
    public static OracleNliRule WhenPair(int premiseId, int hypothesisId, NliProbabilities probabilities) =>
        new([new OracleCondition(premiseId, OracleSegment.First), new OracleCondition(hypothesisId, OracleSegment.Second)],
            probabilities);
}

/// <summary>
/// An NLI model that answers chosen probabilities: the first matching rule's, else <see cref="Default"/>. Logits are
/// log(p) in the order of <see cref="Labels"/> (config.json id2label), so a softmax gives p back to float precision.
/// Output logits [B,3].
/// </summary>
public sealed record NliOracleSpec : OracleSpec
{
    public IReadOnlyList<OracleNliRule> Rules { get; init; } = [];

    public NliProbabilities Default { get; init; } = new(1, 1, 1);

    /// <summary>id2label in output order: one label each for entailment, neutral and contradiction, any order and case.</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"];

    internal override void Validate()
    {
        base.Validate();
        Require(Labels.Count == 3, $"an NLI oracle has 3 labels (got {Labels.Count})");
        Require(Labels.All(label => NliLabels.Kind(label) >= 0) && Labels.Select(NliLabels.Kind).Distinct().Count() == 3,
            $"the labels [{string.Join(", ", Labels)}] must name entailment, neutral and contradiction once each");
        foreach (var rule in Rules.Select(r => r.Probabilities).Append(Default))
        {
            Require(rule.Entailment >= 0 && rule.Neutral >= 0 && rule.Contradiction >= 0 && rule.Sum > 0 && double.IsFinite(rule.Sum),
                $"probabilities {rule} must be non-negative with a positive sum");
        }
        foreach (var rule in Rules)
        {
            RequireConditions(rule.Conditions, "an NLI rule condition");
        }
    }
}

/// <summary>
/// An ELECTRA discriminator whose logit for each token depends only on its id: <see cref="Logits"/> where given, else
/// <see cref="DefaultLogit"/>. Output logits [B,T], or [B,T,1] with <see cref="TrailingAxis"/>.
/// </summary>
public sealed record RtdOracleSpec : OracleSpec
{
    public IReadOnlyDictionary<int, float> Logits { get; init; } = new Dictionary<int, float>();

    public float DefaultLogit { get; init; } = -4f;

    public bool TrailingAxis { get; init; }

    /// <summary>"Ids in <paramref name="marked"/> → <paramref name="markedLogit"/>, every other id → <paramref name="otherLogit"/>."</summary>
    public static RtdOracleSpec Marking(TokenizerProfile tokenizer, IEnumerable<int> marked, float markedLogit, float otherLogit) =>
        new()
        {
            Tokenizer = tokenizer,
            Logits = marked.Distinct().ToDictionary(id => id, _ => markedLogit),
            DefaultLogit = otherLogit,
        };

    internal override void Validate()
    {
        base.Validate();
        foreach (var (id, logit) in Logits)
        {
            RequireToken(id, "an RTD logit");
            Require(float.IsFinite(logit), $"the logit of id {id} is not finite");
        }
        Require(float.IsFinite(DefaultLogit), "DefaultLogit is not finite");
    }
}

/// <summary>
/// A token classifier whose BIO label depends only on the token id: <see cref="TokenLabels"/> where given, else
/// <see cref="DefaultLabel"/>. The chosen label's logit is <see cref="ChosenLogit"/>, the others 0. Output [B,T,L].
/// </summary>
public sealed record NerOracleSpec : OracleSpec
{
    public const float ChosenLogit = 10f;

    /// <summary>id2label in output order.</summary>
    public IReadOnlyList<string> Labels { get; init; } = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"];

    public IReadOnlyDictionary<int, string> TokenLabels { get; init; } = new Dictionary<int, string>();

    public string DefaultLabel { get; init; } = "O";

    internal override void Validate()
    {
        base.Validate();
        Require(Labels.Count > 0 && Labels.Distinct(StringComparer.Ordinal).Count() == Labels.Count, "labels must be non-empty and distinct");
        Require(Labels.Contains(DefaultLabel, StringComparer.Ordinal), $"the default label '{DefaultLabel}' is not among the labels");
        foreach (var (id, label) in TokenLabels)
        {
            RequireToken(id, "a labelled token");
            Require(Labels.Contains(label, StringComparer.Ordinal), $"token {id}'s label '{label}' is not among the labels");
        }
    }
}

/// <summary>Recognises NLI label names the way checkpoints spell them (ENTAILMENT, entailment, Contradiction…).</summary>
internal static class NliLabels
{
    public const int Entailment = 0;
    public const int Neutral = 1;
    public const int Contradiction = 2;

    public static int Kind(string label)
    {
        var upper = label.Trim().ToUpperInvariant();
        return upper.StartsWith("ENTAIL", StringComparison.Ordinal) ? Entailment
            : upper.StartsWith("NEUTRAL", StringComparison.Ordinal) ? Neutral
            : upper.StartsWith("CONTRADICT", StringComparison.Ordinal) ? Contradiction
            : -1;
    }
}
