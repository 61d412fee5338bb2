using System.Runtime.CompilerServices;
using Riverbed.Tokenization;

namespace Riverbed.Scoring;

/// <summary>
/// What the scorers ask of the models, one request at a time. Scorers never see a session or a batch: the pipeline
/// implements this with batching across many examples; <c>DirectModelBackend</c> answers each request alone. An
/// implementation must give the same answer (within 1e-5) for a request whatever else it batches it with.
/// </summary>
public interface IModelBackend
{
    /// <summary>The masked language model, or null when there is none (fill-and-compare is then skipped).</summary>
    ModelRoleInfo? Mlm { get; }

    /// <summary>The NLI model, or null (fill-and-compare and self-contradiction are then skipped).</summary>
    ModelRoleInfo? Nli { get; }

    /// <summary>The replaced-token detector (ELECTRA discriminator), or null (its scorer is then skipped).</summary>
    ModelRoleInfo? Rtd { get; }

    /// <summary>The token classifier for entities, or null (entities then come from <see cref="EntityHeuristic"/>).</summary>
    ModelRoleInfo? Ner { get; }

    /// <summary>
    /// The top <see cref="FillMaskRequest.TopK"/> ids at each masked position, best first, restricted to
    /// <see cref="FillMaskRequest.Candidates"/>; ties go to the lower id. One prediction per masked position, in the
    /// request's order.
    /// </summary>
    ValueTask<IReadOnlyList<MaskPrediction>> FillMaskAsync(FillMaskRequest request, CancellationToken cancellationToken);

    /// <summary>Softmax (float32) over the NLI logits, mapped to entailment/neutral/contradiction by the model's labels.</summary>
    ValueTask<NliProbabilities> ClassifyPairAsync(ModelInput input, CancellationToken cancellationToken);

    /// <summary>One discriminator logit per input token ([B,T] or [B,T,1] outputs alike).</summary>
    ValueTask<float[]> ReplacedTokenLogitsAsync(ModelInput input, CancellationToken cancellationToken);

    /// <summary>The argmax label index of each input token (labels in <see cref="ModelRoleInfo.Labels"/>).</summary>
    ValueTask<int[]> EntityLabelsAsync(ModelInput input, CancellationToken cancellationToken);
}

/// <summary>What a scorer needs to know about a model to build its requests: its tokenizer, length limit and labels.</summary>
public sealed class ModelRoleInfo
{
    public ModelRoleInfo(Tokenizer tokenizer, int maxSequenceLength, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        Tokenizer = tokenizer;
        MaxSequenceLength = maxSequenceLength;
        Labels = labels;
    }

    public Tokenizer Tokenizer { get; }

    /// <summary>The longest input the model accepts, special tokens included.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>id2label in output order (NLI and NER); empty for the MLM and the discriminator.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The ids that can stand as a whole word (built once per tokenizer, shared).</summary>
    public WholeWordVocabulary WholeWords => WholeWordVocabulary.For(Tokenizer);
}

/// <summary>
/// A model input: ids with the model's special tokens already in place, unpadded (the attention mask is all ones),
/// and the token type ids when the tokenizer's template gives them (null: all zero).
/// </summary>
public sealed record ModelInput(int[] Ids, int[]? TypeIds)
{
    /// <summary>The number of real tokens.</summary>
    public int Length => Ids.Length;
}

/// <summary>"The best <paramref name="TopK"/> whole-word ids at these positions of this input."</summary>
/// <param name="MaskedPositions">Indexes into <see cref="ModelInput.Ids"/> (they hold the mask id).</param>
public sealed record FillMaskRequest(ModelInput Input, int[] MaskedPositions, WholeWordVocabulary Candidates, int TopK);

/// <summary>The predicted ids at one masked position, best first.</summary>
public sealed record MaskPrediction(int[] TopIds);

/// <summary>
/// The ids a masked-LM prediction may take: pieces that can stand as a whole word (word-initial byte-level BPE
/// pieces, WordPiece pieces that are not <c>##</c> continuations, <c>▁</c> SentencePiece pieces), not special, and
/// decoding to something with a letter or digit. Built once per tokenizer.
/// </summary>
public sealed class WholeWordVocabulary
{
    private static readonly ConditionalWeakTable<Tokenizer, WholeWordVocabulary> Cache = new();

    private readonly int[] _ids;
    private readonly bool[] _member;

    private WholeWordVocabulary(Tokenizer tokenizer)
    {
        var ids = new List<int>();
        _member = new bool[tokenizer.VocabularySize];
        for (var id = 0; id < tokenizer.VocabularySize; id++)
        {
            if (tokenizer.StartsWord(id) && !tokenizer.IsSpecialToken(id) && HasLetterOrDigit(tokenizer.DecodeToken(id)))
            {
                ids.Add(id);
                _member[id] = true;
            }
        }
        _ids = [.. ids];
    }

    /// <summary>The vocabulary of <paramref name="tokenizer"/>, built on first use and shared afterwards.</summary>
    public static WholeWordVocabulary For(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Cache.GetValue(tokenizer, t => new WholeWordVocabulary(t));
    }

    /// <summary>The member ids in ascending order.</summary>
    public ReadOnlySpan<int> Ids => _ids;

    public int Count => _ids.Length;

    /// <summary>The size of the tokenizer's vocabulary the set was built from.</summary>
    public int VocabularySize => _member.Length;

    public bool Contains(int id) => (uint)id < (uint)_member.Length && _member[id];

    private static bool HasLetterOrDigit(string text)
    {
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                return true;
            }
        }
        return false;
    }
}
