using Riverbed.Inference;
namespace Riverbed.ModelKit;

/// <summary>The architecture a generated encoder imitates: it decides position ids, defaults and config.json.</summary>
public enum EncoderFamily
{
    /// <summary>BERT: positions 0…T−1, two token types, pad id 0.</summary>
    Bert,

    /// <summary>RoBERTa: positions counted from padding_idx + 1 over non-pad tokens (as HF computes them), one token type.</summary>
    Roberta,

    /// <summary>ELECTRA: BERT's embeddings and vocabulary, with its own discriminator head.</summary>
    Electra,
}

/// <summary>The task head on top of the encoder, one per model-folder role.</summary>
public enum EncoderHead
{
    /// <summary>Masked LM: dense + GELU + LayerNorm + decoder tied to the word embeddings → logits [B,T,V].</summary>
    Mlm,

    /// <summary>NLI sequence classification on the first token: dense + tanh + classifier → logits [B,3].</summary>
    Nli,

    /// <summary>ELECTRA replaced-token detection: dense + GELU + dense → logits [B,T] (or [B,T,1]).</summary>
    Rtd,

    /// <summary>Token classification with BIO labels → logits [B,T,L].</summary>
    Ner,
}

/// <summary>How weights are stored in model.onnx. Float16 halves the file; computation stays float32.</summary>
public enum WeightPrecision
{
    Float32,
    Float16,
}

/// <summary>Preset sizes: tiny for tests and the demo, base and large for benchmarks (hundreds of MB, never committed).</summary>
public enum EncoderSize
{
    Tiny,
    Base,
    Large,
}

/// <summary>
/// Everything that determines a generated encoder: same spec, same bytes. Start from <see cref="Create"/> and adjust
/// with <c>with { … }</c>; <see cref="EncoderGenerator.Generate"/> validates it.
/// </summary>
public sealed record EncoderSpec
{
    public EncoderFamily Family { get; init; } = EncoderFamily.Bert;

    public EncoderHead Head { get; init; } = EncoderHead.Mlm;

    /// <summary>Rows of the word embedding: the tokenizer's vocabulary size, added tokens included.</summary>
    public required int VocabSize { get; init; }

    public int HiddenSize { get; init; } = 32;

    public int LayerCount { get; init; } = 2;

    public int HeadCount { get; init; } = 2;

    public int IntermediateSize { get; init; } = 128;

    /// <summary>Rows of the position embedding (RoBERTa: the usable length + padding_idx + 1, e.g. 514).</summary>
    public int MaxPositions { get; init; } = 512;

    public int TypeVocabSize { get; init; } = 2;

    public int PadTokenId { get; init; }

    public float LayerNormEpsilon { get; init; } = 1e-12f;

    /// <summary>Weights are uniform in ±range·√3 (standard deviation = range, like HF's initializer_range).</summary>
    public float InitializerRange { get; init; } = 0.02f;

    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Write each layer norm as ReduceMean, Sub, Pow, Sqrt, Div, Mul and Add, as exports at opsets before 17 do,
    /// instead of one LayerNormalization operator (same numbers; a different graph for rewrites to recognise).
    /// </summary>
    public bool DecomposedLayerNorm { get; init; }

    public WeightPrecision Weights { get; init; } = WeightPrecision.Float32;

    /// <summary>Whether the model takes a <c>token_type_ids</c> input (BERT exports do, RoBERTa exports usually not).</summary>
    public bool HasTokenTypeIds { get; init; } = true;

    /// <summary>Element type of the three integer inputs: int64 (what exporters produce) or int32.</summary>
    public TensorElementType InputElementType { get; init; } = TensorElementType.Int64;

    /// <summary>Element type of <c>logits</c>: float32, or float16 like a model converted with fp16 outputs.</summary>
    public TensorElementType OutputElementType { get; init; } = TensorElementType.Float;

    /// <summary>RTD only: logits [B,T,1] instead of [B,T], as some discriminator exports have.</summary>
    public bool RtdTrailingAxis { get; init; }

    /// <summary>id2label for the NLI and NER heads, in output order; null takes the head's default.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>roberta-large-mnli's order.</summary>
    public static IReadOnlyList<string> DefaultNliLabels { get; } = ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"];

