using BenchmarkDotNet.Attributes;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Bench.Inference;

/// <summary>
/// What the binding adds around ONNX Runtime for one small batch (8 × 32 tokens through an embedding of 1,000 × 64 and
/// a 64 × 1,000 projection): a plain Run that allocates its outputs (the baseline), a Run into caller-owned output
/// tensors, an IO-bound Run, and the cost of renting the two input tensors from the pinned pool.
/// </summary>
[MemoryDiagnoser]
public class RunOverheadBenchmarks : IDisposable
{
    private const int Batch = 8;
    private const int Sequence = 32;
    private const int Vocabulary = 1000;
    private const int Hidden = 64;

    private string _folder = string.Empty;
    private InferenceEnvironment _environment = null!;
    private InferenceSession _session = null!;
    private OrtTensor<long> _ids = null!;
    private OrtTensor<long> _mask = null!;
    private OrtTensor<float> _logits = null!;
    private IoBinding _binding = null!;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"riverbed-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "model.onnx");
        BuildModel().Save(path);
        _environment = InferenceEnvironment.Create(OrtLogLevel.Error);
        _session = InferenceSession.Create(_environment, path, new SessionOptions { IntraOpThreads = 1 });
        _ids = OrtTensor.Create<long>(Batch, Sequence);
        _mask = OrtTensor.Create<long>(Batch, Sequence);
        for (var i = 0; i < _ids.Span.Length; i++)
        {
            _ids.Span[i] = (i * 37) % Vocabulary;
            _mask.Span[i] = 1;
        }
        _logits = OrtTensor.Create<float>(Batch, Sequence, Vocabulary);
        _binding = _session.CreateIoBinding();
        _binding.BindInput("input_ids", _ids);
        _binding.BindInput("attention_mask", _mask);
        _binding.BindOutput("logits", _logits);
    }

    [Benchmark(Baseline = true)]
    public float PlainRun()
    {
        using var result = _session.Run([("input_ids", _ids), ("attention_mask", _mask)]);
        return result[0].GetData<float>()[0];
    }

    [Benchmark]
    public float RunIntoOwnedOutputs()
    {
        _session.Run([("input_ids", _ids), ("attention_mask", _mask)], [("logits", _logits)]);
        return _logits.Span[0];
    }

    [Benchmark]
    public float BoundRun()
    {
        using var result = _session.Run(_binding);
        return _logits.Span[0];
    }

    [Benchmark]
    public long RentInputTensors()
    {
        using var ids = OrtTensor.CreateUninitialized<long>(Batch, Sequence);
        using var mask = OrtTensor.CreateUninitialized<long>(Batch, Sequence);
        return ids.ElementCount + mask.ElementCount;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _binding?.Dispose();
        _logits?.Dispose();
        _ids?.Dispose();
        _mask?.Dispose();
        _session?.Dispose();
        _environment?.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
        GC.SuppressFinalize(this);
    }

    private static OnnxModel BuildModel()
    {
        var random = new Random(7);
        float[] Weights(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5))];
        var b = new OnnxGraphBuilder("bench");
        var ids = b.Input("input_ids", TensorElementType.Int64, "batch", "sequence");
        var mask = b.Input("attention_mask", TensorElementType.Int64, "batch", "sequence");
        var hidden = b.Node("Gather", [b.Weight("embeddings", [Vocabulary, Hidden], Weights(Vocabulary * Hidden)), ids]);
        var gate = b.Node("Unsqueeze", [b.Node("Cast", [mask], OnnxAttribute.Int("to", (long)TensorElementType.Float)), b.Int64s("axis", -1)]);
        var logits = b.Node("MatMul", [b.Node("Mul", [hidden, gate]), b.Weight("decoder", [Hidden, Vocabulary], Weights(Hidden * Vocabulary))]);
        b.Output(logits, "logits", TensorElementType.Float, "batch", "sequence", Vocabulary);
        return b.Build();
    }
}
