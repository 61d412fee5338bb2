using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.ModelKit;

/// <summary>
/// Writes BERT/RoBERTa/ELECTRA-shaped encoders as real ONNX graphs (opset 17) with seeded weights: the same operators
/// an exported checkpoint has (Gather embeddings, LayerNormalization, MatMul attention with an additive mask bias,
/// erf GELU), so the runtime does the same work a user's model makes it do.
/// </summary>
public static class EncoderGenerator
{
    /// <summary>
    /// Changes whenever the graph or the weights of a given spec change; stamped into the model's metadata and the
    /// demo folder, so stale generated models are recognised and rebuilt.
    /// </summary>
    public const string Version = "1";

    // Classic BERT's additive mask value: exp(−10000) is exactly 0 in float32, and it cannot overflow.
    internal const float MaskedScoreBias = -10000f;

    public static GeneratedModel Generate(EncoderSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var weights = EncoderWeights.Generate(spec);
        return new GeneratedModel(Build(weights), HuggingFaceConfig.ForEncoder(spec));
    }

    internal static OnnxModel Build(EncoderWeights weights)
    {
        var spec = weights.Spec;
        var ops = new GraphOps(new OnnxGraphBuilder("riverbed_encoder"));
        var g = ops.Builder;
        var initializers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tensor in weights.All)
        {
            initializers[tensor.Name] = spec.Weights == WeightPrecision.Float16
                ? ops.Cast(g.Add(OnnxTensor.FromHalfs(tensor.Name, tensor.Dims, ToHalfs(tensor.Values))), TensorElementType.Float)
                : g.Weight(tensor.Name, tensor.Dims, tensor.Values);
        }
        string W(string name) => initializers[name];

        var inputs = ModelInputs.Declare(ops, spec.InputElementType, spec.HasTokenTypeIds);
        var ids = inputs.InputIds;

        // Embeddings.
        var embedded = ops.Gather(W(WeightNames.WordEmbeddings), ids);
        string positionIds;
        if (spec.Family == EncoderFamily.Roberta)
        {
            // HF's create_position_ids_from_input_ids: cumsum of the non-pad mask, times the mask, plus padding_idx.
            var padId = ops.Int64(spec.PadTokenId);
            var notPad = ops.Cast(ops.Not(ops.Equal(ids, padId)), TensorElementType.Int64);
            positionIds = ops.Add(ops.Mul(ops.CumSum(notPad, 1), notPad), padId);
        }
        else
        {
            positionIds = ops.Op("Range", ops.Int64(0), ops.Dimension(ids, 1), ops.Int64(1));
        }
        embedded = ops.Add(embedded, ops.Gather(W(WeightNames.PositionEmbeddings), positionIds));
        // Without token_type_ids HF uses type 0 everywhere, which is one row broadcast over [B,T].
        var typeIds = inputs.TokenTypeIds ?? ops.Int64(0);
        embedded = ops.Add(embedded, ops.Gather(W(WeightNames.TokenTypeEmbeddings), typeIds));
        var hidden = LayerNorm(ops, embedded, W, WeightNames.EmbeddingsLayerNorm, spec.LayerNormEpsilon, spec.DecomposedLayerNorm);

        // [B,T] mask → [B,1,1,T] additive bias over the keys.
        var maskFloat = ops.Cast(inputs.AttentionMask, TensorElementType.Float);
        var scoreBias = ops.Unsqueeze(ops.Mul(ops.Sub(ops.Float(1f), maskFloat), ops.Float(MaskedScoreBias)), 1, 2);

        for (var layer = 0; layer < spec.LayerCount; layer++)
        {
            hidden = EncoderLayer(ops, spec, hidden, scoreBias, W, WeightNames.Layer(layer));
        }

        var logits = spec.Head switch
        {
            EncoderHead.Mlm => MaskedLmHead(ops, spec, hidden, W),
            EncoderHead.Nli => ClassificationHead(ops, hidden, W),
            EncoderHead.Rtd => DiscriminatorHead(ops, spec, hidden, W),
            EncoderHead.Ner => ops.Linear(hidden, W("head.classifier.weight"), W("head.classifier.bias")),
            _ => throw new ArgumentOutOfRangeException(nameof(weights), spec.Head, "unknown head"),
        };
        if (spec.OutputElementType != TensorElementType.Float)
        {
            logits = ops.Cast(logits, spec.OutputElementType);
        }
        g.Output(logits, "logits", spec.OutputElementType, OutputShape(spec));

