using System.Collections.Concurrent;
using Riverbed.Inference;
using Riverbed.Pipeline;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// The batcher's answer to failed runs, with a fake model raising the runtime's own errors: halving down to the
/// culprit (reliability C10), retrying a failed allocation alone, and stopping on a fault that is not any request's.
/// </summary>
public sealed class BatchFaultIsolationTests
{
    private sealed record Request(int Id, int Length);

    /// <summary>Answers id × 10; records every run's request ids; throws what <see cref="Fault"/> says for a batch.</summary>
    private sealed class FakeModel
    {
        public ConcurrentQueue<int[]> Runs { get; } = new();

        public Func<Request[], Exception?> Fault { get; init; } = _ => null;

        public int[] Run(int session, Request[] batch, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Runs.Enqueue([.. batch.Select(r => r.Id)]);
            if (Fault(batch) is { } error)
            {
                throw error;
            }
            return [.. batch.Select(r => r.Id * 10)];
        }
    }

    /// <summary>
    /// Batches form by budget alone, never by a clock: the window is one budget and no partial batch is ever flushed,
    /// so the requests a test submits together, filling the budget exactly (<see cref="BudgetFor"/>), make one batch
    /// the moment the last of them arrives, however slowly the submitting thread runs.
    /// </summary>
    private static BatchingOptions Options() => new() { SortWindowBatches = 1, FlushDelay = TimeSpan.FromHours(1), MaxLinger = TimeSpan.FromHours(1) };

    /// <summary>The budget that <paramref name="count"/> requests of 4 tokens fill exactly.</summary>
    private static int BudgetFor(int count) => count * 4;

    private static OrtException OutOfMemory() => InferenceFaults.AllocationFailure("running 'fake.onnx'");

    private static OrtException BadShape() => InferenceFaults.InvalidArgument("running 'fake.onnx'");

    private static Task<int>[] SubmitAll(RoleBatcher<Request, int> batcher, int count) =>
        [.. Enumerable.Range(0, count).Select(id => batcher.Submit(new Request(id, 4), 4, CancellationToken.None))];

