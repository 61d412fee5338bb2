using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;

namespace Riverbed.Bench.Pipeline;

/// <summary>
/// The whole scoring pipeline (read → score through the batching backend → ordered write) over generated OIG-style
/// dialogues with the demo models (models/demo, from ./setup.sh), as a macrobenchmark: one operation is one run over
/// <see cref="Examples"/> dialogues into a fresh folder (Monitoring strategy, no steady state assumed). The baseline
/// sorts requests by length inside the window; the other rows show what arrival order and other budgets cost.
/// Per-example time = Mean / Examples.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private const int Examples = 150;

    private string _folder = string.Empty;
    private ShardInput? _input;
    private ModelSet? _models;
    private int _run;

    [Params(1024, 4096)]
    public int BatchTokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var demo = FindDemoModels();
        _folder = Directory.CreateTempSubdirectory("riverbed-pipeline-bench-").FullName;
        var path = Path.Combine(_folder, "dialogues.jsonl");
        SyntheticDialogues.Write(path, Examples);
        _input = ShardInput.FromFile(path);
        _models = ModelSet.Open(demo, new ModelSetOptions { Session = new Riverbed.Inference.SessionOptions { IntraOpThreads = 1, InterOpThreads = 1 } });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _models?.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "sorted by length")]
    public Task<ScoreRunResult> Sorted() => RunAsync(sort: true);

    [Benchmark(Description = "arrival order")]
    public Task<ScoreRunResult> Unsorted() => RunAsync(sort: false);

    private async Task<ScoreRunResult> RunAsync(bool sort)
    {
        var output = Path.Combine(_folder, $"out-{++_run}");
        var options = new ScoreRunOptions
        {
            OutputFolder = output,
            ConfigHash = "bench",
            Format = OutputFormat.JsonLines,
            Batching = new BatchingOptions { BatchTokens = BatchTokens, SortByLength = sort },
        };
        var result = await new ScoringPipeline(_models!, options).RunAsync([_input!]);
        Directory.Delete(output, recursive: true);
        return result;
    }

    private static string FindDemoModels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "models", "demo");
            if (Directory.Exists(Path.Combine(candidate, "mlm")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("models/demo not found: run ./setup.sh first");
    }
}