        var model = g.Build(17);
        model.Metadata["riverbed.generator"] = $"encoder v{Version}";
        model.Metadata["riverbed.spec"] = Describe(spec);
        return model;
    }

    internal static string Describe(EncoderSpec spec) =>
        $"{spec.Family} {spec.Head} vocab={spec.VocabSize} hidden={spec.HiddenSize} layers={spec.LayerCount} " +
        $"heads={spec.HeadCount} intermediate={spec.IntermediateSize} positions={spec.MaxPositions} " +
        $"types={spec.TypeVocabSize} seed={spec.Seed} weights={spec.Weights}" + (spec.DecomposedLayerNorm ? " layernorm=decomposed" : string.Empty);

    private static OnnxDimension[] OutputShape(EncoderSpec spec) => spec.Head switch
    {
        EncoderHead.Nli => ["batch", spec.OutputWidth],
        EncoderHead.Rtd when !spec.RtdTrailingAxis => ["batch", "sequence"],
        _ => ["batch", "sequence", spec.OutputWidth],
    };

    private static string EncoderLayer(GraphOps ops, EncoderSpec spec, string hidden, string scoreBias,
        Func<string, string> w, string prefix)
    {
        long heads = spec.HeadCount, headSize = spec.HiddenSize / spec.HeadCount;
        string Project(string name) =>
            ops.Reshape(ops.Linear(hidden, w($"{prefix}.attention.{name}.weight"), w($"{prefix}.attention.{name}.bias")),
                0, 0, heads, headSize);

        var query = ops.Transpose(Project("query"), 0, 2, 1, 3);  // [B,h,T,d]
        var key = ops.Transpose(Project("key"), 0, 2, 3, 1);      // [B,h,d,T]
        var value = ops.Transpose(Project("value"), 0, 2, 1, 3);  // [B,h,T,d]
        var scores = ops.Add(ops.Mul(ops.MatMul(query, key), ops.Float(1f / MathF.Sqrt(headSize))), scoreBias);
        var context = ops.MatMul(ops.Softmax(scores), value);
        var merged = ops.Reshape(ops.Transpose(context, 0, 2, 1, 3), 0, 0, spec.HiddenSize);
        var attention = ops.Linear(merged, w($"{prefix}.attention.output.dense.weight"), w($"{prefix}.attention.output.dense.bias"));
        var afterAttention = LayerNorm(ops, ops.Add(attention, hidden), w, $"{prefix}.attention.output.LayerNorm", spec.LayerNormEpsilon, spec.DecomposedLayerNorm);

        var intermediate = ops.Gelu(ops.Linear(afterAttention, w($"{prefix}.intermediate.dense.weight"), w($"{prefix}.intermediate.dense.bias")));
        var output = ops.Linear(intermediate, w($"{prefix}.output.dense.weight"), w($"{prefix}.output.dense.bias"));
        return LayerNorm(ops, ops.Add(output, afterAttention), w, $"{prefix}.output.LayerNorm", spec.LayerNormEpsilon, spec.DecomposedLayerNorm);
    }

    private static string MaskedLmHead(GraphOps ops, EncoderSpec spec, string hidden, Func<string, string> w)
    {
        var transformed = ops.Gelu(ops.Linear(hidden, w("head.transform.dense.weight"), w("head.transform.dense.bias")));
        transformed = LayerNorm(ops, transformed, w, "head.transform.LayerNorm", spec.LayerNormEpsilon, spec.DecomposedLayerNorm);
        // The decoder is tied to the word embeddings, as in every BERT/RoBERTa checkpoint; ORT folds the transpose.
        var decoder = ops.Transpose(w(WeightNames.WordEmbeddings), 1, 0);
        return ops.Add(ops.MatMul(transformed, decoder), w("head.decoder.bias"));
    }

    private static string ClassificationHead(GraphOps ops, string hidden, Func<string, string> w)
    {
        var first = ops.Gather(hidden, ops.Int64(0), axis: 1);  // [B,H]: the <s>/[CLS] token
        var pooled = ops.Op("Tanh", ops.Linear(first, w("head.dense.weight"), w("head.dense.bias")));
        return ops.Linear(pooled, w("head.out_proj.weight"), w("head.out_proj.bias"));
    }

    private static string DiscriminatorHead(GraphOps ops, EncoderSpec spec, string hidden, Func<string, string> w)
    {
        var transformed = ops.Gelu(ops.Linear(hidden, w("head.dense.weight"), w("head.dense.bias")));
        var logits = ops.Linear(transformed, w("head.dense_prediction.weight"), w("head.dense_prediction.bias")); // [B,T,1]
        return spec.RtdTrailingAxis ? logits : ops.Squeeze(logits, -1);
    }

    private static string LayerNorm(GraphOps ops, string value, Func<string, string> w, string name, float epsilon, bool decomposed) =>
        decomposed
            ? ops.DecomposedLayerNorm(value, w($"{name}.weight"), w($"{name}.bias"), epsilon)
            : ops.LayerNorm(value, w($"{name}.weight"), w($"{name}.bias"), epsilon);

    private static Half[] ToHalfs(float[] values)
    {
        var halfs = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halfs[i] = (Half)values[i];
        }
        return halfs;
    }
}

/// <summary>The graph inputs every generated model declares, cast to int64 where the graph needs it.</summary>
internal sealed record ModelInputs(string InputIds, string AttentionMask, string? TokenTypeIds)
{
    public static ModelInputs Declare(GraphOps ops, TensorElementType elementType, bool tokenTypeIds)
    {
        var g = ops.Builder;
        string Declare(string name)
        {
            var input = g.Input(name, elementType, "batch", "sequence");
            return elementType == TensorElementType.Int64 ? input : ops.Cast(input, TensorElementType.Int64);
        }
        var ids = Declare("input_ids");
        var mask = Declare("attention_mask");
        return new ModelInputs(ids, mask, tokenTypeIds ? Declare("token_type_ids") : null);
    }
}
