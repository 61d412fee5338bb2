using System.Diagnostics;
using System.Globalization;
using Riverbed.Bench.Legacy;
using Riverbed.Inference;
using Riverbed.Inference.Generation;

namespace Riverbed.Bench.Inference;

/// <summary>
/// The same base-sized encoder (BERT-base shape: 768 × 12 layers, 12 heads, the 30,522-token vocabulary, NLI head)
/// run through the new facade (official Microsoft.ML.OnnxRuntime managed API) and through the old hand-written
/// binding, in one process, on the same native libonnxruntime.so, with the same pinned inputs. Runs alternate
/// (facade, binding, facade, …) so machine noise hits both alike. Prints per-path median and mean tokens/s, their
/// ratio (facade / binding) and the largest difference between the two paths' logits (expected: 0, bitwise).
/// Run: <c>dotnet run -c Release --project bench/Riverbed.Bench -- facade-vs-binding [batch] [threads] [pairs]</c>.
/// </summary>
internal static class FacadeVsBindingComparison
{
    private const int SequenceLength = 128;

    public static int Run(string[] args)
    {
        var batch = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4;
        var threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1;
        var pairs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 12;
        var folder = Path.Combine(Path.GetTempPath(), $"riverbed-compare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "model.onnx");
            var spec = EncoderSpec.Create(EncoderFamily.Bert, EncoderHead.Nli, TokenizerProfile.BertBaseUncased.VocabSize, EncoderSize.Base) with { Seed = 42 };
            EncoderGenerator.Generate(spec).Model.Save(path);

            using var environment = InferenceEnvironment.Create(OrtLogLevel.Error);
            using var session = InferenceSession.Create(environment, path, new SessionOptions { IntraOpThreads = threads });
            var (ids, mask, types) = Inputs(batch);
            long[] shape = [batch, SequenceLength];
            using var idsTensor = OrtTensor.Create(shape, ids);
            using var maskTensor = OrtTensor.Create(shape, mask);
            using var typesTensor = OrtTensor.Create(shape, types);
            NamedTensor[] inputs = [new("input_ids", idsTensor), new("attention_mask", maskTensor), new("token_type_ids", typesTensor)];

            // The old binding on the very library the package loaded for the facade.
            using var legacy = new LegacySession(environment.Runtime.LibraryPath, path, threads, "logits");
            legacy.AddInput("input_ids", shape, ids);
            legacy.AddInput("attention_mask", shape, mask);
            legacy.AddInput("token_type_ids", shape, types);

            var facadeLogits = new float[batch * 3];
            var legacyLogits = new float[batch * 3];
            float RunFacade()
            {
                using var result = session.Run(inputs);
                var logits = result["logits"].GetData<float>();
                logits.CopyTo(facadeLogits);
                return logits[0];
            }
            float RunLegacy() => legacy.Run(legacyLogits);

            RunFacade();
            RunLegacy();
            var facadeTimes = new List<double>();
            var legacyTimes = new List<double>();
            for (var i = 0; i < pairs; i++)
            {
                // Alternate which goes first, so neither always runs on a warmer cache.
                if (i % 2 == 0)
                {
                    facadeTimes.Add(Time(RunFacade));
                    legacyTimes.Add(Time(RunLegacy));
                }
                else
                {
                    legacyTimes.Add(Time(RunLegacy));
                    facadeTimes.Add(Time(RunFacade));
                }
            }
            var maxDiff = facadeLogits.Zip(legacyLogits, (a, b) => Math.Abs(a - b)).Max();
            var bitwise = facadeLogits.AsSpan().SequenceEqual(legacyLogits);
            var tokens = (double)batch * SequenceLength;
            double Rate(double seconds) => tokens / seconds;
            var facadeMedian = Median(facadeTimes);
            var legacyMedian = Median(legacyTimes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime {environment.Runtime.Version} ({environment.Runtime.LibraryPath}); base encoder, batch {batch} × {SequenceLength}, {threads} intra-op thread(s), {pairs} alternating pairs"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"facade : median {facadeMedian * 1000:F1} ms ({Rate(facadeMedian):N0} tokens/s), mean {facadeTimes.Average() * 1000:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"binding: median {legacyMedian * 1000:F1} ms ({Rate(legacyMedian):N0} tokens/s), mean {legacyTimes.Average() * 1000:F1} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"throughput ratio facade/binding: median {legacyMedian / facadeMedian:F3}, mean {legacyTimes.Average() / facadeTimes.Average():F3}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"outputs: max |facade - binding| = {maxDiff:G3}, bitwise equal: {bitwise}"));
            return bitwise ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Time(Func<float> run)
    {
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Varied ids, the last quarter of every other row padded (as EncoderRunBenchmarks).</summary>
    private static (long[] Ids, long[] Mask, long[] Types) Inputs(int batch)
    {
        var ids = new long[batch * SequenceLength];
        var mask = new long[ids.Length];
        var types = new long[ids.Length];
        for (var b = 0; b < batch; b++)
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
        return (ids, mask, types);
    }
}
