using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>
/// A deliberately different way to answer the scorers: requests of each role gather in a queue and run through
/// <see cref="ModelRunner"/> in batches of up to <c>batchSize</c> (whatever arrived together, from any dialogue,
/// whatever their lengths), flushed when full or after a millisecond of quiet, on thread-pool threads. Scores must
/// not change.
/// <para>
/// Which requests arrive together depends on scheduling, so a batch that would hold only one length gets a filler (one
/// row beyond <c>batchSize</c>): an earlier request of that role with another length, whose answer is dropped. Every role that has seen two lengths then
/// mixes them in its last batch at the latest (every request of the role was seen before that batch formed), so
/// <see cref="MixedLengthBatches"/> is positive by construction, not by luck.
/// </para>
/// </summary>
internal sealed class GroupingTestBackend : IModelBackend, IDisposable
{
    private readonly ModelSet _models;
    private readonly int _batchSize;
    private readonly Queue<Pending>[] _queues = [new(), new(), new(), new()];
    private readonly Dictionary<int, object>[] _seen = [new(), new(), new(), new()];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;

    private sealed record Pending(object Request, TaskCompletionSource<object> Answer);

    public GroupingTestBackend(ModelSet models, int batchSize)
    {
        _models = models;
        _batchSize = batchSize;
        _flusher = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(1).ConfigureAwait(false);
                foreach (var role in Enum.GetValues<ModelRole>())
                {
                    Flush(role, all: true);
                }
            }
        });
    }

    /// <summary>Batches run so far, and how many of them held requests of different lengths.</summary>
    public int Batches { get; private set; }

    public int MixedLengthBatches { get; private set; }

    public ModelRoleInfo? Mlm => _models.Mlm?.Info;

    public ModelRoleInfo? Nli => _models.Nli?.Info;

    public ModelRoleInfo? Rtd => _models.Rtd?.Info;

    public ModelRoleInfo? Ner => _models.Ner?.Info;

    public async ValueTask<IReadOnlyList<MaskPrediction>> FillMaskAsync(FillMaskRequest request, CancellationToken cancellationToken) =>
        (IReadOnlyList<MaskPrediction>)await Enqueue(ModelRole.MaskedLm, request);

    public async ValueTask<NliProbabilities> ClassifyPairAsync(ModelInput input, CancellationToken cancellationToken) =>
        (NliProbabilities)await Enqueue(ModelRole.Nli, input);

    public async ValueTask<float[]> ReplacedTokenLogitsAsync(ModelInput input, CancellationToken cancellationToken) =>
        (float[])await Enqueue(ModelRole.ReplacedTokenDetection, input);

    public async ValueTask<int[]> EntityLabelsAsync(ModelInput input, CancellationToken cancellationToken) =>
        (int[])await Enqueue(ModelRole.TokenClassification, input);

    private Task<object> Enqueue(ModelRole role, object request)
    {
        var pending = new Pending(request, new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_queues)
        {
            _queues[(int)role].Enqueue(pending);
            _seen[(int)role].TryAdd(LengthOf(request), request);
        }
        Flush(role, all: false);
        return pending.Answer.Task;
    }

    private void Flush(ModelRole role, bool all)
    {
        while (true)
        {
            List<Pending> batch;
            lock (_queues)
            {
                var queue = _queues[(int)role];
                if (queue.Count == 0 || (!all && queue.Count < _batchSize))
                {
                    return;
                }
                batch = [];
                while (batch.Count < _batchSize && queue.Count > 0)
                {
                    batch.Add(queue.Dequeue());
                }
                var length = LengthOf(batch[0].Request);
                if (batch.All(p => LengthOf(p.Request) == length)
                    && _seen[(int)role].FirstOrDefault(seen => seen.Key != length).Value is { } filler)
                {
                    batch.Add(new Pending(filler, new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously)));
                }
                Batches++;
                var lengths = batch.Select(p => LengthOf(p.Request)).Distinct().Count();
                MixedLengthBatches += lengths > 1 ? 1 : 0;
            }
            _ = Task.Run(() => Run(role, batch));
        }
    }

    private static int LengthOf(object request) => request is FillMaskRequest f ? f.Input.Length : ((ModelInput)request).Length;

    private void Run(ModelRole role, List<Pending> batch)
    {
        try
        {
            var runner = _models[role]!.Runners[0];
            object[] answers = role switch
            {
                ModelRole.MaskedLm => runner.FillMask([.. batch.Select(p => (FillMaskRequest)p.Request)]),
                ModelRole.Nli => [.. runner.ClassifyPairs([.. batch.Select(p => (ModelInput)p.Request)]).Cast<object>()],
                ModelRole.ReplacedTokenDetection => runner.ReplacedTokenLogits([.. batch.Select(p => (ModelInput)p.Request)]),
                _ => runner.EntityLabels([.. batch.Select(p => (ModelInput)p.Request)]),
            };
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Answer.SetResult(answers[i]);
            }
        }
        catch (Exception error)
        {
            foreach (var pending in batch)
            {
                pending.Answer.TrySetException(error);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _flusher.Wait();
        _stop.Dispose();
    }
}
