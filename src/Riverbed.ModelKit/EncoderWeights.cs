namespace Riverbed.ModelKit;

/// <summary>One named weight of a generated encoder, row-major; linear layers are stored [in, out].</summary>
internal sealed record WeightTensor(string Name, long[] Dims, float[] Values);

/// <summary>
/// The weights of a generated encoder, drawn from the spec's seed. Each tensor has its own random stream named after
/// it, so the values of one tensor never depend on which other tensors exist. The graph writer and the test suite's
/// independent reference forward pass both read them from here.
/// </summary>
internal sealed class EncoderWeights
{
    // Layer norms start near the identity, with enough spread that a swapped scale and shift changes the outputs.
    private const float LayerNormSpread = 0.25f;

    private readonly Dictionary<string, WeightTensor> _byName = new(StringComparer.Ordinal);
    private readonly List<WeightTensor> _ordered = [];

    private EncoderWeights(EncoderSpec spec) => Spec = spec;

    public EncoderSpec Spec { get; }

    /// <summary>Tensors in the order they were created (the order they are written to model.onnx).</summary>
    public IReadOnlyList<WeightTensor> All => _ordered;

    public WeightTensor this[string name] => _byName.TryGetValue(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException($"the encoder has no weight named '{name}'");

    public static EncoderWeights Generate(EncoderSpec spec)
    {
        spec.Validate();
        var weights = new EncoderWeights(spec);
        int h = spec.HiddenSize, v = spec.VocabSize;

        var word = weights.Matrix(WeightNames.WordEmbeddings, v, h);
        // HF zeroes the padding row (nn.Embedding padding_idx); exported checkpoints keep it that way.
        Array.Clear(word.Values, spec.PadTokenId * h, h);
        var positions = weights.Matrix(WeightNames.PositionEmbeddings, spec.MaxPositions, h);
        if (spec.Family == EncoderFamily.Roberta)
        {
            Array.Clear(positions.Values, spec.PadTokenId * h, h);
        }
        weights.Matrix(WeightNames.TokenTypeEmbeddings, spec.TypeVocabSize, h);
        weights.LayerNorm(WeightNames.EmbeddingsLayerNorm, h);

        for (var layer = 0; layer < spec.LayerCount; layer++)
        {
            var prefix = WeightNames.Layer(layer);
            weights.Linear($"{prefix}.attention.query", h, h);
            weights.Linear($"{prefix}.attention.key", h, h);
            weights.Linear($"{prefix}.attention.value", h, h);
            weights.Linear($"{prefix}.attention.output.dense", h, h);
            weights.LayerNorm($"{prefix}.attention.output.LayerNorm", h);
            weights.Linear($"{prefix}.intermediate.dense", h, spec.IntermediateSize);
            weights.Linear($"{prefix}.output.dense", spec.IntermediateSize, h);
            weights.LayerNorm($"{prefix}.output.LayerNorm", h);
        }

        switch (spec.Head)
        {
            case EncoderHead.Mlm:
                weights.Linear("head.transform.dense", h, h);
                weights.LayerNorm("head.transform.LayerNorm", h);
                weights.Vector("head.decoder.bias", v, weights.BiasRange);
                break;
            case EncoderHead.Nli:
                weights.Linear("head.dense", h, h);
                weights.Linear("head.out_proj", h, spec.OutputWidth);
                break;
            case EncoderHead.Rtd:
                weights.Linear("head.dense", h, h);
                weights.Linear("head.dense_prediction", h, 1);
                break;
            case EncoderHead.Ner:
                weights.Linear("head.classifier", h, spec.OutputWidth);
                break;
        }
        return weights;
    }

    private float MatrixRange => Spec.InitializerRange * MathF.Sqrt(3f);

    private float BiasRange => MatrixRange;

    private WeightTensor Matrix(string name, int rows, int columns) => Add(name, [rows, columns], MatrixRange, 0f);

    private void Linear(string name, int inputs, int outputs)
    {
        Add($"{name}.weight", [inputs, outputs], MatrixRange, 0f);
        Add($"{name}.bias", [outputs], BiasRange, 0f);
    }

    private void LayerNorm(string name, int size)
    {
        Add($"{name}.weight", [size], LayerNormSpread, 1f);
        Add($"{name}.bias", [size], LayerNormSpread, 0f);
    }

    private void Vector(string name, int size, float range) => Add(name, [size], range, 0f);

    private WeightTensor Add(string name, long[] dims, float range, float offset)
    {
        long count = 1;
        foreach (var dim in dims)
        {
            count *= dim;
        }
        var values = new float[count];
        SeededRandom.ForStream(Spec.Seed, name).Fill(values, range, offset);
        if (Spec.Weights == WeightPrecision.Float16)
        {
            // Round once here, so the graph stores exactly these values and a reference computation sees them too.
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(Half)values[i];
            }
        }
        var tensor = new WeightTensor(name, dims, values);
        _byName.Add(name, tensor);
        _ordered.Add(tensor);
        return tensor;
    }
}

/// <summary>Weight names shared by the graph writer and whoever reads the weights back.</summary>
internal static class WeightNames
{
    public const string WordEmbeddings = "embeddings.word_embeddings.weight";
    public const string PositionEmbeddings = "embeddings.position_embeddings.weight";
    public const string TokenTypeEmbeddings = "embeddings.token_type_embeddings.weight";
    public const string EmbeddingsLayerNorm = "embeddings.LayerNorm";

    public static string Layer(int index) => $"encoder.layer.{index}";
}
