using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Riverbed.Inference;
using Riverbed.ModelKit;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Bench;

/// <summary>
/// What reading an MLM's output costs on top of the run: ModelRunner.FillMask (argmax over the whole-word vocabulary
/// at the masked rows only, read in place) against the bare Run (reference) and against copying the whole [B,T,V]
/// logits out before the same argmax (what ModelRunner avoids). Demo-sized BERT MLM (hidden 32, 2 layers) on the real
/// bert-base-uncased tokenizer, so the [B,T,30522] output is large next to the encoder's work: the worst case for
/// readout.
/// </summary>
[Config(typeof(Config))]
public class MlmReadoutBenchmarks
{
    private const int Batch = 8;
    private const int Length = 128;
    private const int MasksPerRow = 10;

    private string? _folder;
    private ModelSet? _models;
    private FillMaskRequest[] _requests = [];
    private FillMaskRequest[] _unmasked = [];
    private ModelRunner? _runner;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"riverbed-bench-mlm-{Guid.NewGuid():N}");
        var spec = EncoderSpec.Create(EncoderFamily.Bert, EncoderHead.Mlm, TokenizerProfile.BertBaseUncased.VocabSize, seed: 101);
        EncoderGenerator.Generate(spec).SaveTo(Path.Combine(_folder, "mlm"), BertTokenizerJson());
        _models = ModelSet.Open(_folder);
        _runner = _models.Mlm!.Runners[0];
        var info = _models.Mlm.Info;
        var mask = info.Tokenizer.MaskTokenId!.Value;
        _requests = new FillMaskRequest[Batch];
        for (var b = 0; b < Batch; b++)
        {
            var n = b % 2 == 0 ? Length : Length * 3 / 4;
            var ids = new int[n];
            for (var t = 0; t < n; t++)
            {
                ids[t] = t == 0 ? 101 : t == n - 1 ? 102 : 2000 + (((b * Length) + t) * 7919 % 20000);
            }
            var positions = Enumerable.Range(0, MasksPerRow).Select(m => 1 + (m * 9)).ToArray();
            foreach (var p in positions)
            {
                ids[p] = mask;
            }
            _requests[b] = new FillMaskRequest(new ModelInput(ids, null), positions, info.WholeWords, 1);
        }
        // The same batch with nothing to read: the run and the batch building alone.
        _unmasked = [.. _requests.Select(r => r with { MaskedPositions = [] })];
    }

    [Benchmark(Baseline = true, Description = "Run only")]
    public int RunOnly() => _runner!.FillMask(_unmasked, default)[0].Count;

    [Benchmark(Description = "FillMask (masked rows, in place)")]
    public int FillMask() => _runner!.FillMask(_requests, default)[0][0].TopIds[0];

    [Benchmark(Description = "Copy all logits, then argmax")]
    public int CopyAll()
    {
        // The same run through the public session, then a managed copy of every logit before reading the masked rows.
        var entry = _models!.Mlm!;
        var padded = _requests.Max(r => r.Input.Length);
        var ids = new long[Batch * padded];
        var attention = new long[ids.Length];
        for (var b = 0; b < Batch; b++)
        {
            for (var t = 0; t < _requests[b].Input.Length; t++)
            {
                ids[(b * padded) + t] = _requests[b].Input.Ids[t];
                attention[(b * padded) + t] = 1;
            }
        }
        long[] shape = [Batch, padded];
        using var idsTensor = OrtTensor.Create(shape, ids);
        using var maskTensor = OrtTensor.Create(shape, attention);
        using var typesTensor = OrtTensor.Create<long>(shape);
        using var result = entry.Folder.Session.Run([new("input_ids", idsTensor), new("attention_mask", maskTensor), new("token_type_ids", typesTensor)]);
        var logits = result[0].GetData<float>().ToArray();
        var vocabulary = (int)result[0].Shape[^1];
        var best = 0;
        for (var b = 0; b < Batch; b++)
        {
            var request = _requests[b];
            foreach (var position in request.MaskedPositions)
            {
                var row = logits.AsSpan(((b * padded) + position) * vocabulary, vocabulary);
                var top = -1;
                foreach (var id in request.Candidates.Ids)
                {
                    if (top < 0 || row[id] > row[top])
                    {
                        top = id;
                    }
                }
                best ^= top;
            }
        }
        return best;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _models?.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static string BertTokenizerJson()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "fixtures", "tokenizers", "bert-base-uncased", "tokenizer.json");
            if (File.Exists(Path.Combine(dir.FullName, "Riverbed.sln")) && File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        throw new FileNotFoundException("bert-base-uncased tokenizer.json not found in ../shared/fixtures beside the repository");
    }

    private sealed class Config : ManualConfig
    {
        // In process: on a shared machine the generated boilerplate project can take longer to build than BenchmarkDotNet allows.
        public Config() => AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(20)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }
}
