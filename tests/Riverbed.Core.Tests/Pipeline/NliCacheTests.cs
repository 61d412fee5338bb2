using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>Identical NLI requests answered once per run, and nothing else about the run changed by it.</summary>
public sealed class NliCacheTests
{
    private static string DemoModels => Path.Combine(TestPaths.RepositoryRoot, "models", "demo");

    private static string DemoData => Path.Combine(TestPaths.RepositoryRoot, "src", "Riverbed.Runner", "Demo", "demo.jsonl");

    [Fact]
    public async Task Identical_requests_are_answered_once_with_the_answer_the_model_gives_them()
    {
        using var models = ModelSet.Open(DemoModels);
        var nli = models.Nli!.Info;
        ModelInput Pair(string first, string second)
        {
            var encoding = nli.Tokenizer.Encode(first, second);
            return new ModelInput([.. encoding.Ids], [.. encoding.TypeIds]);
        }
        ModelInput[] requests =
        [
            Pair("The bridge is old.", "The bridge is new."),
            Pair("The bridge is old.", "The bridge is new."),
            Pair("The bridge is new.", "The bridge is old."),
            Pair("The bridge is old.", "The bridge is new."),
        ];
        using var cached = new BatchingModelBackend(models, new BatchingOptions());
        using var uncached = new BatchingModelBackend(models, new BatchingOptions { NliCacheEntries = 0 });

        var withCache = await Task.WhenAll(requests.Select(r => cached.ClassifyPairAsync(r, CancellationToken.None).AsTask()));
        var without = await Task.WhenAll(requests.Select(r => uncached.ClassifyPairAsync(r, CancellationToken.None).AsTask()));

        Assert.Equal(without, withCache);
        var statistics = cached.Statistics.Single(s => s.Role == "nli");
        Assert.Equal(4, statistics.CacheLookups);
        Assert.Equal(2, statistics.CacheHits);
        Assert.Equal(2, statistics.Requests);
        Assert.Equal(0, uncached.Statistics.Single(s => s.Role == "nli").CacheLookups);
    }

    [Fact]
    public async Task A_cache_that_forgets_the_oldest_requests_still_answers_every_request()
    {
        using var models = ModelSet.Open(DemoModels);
        var nli = models.Nli!.Info;
        var inputs = Enumerable.Range(0, 6).Select(i => nli.Tokenizer.Encode($"Sentence number {i % 3}.", "A sentence.")).Select(e =>
            new ModelInput([.. e.Ids], [.. e.TypeIds])).ToList();
        using var tiny = new BatchingModelBackend(models, new BatchingOptions { NliCacheEntries = 1 });
        using var uncached = new BatchingModelBackend(models, new BatchingOptions { NliCacheEntries = 0 });
        foreach (var input in inputs)
        {
            Assert.Equal(await uncached.ClassifyPairAsync(input, CancellationToken.None), await tiny.ClassifyPairAsync(input, CancellationToken.None));
        }
        // Requests 0,1,2,0,1,2 one after another: with room for one, each was forgotten before it came back.
        Assert.Equal(0, tiny.Statistics.Single(s => s.Role == "nli").CacheHits);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_demo_run_writes_the_same_rows_with_the_cache_on_and_off()
    {
        using var scratch = new ScratchFolder("nli-cache-run");
        async Task<(string Rows, IReadOnlyList<RoleBatchStatistics> Batching)> Run(string name, int cacheEntries)
        {
            using var models = ModelSet.Open(DemoModels);
            var output = scratch.File(name);
            var result = await new ScoringPipeline(models, new ScoreRunOptions
            {
                OutputFolder = output,
                ConfigHash = "nli-cache",
                Format = OutputFormat.JsonLines,
                Batching = new BatchingOptions { NliCacheEntries = cacheEntries },
                Limit = 96,
            }).RunAsync([ShardInput.FromFile(DemoData)], CancellationToken.None);
            Assert.Equal(0, result.Failed);
            return (File.ReadAllText(Path.Combine(output, "demo.jsonl")), result.Batching);
        }

        var (withCache, cachedBatching) = await Run("on", 16384);
        var (without, _) = await Run("off", 0);

        Assert.Equal(without, withCache);
        Assert.True(cachedBatching.Single(s => s.Role == "nli").CacheLookups > 0);
    }
}