    [Fact]
    public async Task A_poison_request_in_a_batch_of_64_is_bisected_out_and_the_other_63_are_answered()
    {
        var model = new FakeModel { Fault = batch => batch.Any(r => r.Id == 37) ? BadShape() : null };
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: BudgetFor(64), maxLength: 64, Options(), model.Run);
        var answers = SubmitAll(batcher, 64);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.Equal(64, model.Runs.First().Length);
        var failure = await Assert.ThrowsAsync<ModelRequestFailedException>(() => answers[37]);
        Assert.Equal(ModelRequestFailedException.RuntimeError, failure.Kind);
        Assert.Equal(("nli", 4), (failure.Role, failure.Tokens));
        Assert.StartsWith("the nli model failed on a request of 4 tokens run alone (1 attempt): running 'fake.onnx': ONNX Runtime (InvalidArgument)",
            failure.Message, StringComparison.Ordinal);
        foreach (var id in Enumerable.Range(0, 64).Where(id => id != 37))
        {
            Assert.Equal(id * 10, await answers[id]);
        }
        // 64 → 32 → 16 → 8 → 4 → 2 → 1: one failed run and one split per level, then the culprit fails alone once.
        var statistics = batcher.Statistics;
        Assert.Equal((7L, 0L, 6L, 0L, 1L), (statistics.FailedRuns, statistics.AllocationFailures, statistics.Splits, statistics.Retries, statistics.Quarantined));
        Assert.Equal(63, statistics.Requests);
        Assert.Equal(13, model.Runs.Count);
    }

    [Fact]
    public async Task A_request_that_fails_alone_to_allocate_is_retried_alone_and_answered_when_memory_frees()
    {
        var failuresLeft = 2;
        var model = new FakeModel { Fault = _ => Interlocked.Decrement(ref failuresLeft) >= 0 ? OutOfMemory() : null };
        using var batcher = new RoleBatcher<Request, int>("mlm", 1, budgetTokens: BudgetFor(1), maxLength: 64, Options(), model.Run);

        Assert.Equal(70, await batcher.Submit(new Request(7, 4), 4, CancellationToken.None));
        var statistics = batcher.Statistics;
        Assert.Equal((2L, 2L, 0L, 2L, 0L), (statistics.FailedRuns, statistics.AllocationFailures, statistics.Splits, statistics.Retries, statistics.Quarantined));
    }

    [Fact]
    public async Task A_request_too_large_to_allocate_even_alone_fails_after_its_retries_and_its_batch_is_answered()
    {
        var model = new FakeModel { Fault = batch => batch.Any(r => r.Id == 5) ? OutOfMemory() : null };
        using var batcher = new RoleBatcher<Request, int>("rtd", 1, budgetTokens: BudgetFor(8), maxLength: 64, Options(), model.Run);
        var answers = SubmitAll(batcher, 8);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        var failure = await Assert.ThrowsAsync<ModelRequestFailedException>(() => answers[5]);
        Assert.Equal(ModelRequestFailedException.OutOfMemory, failure.Kind);
        Assert.Contains("run alone (3 attempts)", failure.Message, StringComparison.Ordinal);
        Assert.True(failure.InnerException is OrtException { IsAllocationFailure: true });
        Assert.All(Enumerable.Range(0, 8).Where(id => id != 5), id => Assert.Equal(id * 10, answers[id].Result));
        var statistics = batcher.Statistics;
        // 8 → 4 → 2 → 1 (3 splits), then alone: one failure and two retries that fail too.
        Assert.Equal((6L, 6L, 3L, 2L, 1L), (statistics.FailedRuns, statistics.AllocationFailures, statistics.Splits, statistics.Retries, statistics.Quarantined));
    }

    [Fact]
    public async Task A_model_that_fails_every_run_stops_after_the_limit_instead_of_failing_each_request_alone()
    {
        var model = new FakeModel { Fault = _ => OutOfMemory() };
        var options = Options() with { MaxConsecutiveFailedRuns = 8 };
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: BudgetFor(64), maxLength: 64, options, model.Run);
        var answers = SubmitAll(batcher, 64);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        foreach (var answer in answers)
        {
            var error = await Assert.ThrowsAsync<InferenceFaultException>(() => answer);
            Assert.StartsWith("the nli model failed 8 runs in a row, down to single requests, and none of its runs has succeeded yet", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(8, model.Runs.Count);
        await Assert.ThrowsAsync<InferenceFaultException>(() => batcher.Submit(new Request(99, 4), 4, CancellationToken.None));
    }

    [Fact]
    public async Task Many_bad_requests_side_by_side_are_all_isolated_because_a_request_that_ran_before_still_runs()
    {
        var model = new FakeModel { Fault = batch => batch.Any(r => r.Id is >= 100 and < 108) ? BadShape() : null };
        var options = Options() with { MaxConsecutiveFailedRuns = 4 };
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: BudgetFor(16), maxLength: BudgetFor(16), options, model.Run);
        // The probe-to-be fills the budget alone, so it runs alone at once.
        Assert.Equal(10, await batcher.Submit(new Request(1, BudgetFor(16)), BudgetFor(16), CancellationToken.None));
        var answers = Enumerable.Range(100, 16).Select(id => batcher.Submit(new Request(id, 4), 4, CancellationToken.None)).ToArray();
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        for (var i = 0; i < 16; i++)
        {
            if (i < 8)
            {
                Assert.Equal(ModelRequestFailedException.RuntimeError, (await Assert.ThrowsAsync<ModelRequestFailedException>(() => answers[i])).Kind);
            }
            else
            {
                Assert.Equal((100 + i) * 10, await answers[i]);
            }
        }
        Assert.Equal(8, batcher.Statistics.Quarantined);
        // The probe (request 1, which ran fine) was run again whenever 4 runs had failed in a row.
        Assert.True(model.Runs.Count(run => run is [1]) >= 3, string.Join(" ", model.Runs.Select(run => $"[{string.Join(',', run)}]")));
    }

    [Fact]
    public async Task A_model_that_breaks_after_running_fine_stops_once_a_request_it_ran_before_fails_too()
    {
        var runs = 0;
        var model = new FakeModel { Fault = _ => Interlocked.Increment(ref runs) > 1 ? OutOfMemory() : null };
        var options = Options() with { MaxConsecutiveFailedRuns = 8 };
        using var batcher = new RoleBatcher<Request, int>("mlm", 1, budgetTokens: BudgetFor(64), maxLength: BudgetFor(64), options, model.Run);
        Assert.Equal(10, await batcher.Submit(new Request(1, BudgetFor(64)), BudgetFor(64), CancellationToken.None));
        var answers = SubmitAll(batcher, 64);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        var error = await Assert.ThrowsAsync<InferenceFaultException>(() => answers[0]);
        Assert.Contains("and a request it had run fine before failed again", error.Message, StringComparison.Ordinal);
        Assert.Equal(1 + 8 + 1, model.Runs.Count);
    }

    [Fact]
    public async Task An_error_that_is_not_the_runtimes_fails_the_batch_at_once_without_halving()
    {
        var model = new FakeModel { Fault = _ => new InvalidOperationException("a bug, not a request") };
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: BudgetFor(16), maxLength: 64, Options(), model.Run);
        var answers = SubmitAll(batcher, 16);
        await Task.WhenAny(Task.WhenAll(answers), Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.All(answers, answer => Assert.IsType<InvalidOperationException>(answer.Exception?.InnerException));
        Assert.Single(model.Runs);
        Assert.Equal(0, batcher.Statistics.FailedRuns);
    }
}
