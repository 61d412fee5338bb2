using System.Collections.Concurrent;
using Riverbed.Pipeline;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>The batcher alone, with a fake model: budgets, sorting, answers reaching their askers, no deadlock.</summary>
public sealed class RoleBatcherTests
{
    /// <summary>A request is just its length and an id; the "model" answers id × 10.</summary>
    private sealed record Request(int Id, int Length);

    private sealed class FakeModel
    {
        public ConcurrentQueue<Request[]> Batches { get; } = new();

        public Func<Request[], bool> Fails { get; init; } = _ => false;

        public int[] Run(int session, Request[] batch, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Batches.Enqueue(batch);
            if (Fails(batch))
            {
                throw new InvalidOperationException("injected failure");
            }
            return batch.Select(r => r.Id * 10).ToArray();
        }
    }

    [Fact]
    public async Task Many_examples_waiting_on_partly_filled_batches_with_one_session_never_deadlock()
    {
        // 300 "examples", each asking 5 questions in sequence (the next depends on the answer), with a budget that a
        // handful of requests fill: at any moment every example may be waiting on a batch that is not full.
        var model = new FakeModel();
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: 64, maxLength: 64, Options(), model.Run);
        var examples = Enumerable.Range(0, 300).Select(async example =>
        {
            var total = 0;
            for (var step = 0; step < 5; step++)
            {
                var id = (example * 10) + step;
                total += await batcher.Submit(new Request(id, 3 + (id % 17)), 3 + (id % 17), CancellationToken.None);
            }
            return total;
        }).ToArray();
        var all = Task.WhenAll(examples);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))));
        var totals = await all;
        for (var example = 0; example < totals.Length; example++)
        {
            Assert.Equal(Enumerable.Range(0, 5).Sum(step => ((example * 10) + step) * 10), totals[example]);
        }
        Assert.Equal(1500, model.Batches.Sum(b => b.Length));
    }

    [Fact]
    public async Task Batches_stay_within_the_token_budget_and_every_answer_reaches_its_request()
    {
        var model = new FakeModel();
        using var batcher = new RoleBatcher<Request, int>("rtd", 3, budgetTokens: 100, maxLength: 100, Options(), model.Run);
        var random = new Random(5);
        var requests = Enumerable.Range(0, 2000).Select(i => new Request(i, 1 + random.Next(60))).ToList();
        var answers = await Task.WhenAll(requests.Select(r => Task.Run(() => batcher.Submit(r, r.Length, CancellationToken.None))));
        Assert.Equal(requests.Select(r => r.Id * 10), answers);
        foreach (var batch in model.Batches)
        {
            Assert.True(batch.Length * batch.Max(r => r.Length) <= 100, $"batch of {batch.Length} × {batch.Max(r => r.Length)} is over budget");
        }
        var statistics = batcher.Statistics;
        Assert.Equal(2000, statistics.Requests);
        Assert.Equal(requests.Sum(r => (long)r.Length), statistics.RealTokens);
    }

    [Fact]
    public async Task Sorting_by_length_inside_the_window_cuts_padding()
    {
        var sorted = await PaddingOf(sort: true);
        var unsorted = await PaddingOf(sort: false);
        Assert.True(sorted < unsorted / 2, $"padding sorted {sorted:P1}, unsorted {unsorted:P1}");
    }

    [Fact]
    public async Task A_request_longer_than_the_budget_runs_alone_and_one_longer_than_the_model_accepts_fails_alone()
    {
        var model = new FakeModel();
        using var batcher = new RoleBatcher<Request, int>("mlm", 1, budgetTokens: 10, maxLength: 40, Options(), model.Run);
        Assert.Equal(70, await batcher.Submit(new Request(7, 30), 30, CancellationToken.None));
        Assert.Single(model.Batches.Single());
        var error = await Assert.ThrowsAsync<ArgumentException>(() => batcher.Submit(new Request(8, 41), 41, CancellationToken.None));
        Assert.Contains("41 tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_batch_fails_its_own_requests_and_the_batcher_goes_on()
    {
        var model = new FakeModel { Fails = batch => batch.Any(r => r.Id == 13) };
        using var batcher = new RoleBatcher<Request, int>("ner", 1, budgetTokens: 4, maxLength: 4, Options(), model.Run);
        var bad = batcher.Submit(new Request(13, 4), 4, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal(140, await batcher.Submit(new Request(14, 4), 4, CancellationToken.None));
    }

    [Fact]
    public async Task Aborting_fails_what_is_queued_and_refuses_new_requests()
    {
        var gate = new ManualResetEventSlim();
        var model = new FakeModel();
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: 1, maxLength: 4, Options(),
            (session, batch, ct) =>
            {
                gate.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                return model.Run(session, batch, ct);
            });
        var first = batcher.Submit(new Request(1, 1), 1, CancellationToken.None);
        var queued = batcher.Submit(new Request(2, 1), 1, CancellationToken.None);
        batcher.Abort(new TimeoutException("stop"));
        gate.Set();
        await Assert.ThrowsAsync<TimeoutException>(() => queued);
        await Assert.ThrowsAsync<TimeoutException>(() => batcher.Submit(new Request(3, 1), 1, CancellationToken.None));
        await first.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_cancelled_caller_stops_waiting()
    {
        using var cancellation = new CancellationTokenSource();
        var release = new ManualResetEventSlim();
        using var batcher = new RoleBatcher<Request, int>("rtd", 1, budgetTokens: 1, maxLength: 4, Options(),
            (_, batch, _) =>
            {
                release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                return batch.Select(r => r.Id).ToArray();
            });
        var busy = batcher.Submit(new Request(1, 1), 1, CancellationToken.None);
        var waiting = batcher.Submit(new Request(2, 1), 1, cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.Set();
        Assert.Equal(1, await busy);
    }

    private static async Task<double> PaddingOf(bool sort)
    {
        var model = new FakeModel();
        var release = new TaskCompletionSource();
        var options = Options() with { SortByLength = sort, SortWindowBatches = 8 };
        using var batcher = new RoleBatcher<Request, int>("nli", 1, budgetTokens: 256, maxLength: 128, options,
            (session, batch, ct) =>
            {
                release.Task.Wait(ct);
                return model.Run(session, batch, ct);
            });
        var random = new Random(11);
        var requests = Enumerable.Range(0, 3000).Select(i => new Request(i, 2 + random.Next(120))).ToList();
        var tasks = requests.Select(r => batcher.Submit(r, r.Length, CancellationToken.None)).ToList();
        release.SetResult();
        await Task.WhenAll(tasks);
        return batcher.Statistics.PaddingFraction;
    }

    private static BatchingOptions Options() => new() { FlushDelay = TimeSpan.FromMilliseconds(1), MaxLinger = TimeSpan.FromMilliseconds(5) };
}
