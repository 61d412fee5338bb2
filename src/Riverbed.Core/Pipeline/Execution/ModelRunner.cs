using System.Globalization;
using System.Numerics;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Inference.Onnx;
using Riverbed.Scoring;

namespace Riverbed.Pipeline.Execution;

/// <summary>A session of the MLM whose graph was rewritten at load to return top-k candidates at masked positions only.</summary>
/// <param name="Session">The rewritten graph's session (see <see cref="MaskedPositionHead"/>).</param>
/// <param name="Candidates">The whole-word set its constant mask allows; requests for other sets use the full logits.</param>
public sealed record MaskedHeadSession(InferenceSession Session, WholeWordVocabulary Candidates);

/// <summary>The best ids at one masked position with their logits, best first.</summary>
internal readonly record struct ScoredFill(int[] Ids, float[] Scores);

/// <summary>
/// Runs lists of <see cref="ModelInput"/>s through one session as ONE padded batch and extracts each request's result.
/// Padding uses the tokenizer's pad id with attention mask 0; token_type_ids are fed only when the model has that
/// input; ids use the element type the model declares (int64 or int32); input tensors come from the pinned pool.
/// Outputs are read in place: for the MLM only the masked positions' rows of the [B,T,V] logits are touched, and
/// top-k runs over the candidate vocabulary straight from the output span. With a <see cref="MaskedHeadSession"/> the MLM
/// instead feeds the flattened masked positions and reads [N,k] ids and scores. A request's result does not depend on
/// what else is in its batch (padding is masked). Thread-safe: sessions accept concurrent runs.
/// </summary>
public sealed class ModelRunner
{
    private readonly InferenceSession _session;
    private readonly ModelContract _contract;
    private readonly int _padId;
    private readonly string[] _outputNames;
    private readonly MaskedHeadSession? _maskedHead;

    public ModelRunner(InferenceSession session, ModelContract contract, ModelRole role, int padId, int maxSequenceLength,
        MaskedHeadSession? maskedHead = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        _session = session;
        _contract = contract;
        _padId = padId;
        Role = role;
        MaxSequenceLength = maxSequenceLength;
        _outputNames = [contract.LogitsName];
        _maskedHead = maskedHead;
    }

    /// <summary>The rewritten MLM session this runner uses for its requests, when the graph allowed the rewrite.</summary>
    public MaskedHeadSession? MaskedHead => _maskedHead;

    public ModelRole Role { get; }

    /// <summary>The session it runs (fault injection in tests sets its trigger).</summary>
    internal InferenceSession Session => _session;

    /// <summary>The longest input accepted, special tokens included.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>For each request, one prediction per masked position (in the request's order).</summary>
    public IReadOnlyList<MaskPrediction>[] FillMask(IReadOnlyList<FillMaskRequest> requests, CancellationToken cancellationToken = default)
    {
        var scored = FillMaskScored(requests, useMaskedHead: true, cancellationToken);
        var results = new IReadOnlyList<MaskPrediction>[scored.Length];
        for (var r = 0; r < scored.Length; r++)
        {
            results[r] = [.. scored[r].Select(fill => new MaskPrediction(fill.Ids))];
        }
        return results;
    }

