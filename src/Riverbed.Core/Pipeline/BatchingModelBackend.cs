using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>
/// The pipeline's <see cref="IModelBackend"/>: requests from many examples in flight share batches. One
/// <see cref="RoleBatcher{TRequest,TResult}"/> per model role groups them by token budget (sorted by length inside a
/// bounded window) and runs them on the role's sessions (<see cref="ModelSetOptions.SessionsPerRole"/>), each through
/// its own <see cref="ModelRunner"/> on its own worker thread. Answers do not depend on the batching (the runner masks
/// padding), so a run's scores are the same whatever the budget or the number of sessions.
/// </summary>
public sealed class BatchingModelBackend : IModelBackend, IDisposable
{
    private readonly ModelSet _models;
    private readonly RoleBatcher<FillMaskRequest, IReadOnlyList<MaskPrediction>>? _mlm;
    private readonly RoleBatcher<ModelInput, NliProbabilities>? _nli;
    private readonly RoleBatcher<ModelInput, float[]>? _rtd;
    private readonly RoleBatcher<ModelInput, int[]>? _ner;
    private readonly ModelActivity _activity = new();
    private readonly RequestCache<NliProbabilities>? _nliCache;
    private bool _disposed;

    public BatchingModelBackend(ModelSet models, BatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _models = models;
        _nliCache = options.NliCacheEntries > 0 ? new RequestCache<NliProbabilities>(options.NliCacheEntries) : null;
        try
        {
            _mlm = Create<FillMaskRequest, IReadOnlyList<MaskPrediction>>(models.Mlm, options, _activity, static (runner, batch, ct) => runner.FillMask(batch, ct));
            _nli = Create<ModelInput, NliProbabilities>(models.Nli, options, _activity, static (runner, batch, ct) => runner.ClassifyPairs(batch, ct));
            _rtd = Create<ModelInput, float[]>(models.Rtd, options, _activity, static (runner, batch, ct) => runner.ReplacedTokenLogits(batch, ct));
            _ner = Create<ModelInput, int[]>(models.Ner, options, _activity, static (runner, batch, ct) => runner.EntityLabels(batch, ct));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ModelRoleInfo? Mlm => _models.Mlm?.Info;

    public ModelRoleInfo? Nli => _models.Nli?.Info;

    public ModelRoleInfo? Rtd => _models.Rtd?.Info;

    public ModelRoleInfo? Ner => _models.Ner?.Info;

    /// <summary>Batching so far, per available role (mlm, nli, rtd, ner order).</summary>
    public IReadOnlyList<RoleBatchStatistics> Statistics =>
        Batchers().Select(batcher => ReferenceEquals(batcher, _nli) && _nliCache is { } cache ? WithCache(batcher.Statistics, cache) : batcher.Statistics).ToList();

    /// <summary>Wall time during which at least one model was running a batch.</summary>
    public TimeSpan ModelBusy => _activity.Busy;

    public ValueTask<IReadOnlyList<MaskPrediction>> FillMaskAsync(FillMaskRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Submit(_mlm, ModelRole.MaskedLm, request, request.Input.Length, cancellationToken);
    }

    public ValueTask<NliProbabilities> ClassifyPairAsync(ModelInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return _nliCache is { } cache && _nli is not null
            ? cache.GetAsync(input, (request, ct) => Submit(_nli, ModelRole.Nli, request, request.Length, ct).AsTask(), cancellationToken)
            : Submit(_nli, ModelRole.Nli, input, input.Length, cancellationToken);
    }

    public ValueTask<float[]> ReplacedTokenLogitsAsync(ModelInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Submit(_rtd, ModelRole.ReplacedTokenDetection, input, input.Length, cancellationToken);
    }

    public ValueTask<int[]> EntityLabelsAsync(ModelInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Submit(_ner, ModelRole.TokenClassification, input, input.Length, cancellationToken);
    }

    /// <summary>No more requests will come: the workers run what is queued, then stop. Waits for them.</summary>
    public void Complete()
    {
        foreach (var batcher in Batchers())
        {
            batcher.Complete();
        }
        foreach (var batcher in Batchers())
        {
            batcher.Join();
        }
    }

    /// <summary>Fails every queued request with <paramref name="reason"/> and stops the workers after their current batch.</summary>
    public void Abort(Exception reason)
    {
        foreach (var batcher in Batchers())
        {
            batcher.Abort(reason);
        }
    }

    /// <summary>Stops the workers (failing anything still queued) and waits for them; the model set stays open.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var batcher in Batchers())
        {
            batcher.Dispose();
        }
    }

    private static RoleBatchStatistics WithCache(RoleBatchStatistics statistics, RequestCache<NliProbabilities> cache)
    {
        var (lookups, hits) = cache.Counts;
        return statistics with { CacheLookups = lookups, CacheHits = hits };
    }

    private IEnumerable<IRoleBatcher> Batchers() =>
        new IRoleBatcher?[] { _mlm, _nli, _rtd, _ner }.OfType<IRoleBatcher>();

    private static ValueTask<TResult> Submit<TRequest, TResult>(RoleBatcher<TRequest, TResult>? batcher, ModelRole role, TRequest request,
        int length, CancellationToken cancellationToken)
        where TRequest : class
    {
        if (batcher is null)
        {
            throw new InvalidOperationException($"there is no {role.Name()} model; its scorer should have been skipped");
        }
        return new ValueTask<TResult>(batcher.Submit(request, length, cancellationToken));
    }

    private static RoleBatcher<TRequest, TResult>? Create<TRequest, TResult>(ModelEntry? entry, BatchingOptions options, ModelActivity activity,
        Func<ModelRunner, TRequest[], CancellationToken, IReadOnlyList<TResult>> run)
        where TRequest : class
    {
        if (entry is null)
        {
            return null;
        }
        var runners = entry.Runners;
        var budget = options.BatchTokens;
        if (entry.Role == ModelRole.MaskedLm && runners[0].MaskedHead is null)
        {
            // A masked LM's full logits are [B,T,V]: cap its batches by the memory they would take (the masked-position
            // head returns [N,k] instead, so its batches take the plain token budget).
            var vocabulary = entry.Folder.Contract.ModelVocabularySize ?? entry.Tokenizer.VocabularySize;
            budget = options.BudgetFor(vocabulary, entry.Folder.Contract.LogitsType == TensorElementType.Float16 ? 2 : 4);
        }
        return new RoleBatcher<TRequest, TResult>(entry.Role.Name(), runners.Count, budget, entry.Info.MaxSequenceLength, options,
            (session, batch, ct) => run(runners[session], batch, ct), activity, criticalPath: entry.Role == ModelRole.MaskedLm);
    }
}
