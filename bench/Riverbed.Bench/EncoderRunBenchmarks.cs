using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Riverbed.Inference;
using Riverbed.ModelKit;

namespace Riverbed.Bench;

/// <summary>
/// Latency and throughput of one InferenceSession.Run on a small generated encoder (BERT-shaped, hidden 256, 4 layers,
/// 30,522-token vocabulary, NLI head so the output stays small and the encoder dominates) as the batch grows, with
/// one and two intra-op threads. The reference is batch 1 with the same thread count: "vs batch 1" is the ratio of
/// tokens per second.
/// </summary>
[Config(typeof(Config))]
public class EncoderRunBenchmarks
{
    private const int SequenceLength = 128;

    private InferenceEnvironment? _environment;
    private InferenceSession? _session;
    private OrtTensor[] _tensors = [];
    private NamedTensor[] _inputs = [];
    private string? _folder;

    [Params(1, 8, 32)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var spec = EncoderSpec.Create(EncoderFamily.Bert, EncoderHead.Nli, TokenizerProfile.BertBaseUncased.VocabSize) with
        {
            HiddenSize = 256,
            LayerCount = 4,
            HeadCount = 4,
            IntermediateSize = 1024,
            Seed = 42,
        };
        _folder = Path.Combine(Path.GetTempPath(), $"riverbed-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "model.onnx");
        EncoderGenerator.Generate(spec).Model.Save(path);

        _environment = InferenceEnvironment.Create(OrtLogLevel.Error);
        _session = InferenceSession.Create(_environment, path, new SessionOptions { IntraOpThreads = Threads });

        // Realistic inputs: varied ids, the last quarter of every other row padded.
        var ids = new long[Batch * SequenceLength];
        var mask = new long[ids.Length];
        var types = new long[ids.Length];
        for (var b = 0; b < Batch; b++)
        {
            var length = b % 2 == 0 ? SequenceLength : SequenceLength * 3 / 4;
            for (var t = 0; t < SequenceLength; t++)
            {
                var i = (b * SequenceLength) + t;
                ids[i] = t >= length ? 0 : t == 0 ? 101 : t == length - 1 ? 102 : 1000 + ((i * 7919) % 28000);
                mask[i] = t < length ? 1 : 0;
                types[i] = t >= length / 2 && t < length ? 1 : 0;
            }
        }
        long[] shape = [Batch, SequenceLength];
        _tensors = [OrtTensor.Create(shape, ids), OrtTensor.Create(shape, mask), OrtTensor.Create(shape, types)];
        _inputs = [new("input_ids", _tensors[0]), new("attention_mask", _tensors[1]), new("token_type_ids", _tensors[2])];
    }

    [Benchmark(Description = "Run")]
    public float Run()
    {
        using var result = _session!.Run(_inputs);
        return result[0].GetData<float>()[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }
        _session?.Dispose();
        _environment?.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8));
            AddColumn(new TokensPerSecondColumn(relativeToBatchOne: false), new TokensPerSecondColumn(relativeToBatchOne: true));
        }
    }

    /// <summary>Tokens per second (batch × sequence length / mean time), or its ratio to batch 1 at the same thread count.</summary>
    private sealed class TokensPerSecondColumn(bool relativeToBatchOne) : IColumn
    {
        public string Id => relativeToBatchOne ? "TokensPerSecondVsBatch1" : "TokensPerSecond";

        public string ColumnName => relativeToBatchOne ? "vs batch 1" : "Tokens/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => relativeToBatchOne ? 1 : 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => relativeToBatchOne
            ? "Tokens per second relative to batch 1 with the same number of threads"
            : "Tokens (batch × 128) processed per second";

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var rate = Rate(summary, benchmarkCase);
            if (rate is null)
            {
                return "?";
            }
            if (!relativeToBatchOne)
            {
                return rate.Value.ToString("N0", CultureInfo.InvariantCulture);
            }
            var threads = benchmarkCase.Parameters["Threads"];
            var reference = summary.BenchmarksCases.FirstOrDefault(c =>
                Equals(c.Parameters["Threads"], threads) && Equals(c.Parameters["Batch"], 1));
            var referenceRate = reference is null ? null : Rate(summary, reference);
            return referenceRate is null ? "?" : (rate.Value / referenceRate.Value).ToString("F2", CultureInfo.InvariantCulture) + "x";
        }

        private static double? Rate(Summary summary, BenchmarkCase benchmarkCase)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            if (statistics is null)
            {
                return null;
            }
            var tokens = (int)benchmarkCase.Parameters["Batch"] * (double)SequenceLength;
            return tokens / (statistics.Mean / 1e9);
        }
    }
}