    /// <summary>
    /// The top ids and their logits at each masked position of each request: through the masked-position head when the
    /// runner has one, <paramref name="useMaskedHead"/> is set and every request asks for the head's candidate set;
    /// from the full [B,T,V] logits otherwise. Both give the same ids and scores (the equality tests hold them to it).
    /// </summary>
    internal ScoredFill[][] FillMaskScored(IReadOnlyList<FillMaskRequest> requests, bool useMaskedHead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        RequireRole(ModelRole.MaskedLm);
        var results = new ScoredFill[requests.Count][];
        if (requests.Count == 0)
        {
            return results;
        }
        var inputs = new ModelInput[requests.Count];
        for (var r = 0; r < requests.Count; r++)
        {
            var request = requests[r];
            ArgumentNullException.ThrowIfNull(request);
            ArgumentOutOfRangeException.ThrowIfLessThan(request.TopK, 1, nameof(request.TopK));
            foreach (var position in request.MaskedPositions)
            {
                if ((uint)position >= (uint)request.Input.Ids.Length)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"masked position {position} is outside the input of {request.Input.Ids.Length} tokens"), nameof(requests));
                }
            }
            inputs[r] = request.Input;
        }
        var vocabulary = checked((int)(_contract.ModelVocabularySize ?? int.MaxValue));
        foreach (var request in requests)
        {
            if (request.Candidates.VocabularySize > vocabulary)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"the candidate vocabulary has {request.Candidates.VocabularySize} ids but the model's logits cover {vocabulary}"), nameof(requests));
            }
        }
        if (useMaskedHead && _maskedHead is { } head && requests.All(r => ReferenceEquals(r.Candidates, head.Candidates)))
        {
            return FillMaskWithHead(head, requests, inputs, cancellationToken);
        }
        using var result = Run(_session, inputs, [], _outputNames, out var length, cancellationToken);
        var logits = result[0];
        vocabulary = checked((int)logits.Shape[^1]);
        foreach (var request in requests)
        {
            if (request.Candidates.VocabularySize > vocabulary)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"the candidate vocabulary has {request.Candidates.VocabularySize} ids but the model's logits cover {vocabulary}"), nameof(requests));
            }
        }
        var nonFinite = false;
        for (var r = 0; r < requests.Count; r++)
        {
            var request = requests[r];
            var predictions = new ScoredFill[request.MaskedPositions.Length];
            for (var m = 0; m < predictions.Length; m++)
            {
                var offset = (((long)r * length) + request.MaskedPositions[m]) * vocabulary;
                predictions[m] = logits.ElementType == TensorElementType.Float16
                    ? TopK(logits.GetData<Half>().Slice(checked((int)offset), vocabulary), request.Candidates.Ids, request.TopK, ref nonFinite)
                    : TopK(logits.GetData<float>().Slice(checked((int)offset), vocabulary), request.Candidates.Ids, request.TopK, ref nonFinite);
            }
            results[r] = predictions;
        }
        RequireFinite(!nonFinite);
        return results;
    }

    /// <summary>
    /// Feeds the masked positions flattened into the padded batch (row · length + position) and the largest k asked
    /// for; the graph returns [1,N,k] logits and ids, best first, with −∞ where fewer candidates than k exist.
    /// </summary>
    private ScoredFill[][] FillMaskWithHead(MaskedHeadSession head, IReadOnlyList<FillMaskRequest> requests, ModelInput[] inputs,
        CancellationToken cancellationToken)
    {
        var results = new ScoredFill[requests.Count][];
        var length = PaddedLength(inputs);
        var total = 0;
        var k = 1;
        foreach (var request in requests)
        {
            total += request.MaskedPositions.Length;
            k = Math.Max(k, Math.Min(request.TopK, request.Candidates.Count));
        }
        if (total == 0)
        {
            for (var r = 0; r < requests.Count; r++)
            {
                results[r] = [];
            }
            return results;
        }
        k = (int)Math.Min(k, _contract.ModelVocabularySize ?? k);
        using var indices = OrtTensor.CreateUninitialized<long>(1, total);
        var flat = indices.Span;
        var at = 0;
        for (var r = 0; r < requests.Count; r++)
        {
            foreach (var position in requests[r].MaskedPositions)
            {
                flat[at++] = ((long)r * length) + position;
            }
        }
        using var topK = OrtTensor.Create<long>([1], [k]);
        using var result = Run(head.Session, inputs,
            [new NamedTensor(MaskedPositionHead.MaskedIndexInput, indices), new NamedTensor(MaskedPositionHead.TopKInput, topK)],
            [MaskedPositionHead.ScoresOutput, MaskedPositionHead.IdsOutput], out _, cancellationToken);
        var scores = result[0];
        var ids = result[1].GetData<long>();
        var nonFinite = false;
        at = 0;
        for (var r = 0; r < requests.Count; r++)
        {
            var request = requests[r];
            var predictions = new ScoredFill[request.MaskedPositions.Length];
            var wanted = Math.Min(request.TopK, request.Candidates.Count);
            for (var m = 0; m < predictions.Length; m++, at++)
            {
                predictions[m] = scores.ElementType == TensorElementType.Float16
                    ? Kept(scores.GetData<Half>().Slice(at * k, k), ids.Slice(at * k, k), wanted, ref nonFinite)
                    : Kept(scores.GetData<float>().Slice(at * k, k), ids.Slice(at * k, k), wanted, ref nonFinite);
            }
            results[r] = predictions;
        }
        RequireFinite(!nonFinite);
        return results;
    }

    /// <summary>The first <paramref name="wanted"/> entries of one TopK row that are real candidates (not masked to −∞, not NaN).</summary>
    private static ScoredFill Kept<T>(ReadOnlySpan<T> scores, ReadOnlySpan<long> ids, int wanted, ref bool nonFinite)
        where T : unmanaged, INumberBase<T>
    {
        var keptIds = new List<int>(wanted);
        var keptScores = new List<float>(wanted);
        for (var i = 0; i < scores.Length && keptIds.Count < wanted; i++)
        {
            var value = float.CreateTruncating(scores[i]);
            if (float.IsNaN(value) || float.IsPositiveInfinity(value))
            {
                // −∞ marks a candidate the whole-word mask ruled out; NaN or +∞ is a broken output (see RequireFinite).
                nonFinite = true;
                continue;
            }
            if (float.IsNegativeInfinity(value))
            {
                continue;
            }
            keptIds.Add(checked((int)ids[i]));
            keptScores.Add(value);
        }
        return new ScoredFill([.. keptIds], [.. keptScores]);
    }

    /// <summary>Softmax in float32 over each input's three logits, mapped to entailment/neutral/contradiction.</summary>
    public NliProbabilities[] ClassifyPairs(IReadOnlyList<ModelInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        RequireRole(ModelRole.Nli);
        var results = new NliProbabilities[inputs.Count];
        if (inputs.Count == 0)
        {
            return results;
        }
        var labels = _contract.NliLabels ?? throw new InvalidOperationException("the nli model's labels were not resolved");
        using var result = Run(_session, inputs, [], _outputNames, out _, cancellationToken);
        var logits = Widen(result[0], 0, inputs.Count * 3);
        Span<float> p = stackalloc float[3];
        for (var r = 0; r < inputs.Count; r++)
        {
            var row = logits.AsSpan(r * 3, 3);
            RequireFinite(float.IsFinite(row[0]) && float.IsFinite(row[1]) && float.IsFinite(row[2]));
            var max = MathF.Max(row[0], MathF.Max(row[1], row[2]));
            var sum = 0f;
            for (var i = 0; i < 3; i++)
            {
                p[i] = MathF.Exp(row[i] - max);
                sum += p[i];
            }
            results[r] = new NliProbabilities(p[labels.Entailment] / sum, p[labels.Neutral] / sum, p[labels.Contradiction] / sum);
        }
        return results;
    }

    /// <summary>The discriminator's logit for each token of each input (its first n values, n = the input's length).</summary>
    public float[][] ReplacedTokenLogits(IReadOnlyList<ModelInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        RequireRole(ModelRole.ReplacedTokenDetection);
        var results = new float[inputs.Count][];
        if (inputs.Count == 0)
        {
            return results;
        }
        using var result = Run(_session, inputs, [], _outputNames, out var length, cancellationToken);
        var output = result[0];
        for (var r = 0; r < inputs.Count; r++)
        {
            // [B,T] and [B,T,1] share one flat layout.
            results[r] = Widen(output, r * length, inputs[r].Length);
            RequireFinite(AllFinite(results[r]));
        }
        return results;
    }

    /// <summary>The argmax label index of each token of each input (ties: the lower index).</summary>
    public int[][] EntityLabels(IReadOnlyList<ModelInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        RequireRole(ModelRole.TokenClassification);
        var results = new int[inputs.Count][];
        if (inputs.Count == 0)
        {
            return results;
        }
        using var result = Run(_session, inputs, [], _outputNames, out var length, cancellationToken);
        var output = result[0];
        var labels = checked((int)output.Shape[^1]);
        for (var r = 0; r < inputs.Count; r++)
        {
            var tokens = new int[inputs[r].Length];
            for (var t = 0; t < tokens.Length; t++)
            {
                var offset = (((r * length) + t) * labels);
                tokens[t] = output.ElementType == TensorElementType.Float16
                    ? ArgMax(output.GetData<Half>().Slice(offset, labels))
                    : ArgMax(output.GetData<float>().Slice(offset, labels));
            }
            results[r] = tokens;
        }
        return results;
    }

    private void RequireRole(ModelRole role)
    {
        if (Role != role)
        {
            throw new InvalidOperationException($"this runner runs a {Role.Name()} model, not a {role.Name()} model");
        }
    }

    /// <summary>Checks the inputs and returns the padded length of their batch (the longest input).</summary>
    private int PaddedLength(IReadOnlyList<ModelInput> inputs)
    {
        var length = 0;
        foreach (var input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input);
            if (input.Ids.Length == 0)
            {
                throw new ArgumentException("a model input needs at least one token", nameof(inputs));
            }
            if (input.Ids.Length > MaxSequenceLength)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"an input of {input.Ids.Length} tokens is longer than the {Role.Name()} model accepts ({MaxSequenceLength})"), nameof(inputs));
            }
            if (input.TypeIds is { } inputTypes && inputTypes.Length != input.Ids.Length)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"an input has {input.Ids.Length} ids but {inputTypes.Length} type ids"), nameof(inputs));
            }
            length = Math.Max(length, input.Ids.Length);
        }
        return length;
    }

    /// <summary>
    /// Pads the inputs into one batch and runs it on <paramref name="session"/> with any <paramref name="extra"/> inputs;
    /// <paramref name="length"/> is the padded length.
    /// </summary>
    private RunResult Run(InferenceSession session, IReadOnlyList<ModelInput> inputs, NamedTensor[] extra, string[] outputNames,
        out int length, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        length = PaddedLength(inputs);
        using var batch = ModelInputBatch.Create(_contract.InputTypes, new RequestRows(inputs), _padId);
        return session.Run(extra.Length == 0 ? batch.Feeds : batch.FeedsWith(extra), outputNames, cancellationToken);
    }

    /// <summary>The requests as the rows <see cref="ModelInputBatch"/> pads (a request without type ids is all type 0).</summary>
    private readonly struct RequestRows(IReadOnlyList<ModelInput> inputs) : ITokenRows
    {
        public int Count => inputs.Count;

        public ReadOnlySpan<int> Ids(int row) => inputs[row].Ids;

        public ReadOnlySpan<int> TypeIds(int row) => inputs[row].TypeIds;
    }

    /// <summary>The best <paramref name="k"/> candidate ids of one logits row, best first; ties to the lower id.</summary>
    private static ScoredFill TopK<T>(ReadOnlySpan<T> row, ReadOnlySpan<int> candidates, int k, ref bool nonFinite)
        where T : unmanaged, INumberBase<T>
    {
        k = Math.Min(k, candidates.Length);
        var ids = new int[k];
        Span<float> values = k <= 64 ? stackalloc float[k] : new float[k];
        var count = 0;
        foreach (var id in candidates)
        {
            var value = float.CreateTruncating(row[id]);
            if (!float.IsFinite(value))
            {
                nonFinite = true;
                continue;
            }
            if (count == k && value <= values[count - 1])
            {
                continue;
            }
            // Candidates arrive in ascending id order: an equal value goes after those already kept.
            var at = count < k ? count : k - 1;
            while (at > 0 && values[at - 1] < value)
            {
                if (at < k)
                {
                    values[at] = values[at - 1];
                    ids[at] = ids[at - 1];
                }
                at--;
            }
            values[at] = value;
            ids[at] = id;
            count = Math.Min(count + 1, k);
        }
        return new ScoredFill(count == k ? ids : ids[..count], values[..count].ToArray());
    }

    /// <summary>
    /// A NaN or infinite output (corrupt weights, an fp16 overflow) is no score: the batch fails, and the batcher's
    /// halving isolates the request that caused it, which becomes a failed row with that reason.
    /// </summary>
    private void RequireFinite(bool finite)
    {
        if (!finite)
        {
            throw new NonFiniteOutputException(Role.Name());
        }
    }

    private static bool AllFinite(float[] values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }
        return true;
    }

    private static int ArgMax<T>(ReadOnlySpan<T> row)
        where T : unmanaged, INumberBase<T>
    {
        var best = 0;
        var bestValue = float.CreateTruncating(row[0]);
        for (var i = 1; i < row.Length; i++)
        {
            var value = float.CreateTruncating(row[i]);
            if (value > bestValue || float.IsNaN(bestValue))
            {
                best = i;
                bestValue = value;
            }
        }
        return best;
    }

    /// <summary>Copies <paramref name="count"/> values from <paramref name="start"/> as float32.</summary>
    private static float[] Widen(OutputTensor output, int start, int count)
    {
        var values = new float[count];
        if (output.ElementType == TensorElementType.Float16)
        {
            var data = output.GetData<Half>().Slice(start, count);
            for (var i = 0; i < count; i++)
            {
                values[i] = (float)data[i];
            }
        }
        else
        {
            output.GetData<float>().Slice(start, count).CopyTo(values);
        }
        return values;
    }
}
