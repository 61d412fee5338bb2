using BenchmarkDotNet.Attributes;
using Riverbed.Pipeline;

namespace Riverbed.Bench.Pipeline;

/// <summary>
/// What the batcher itself costs per request, with a model that answers instantly: 64 concurrent "examples" each ask
/// 64 questions in sequence (the next after the previous answer, as scorers do), through one session. The reference
/// is the same 4,096 awaits answered directly (no batcher), so the difference is the batcher's hand-off, sorting and
/// wake-ups. Reported per request (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class BatcherOverheadBenchmarks
{
    private const int Examples = 64;
    private const int Steps = 64;

    private RoleBatcher<int[], int>? _batcher;

    [Params(256, 4096)]
    public int BatchTokens { get; set; }

    [GlobalSetup]
    public void Setup() => _batcher = new RoleBatcher<int[], int>("bench", 1, BatchTokens, 512,
        new BatchingOptions { BatchTokens = BatchTokens, FlushDelay = TimeSpan.FromMilliseconds(0.2), MaxLinger = TimeSpan.FromMilliseconds(2) },
        static (_, batch, _) => batch.Select(request => request.Length).ToArray());

    [GlobalCleanup]
    public void Cleanup() => _batcher?.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Examples * Steps, Description = "answered directly")]
    public Task<int[]> Direct() => Task.WhenAll(Enumerable.Range(0, Examples).Select(async example =>
    {
        var total = 0;
        for (var step = 0; step < Steps; step++)
        {
            total += await Task.Run(() => Length(example, step));
        }
        return total;
    }));

    [Benchmark(OperationsPerInvoke = Examples * Steps, Description = "through the batcher")]
    public Task<int[]> Batched() => Task.WhenAll(Enumerable.Range(0, Examples).Select(async example =>
    {
        var total = 0;
        for (var step = 0; step < Steps; step++)
        {
            var length = Length(example, step);
            total += await _batcher!.Submit(new int[length], length, CancellationToken.None);
        }
        return total;
    }));

    private static int Length(int example, int step) => 8 + (((example * 31) + (step * 17)) % 120);
}