    /// <summary>CoNLL-2003 BIO labels in the order common BERT NER checkpoints use.</summary>
    public static IReadOnlyList<string> DefaultNerLabels { get; } =
        ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"];

    /// <summary>The labels in output order (empty for heads without labels).</summary>
    public IReadOnlyList<string> EffectiveLabels => Head switch
    {
        EncoderHead.Nli => Labels ?? DefaultNliLabels,
        EncoderHead.Ner => Labels ?? DefaultNerLabels,
        _ => [],
    };

    /// <summary>Size of the last axis of <c>logits</c>.</summary>
    public int OutputWidth => Head switch
    {
        EncoderHead.Mlm => VocabSize,
        EncoderHead.Rtd => 1,
        _ => EffectiveLabels.Count,
    };

    /// <summary>A spec with the family's conventions (pad id, positions, token types, epsilon) and a preset size.</summary>
    public static EncoderSpec Create(EncoderFamily family, EncoderHead head, int vocabSize, EncoderSize size = EncoderSize.Tiny,
        ulong seed = 1)
    {
        var (hidden, layers, heads, intermediate) = size switch
        {
            EncoderSize.Tiny => (32, 2, 2, 128),
            EncoderSize.Base => (768, 12, 12, 3072),
            EncoderSize.Large => (1024, 24, 16, 4096),
            _ => throw new ArgumentOutOfRangeException(nameof(size), size, "unknown encoder size"),
        };
        var roberta = family == EncoderFamily.Roberta;
        return new EncoderSpec
        {
            Family = family,
            Head = head,
            VocabSize = vocabSize,
            HiddenSize = hidden,
            LayerCount = layers,
            HeadCount = heads,
            IntermediateSize = intermediate,
            MaxPositions = roberta ? 514 : 512,
            TypeVocabSize = roberta ? 1 : 2,
            PadTokenId = roberta ? 1 : 0,
            LayerNormEpsilon = roberta ? 1e-5f : 1e-12f,
            HasTokenTypeIds = !roberta,
            Seed = seed,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException($"invalid encoder spec: {message}");
            }
        }

        Require(VocabSize > 0, $"VocabSize must be positive (got {VocabSize})");
        Require(HiddenSize > 0 && HeadCount > 0 && HiddenSize % HeadCount == 0,
            $"HiddenSize ({HiddenSize}) must be a positive multiple of HeadCount ({HeadCount})");
        Require(LayerCount >= 0, $"LayerCount must not be negative (got {LayerCount})");
        Require(IntermediateSize > 0, $"IntermediateSize must be positive (got {IntermediateSize})");
        Require(TypeVocabSize > 0, $"TypeVocabSize must be positive (got {TypeVocabSize})");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, $"PadTokenId {PadTokenId} is outside the vocabulary of {VocabSize}");
        Require(Family != EncoderFamily.Roberta || MaxPositions > PadTokenId + 1,
            $"a RoBERTa encoder needs MaxPositions > PadTokenId + 1 (got {MaxPositions})");
        Require(MaxPositions > 0, $"MaxPositions must be positive (got {MaxPositions})");
        Require(InitializerRange > 0 && float.IsFinite(InitializerRange), "InitializerRange must be positive and finite");
        Require(LayerNormEpsilon > 0, "LayerNormEpsilon must be positive");
        Require(InputElementType is TensorElementType.Int64 or TensorElementType.Int32,
            $"InputElementType must be Int64 or Int32 (got {InputElementType})");
        Require(OutputElementType is TensorElementType.Float or TensorElementType.Float16,
            $"OutputElementType must be Float or Float16 (got {OutputElementType})");
        Require(Head != EncoderHead.Rtd || Family == EncoderFamily.Electra,
            "a replaced-token-detection head belongs to an Electra-family encoder");
        Require(Head is EncoderHead.Nli ? EffectiveLabels.Count == 3 : true, "an NLI head has exactly 3 labels");
        Require(Head is EncoderHead.Ner ? EffectiveLabels.Count > 0 : true, "an NER head needs labels");
        Require(EffectiveLabels.Distinct(StringComparer.Ordinal).Count() == EffectiveLabels.Count, "labels must be distinct");
    }
}
