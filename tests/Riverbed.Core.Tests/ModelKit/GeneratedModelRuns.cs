using Riverbed.Inference;

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>The logits of one run, widened to float32 when the model returns float16.</summary>
internal sealed record ModelOutput(long[] Shape, float[] Values, TensorElementType ElementType);

/// <summary>Runs generated models through the real runtime with the standard encoder inputs.</summary>
internal static class GeneratedModelRuns
{
    // ONNX Runtime keeps one environment per process; this one lives as long as the test process.
    private static readonly Lazy<InferenceEnvironment> Environment = new(() => InferenceEnvironment.Create(OrtLogLevel.Error));

    public static ModelOutput Run(string modelPath, long[][] ids, long[][] mask, long[][]? types = null,
        TensorElementType inputType = TensorElementType.Int64, CancellationToken cancellationToken = default)
    {
        using var session = InferenceSession.Create(Environment.Value, modelPath);
        return Run(session, ids, mask, types, inputType, cancellationToken);
    }

    public static InferenceSession Open(string modelPath) => InferenceSession.Create(Environment.Value, modelPath);

    public static ModelOutput Run(InferenceSession session, long[][] ids, long[][] mask, long[][]? types = null,
        TensorElementType inputType = TensorElementType.Int64, CancellationToken cancellationToken = default)
    {
        var tensors = new List<OrtTensor>();
        try
        {
            var inputs = new List<NamedTensor>
            {
                new("input_ids", Tensor(ids, inputType, tensors)),
                new("attention_mask", Tensor(mask, inputType, tensors)),
            };
            if (types is not null)
            {
                inputs.Add(new NamedTensor("token_type_ids", Tensor(types, inputType, tensors)));
            }
            using var result = session.Run(inputs.ToArray(), cancellationToken);
            var logits = result["logits"];
            var values = logits.ElementType == TensorElementType.Float16
                ? logits.GetData<Half>().ToArray().Select(h => (float)h).ToArray()
                : logits.GetData<float>().ToArray();
            return new ModelOutput(logits.Shape.ToArray(), values, logits.ElementType);
        }
        finally
        {
            foreach (var tensor in tensors)
            {
                tensor.Dispose();
            }
        }
    }

    private static OrtTensor Tensor(long[][] rows, TensorElementType type, List<OrtTensor> owned)
    {
        long[] shape = [rows.Length, rows[0].Length];
        var flat = rows.SelectMany(row => row).ToArray();
        OrtTensor tensor = type == TensorElementType.Int32
            ? OrtTensor.Create(shape, flat.Select(v => checked((int)v)).ToArray())
            : OrtTensor.Create(shape, flat);
        owned.Add(tensor);
        return tensor;
    }
}
