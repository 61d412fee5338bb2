using System.Diagnostics;
using System.Globalization;
using Riverbed.Inference;

namespace Riverbed.Pipeline;

/// <summary>What the backend needs of a batcher whatever its request type: stopping it and its statistics.</summary>
internal interface IRoleBatcher : IDisposable
{
    RoleBatchStatistics Statistics { get; }

    void Complete();

    void Join();

    void Abort(Exception reason);
}

/// <summary>
/// Collects one model role's requests from many examples and feeds them, in token-budget batches, to that role's
/// sessions. Each session has its own worker thread that pulls its next batch when it is free, so batches are formed
/// as late as possible, from as many pending requests as possible:
/// <list type="bullet">
/// <item>once a sort window's worth of tokens is pending (<see cref="BatchingOptions.SortWindowBatches"/> budgets),
///   the oldest requests up to that size are sorted by length and cut into batches within the budget; a partly
///   filled last batch goes back to wait for company, once;</item>
/// <item>a session that finds only a partial batch waits until no request has arrived for
///   <see cref="BatchingOptions.FlushDelay"/> (or <see cref="BatchingOptions.MaxLinger"/> in all) and then takes it:
///   when every in-flight example is waiting on the model, nothing new can arrive, and waiting longer would deadlock.</item>
/// </list>
/// A batch that fails is halved and retried down to the request at fault (see <see cref="RunIsolating"/>), which fails
/// alone with <see cref="ModelRequestFailedException"/>; the caller decides what that means for the run.
/// </summary>
internal sealed class RoleBatcher<TRequest, TResult> : IRoleBatcher
    where TRequest : class
{
    private readonly object _gate = new();
    private readonly List<Pending> _pending = [];
    private readonly Queue<Pending[]> _ready = new();
    private readonly Func<int, TRequest[], CancellationToken, IReadOnlyList<TResult>> _execute;
    private readonly BatchingOptions _options;
    private readonly BatchCounters _counters;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread[] _workers;
    private readonly long _flushDelayTicks;
    private readonly long _maxLingerTicks;
    private readonly int _sortWindowBatches;
    private readonly ModelActivity? _activity;
    private readonly int[] _failuresInARow;
    private readonly TRequest?[] _probes;
    private long _pendingTokens;
    private long _sequence;
    private long _lastArrival;
    private bool _completing;
    private Exception? _abort;

    /// <param name="role">The role's name (thread names, statistics).</param>
    /// <param name="sessions">How many sessions serve the role: one worker thread each.</param>
    /// <param name="budgetTokens">Padded tokens per batch for this role.</param>
    /// <param name="maxLength">Longest request the role accepts; longer ones fail alone, at once.</param>
    /// <param name="execute">Runs one batch on session <c>i</c> and returns a result per request, in order.</param>
    /// <param name="activity">Tracks when any model runs (shared by a backend's batchers); optional.</param>
    /// <param name="criticalPath">
    /// Whether every example waits on this role's batches (the MLM): it keeps the short flush delay and sort window;
    /// other roles wait longer and sort wider (<see cref="BatchingOptions.OffPathFlushDelay"/> and the rest) to fill
    /// their batches.
    /// </param>
    public RoleBatcher(string role, int sessions, int budgetTokens, int maxLength, BatchingOptions options,
        Func<int, TRequest[], CancellationToken, IReadOnlyList<TResult>> execute, ModelActivity? activity = null, bool criticalPath = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sessions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetTokens, 1);
        Role = role;
        MaxLength = maxLength;
        BudgetTokens = budgetTokens;
        _options = options;
        _execute = execute;
        _activity = activity;
        _counters = new BatchCounters(role, sessions, budgetTokens);
        _flushDelayTicks = (long)((criticalPath ? options.FlushDelay : options.OffPathFlushDelay).TotalSeconds * Stopwatch.Frequency);
        _maxLingerTicks = (long)((criticalPath ? options.MaxLinger : options.OffPathMaxLinger).TotalSeconds * Stopwatch.Frequency);
        _sortWindowBatches = criticalPath ? options.SortWindowBatches : options.OffPathSortWindowBatches;
        _failuresInARow = new int[sessions];
        _probes = new TRequest?[sessions];
        _workers = new Thread[sessions];
        for (var i = 0; i < sessions; i++)
        {
            var session = i;
            _workers[i] = new Thread(() => Work(session)) { IsBackground = true, Name = $"riverbed-{role}-{session}" };
            _workers[i].Start();
        }
    }

    public string Role { get; }

    public int MaxLength { get; }

    public int BudgetTokens { get; }

    public RoleBatchStatistics Statistics => _counters.Snapshot();

    private long WindowTokens => (long)BudgetTokens * _sortWindowBatches;

    private int WindowRequests => _options.MaxBatchSize * _sortWindowBatches;

    /// <summary>Queues a request; the task completes when its batch has run.</summary>
    public Task<TResult> Submit(TRequest request, int length, CancellationToken cancellationToken)
    {
        if (length < 1 || length > MaxLength)
        {
            return Task.FromException<TResult>(new ArgumentException(
                $"a {Role} request of {length} tokens is outside what the model accepts (1 to {MaxLength})", nameof(request)));
        }
        var pending = new Pending(request, length);
        if (cancellationToken.CanBeCanceled)
        {
            // Registered before the request is visible to a worker, so completing it always sees the registration.
            pending.Registration = cancellationToken.UnsafeRegister(
                static (state, token) => ((Pending)state!).Completion.TrySetCanceled(token), pending);
        }
        lock (_gate)
        {
            if (_abort is not null || _completing)
            {
                pending.Fail(_abort ?? new InvalidOperationException($"the {Role} batcher has stopped taking requests"));
                return pending.Completion.Task;
            }
            pending.Sequence = _sequence++;
            _pending.Add(pending);
            _pendingTokens += length;
            _lastArrival = Stopwatch.GetTimestamp();
            Monitor.PulseAll(_gate);
        }
        return pending.Completion.Task;
    }

    /// <summary>Stops taking requests; the workers finish what is queued and exit.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completing = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Fails everything queued with <paramref name="reason"/> and stops the workers after their current batch.</summary>
    public void Abort(Exception reason)
    {
        List<Pending> dropped;
        lock (_gate)
        {
            _abort ??= reason;
            dropped = [.. _pending, .. _ready.SelectMany(batch => batch)];
            _pending.Clear();
            _ready.Clear();
            _pendingTokens = 0;
            Monitor.PulseAll(_gate);
        }
        _stopping.Cancel();
        foreach (var pending in dropped)
        {
            pending.Fail(reason);
        }
    }

    /// <summary>Waits for the workers to exit (after <see cref="Complete"/> or <see cref="Abort"/>).</summary>
    public void Join()
    {
        foreach (var worker in _workers)
        {
            worker.Join();
        }
    }

    public void Dispose()
    {
        Abort(new OperationCanceledException($"the {Role} batcher was shut down"));
        Join();
        _stopping.Dispose();
    }

    private void Work(int session)
    {
        while (Take() is { } batch)
        {
            try
            {
                RunIsolating(session, batch);
            }
            catch (InferenceFaultException fatal)
            {
                // Requests already answered keep their answers; the rest, and everything queued, fail with the cause.
                foreach (var pending in batch)
                {
                    pending.Fail(fatal);
                }
                Abort(fatal);
                return;
            }
        }
    }

    /// <summary>
    /// Runs a batch. When it fails with an error a request may have caused (the runtime's, or a request's own
    /// validation), the batch is cut in two and each half run again, down to single requests: the rest of the batch is
    /// answered, and only the culprit fails (reliability C1, C10). A request that fails alone to allocate memory is
    /// retried alone <see cref="BatchingOptions.AllocationRetriesAlone"/> times first; any other error alone is
    /// deterministic and not retried. Other errors (cancellation, bugs) fail the whole batch at once.
    /// </summary>
    /// <exception cref="InferenceFaultException">Too many runs failed in a row: the runtime, not a request, is at fault.</exception>
    private void RunIsolating(int session, Pending[] batch)
    {
        var attemptsAlone = 0;
        while (true)
        {
            var error = TryRun(session, batch);
            if (error is null)
            {
                _failuresInARow[session] = 0;
                return;
            }
            if (error is not (OrtException or ArgumentException or NonFiniteOutputException))
            {
                foreach (var pending in batch)
                {
                    pending.Fail(error);
                }
                return;
            }
            var allocation = error is OrtException { IsAllocationFailure: true };
            _counters.FailedRun(allocation);
            if (++_failuresInARow[session] >= _options.MaxConsecutiveFailedRuns)
            {
                CheckRuntimeStillWorks(session, error);
            }
            if (batch.Length > 1)
            {
                _counters.Split();
                var half = (batch.Length + 1) / 2;
                RunIsolating(session, batch[..half]);
                RunIsolating(session, batch[half..]);
                return;
            }
            attemptsAlone++;
            if (allocation && attemptsAlone <= _options.AllocationRetriesAlone)
            {
                _counters.Retry();
                continue;
            }
            _counters.Quarantine();
            batch[0].Fail(new ModelRequestFailedException(Role, batch[0].Length, attemptsAlone, error));
            return;
        }
    }

    /// <summary>
    /// After many failed runs in a row: many bad requests side by side fail in a row too, so before blaming the runtime
    /// the session runs again a request that succeeded on it before (its probe). If that fails as well, nothing can
    /// succeed any more: the fault is the runtime's or the device's, and the batcher stops.
    /// </summary>
    /// <exception cref="InferenceFaultException">The probe failed too, or there is none (nothing has succeeded yet).</exception>
    private void CheckRuntimeStillWorks(int session, Exception error)
    {
        var failures = _failuresInARow[session];
        var probe = _probes[session];
        Exception? probeError = null;
        if (_stopping.IsCancellationRequested)
        {
            return; // shutting down: the next run fails with the cancellation, which is the real cause
        }
        if (probe is not null)
        {
            try
            {
                _ = _execute(session, [probe], _stopping.Token);
                _failuresInARow[session] = 0;
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever the probe meets says the same: the runtime no longer runs what it ran before.
            catch (Exception failure)
#pragma warning restore CA1031
            {
                probeError = failure;
            }
        }
        var evidence = probe is null ? "and none of its runs has succeeded yet" : "and a request it had run fine before failed again";
        throw new InferenceFaultException(string.Create(CultureInfo.InvariantCulture,
            $"the {Role} model failed {failures} runs in a row, down to single requests, {evidence}, so the fault is the runtime's or the " +
            $"device's rather than the examples' (last: {(probeError ?? error).Message}). Committed shards are complete; fix the cause " +
            $"(a smaller {SettingNames.Of(Setting.BatchTokens)} if it is memory) and run the same command again."), probeError ?? error);
    }

    /// <summary>Runs one batch and answers its requests; returns the error instead when it fails.</summary>
    private Exception? TryRun(int session, Pending[] batch)
    {
        var requests = new TRequest[batch.Length];
        long real = 0;
        var longest = 0;
        for (var i = 0; i < batch.Length; i++)
        {
            requests[i] = batch[i].Request;
            real += batch[i].Length;
            longest = Math.Max(longest, batch[i].Length);
        }
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<TResult> results;
        _activity?.Enter();
        try
        {
            results = _execute(session, requests, _stopping.Token);
            if (results.Count != batch.Length)
            {
                throw new InvalidOperationException($"the {Role} runner returned {results.Count} results for {batch.Length} requests");
            }
        }
#pragma warning disable CA1031 // Every failure is the caller's to classify; the worker must live on.
        catch (Exception error)
#pragma warning restore CA1031
        {
            return error;
        }
        finally
        {
            _activity?.Exit();
        }
        _counters.Add(batch.Length, real, (long)longest * batch.Length, Stopwatch.GetTimestamp() - started);
        var shortest = 0;
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i].Succeed(results[i]);
            shortest = batch[i].Length < batch[shortest].Length ? i : shortest;
        }
        _probes[session] = requests[shortest];
        return null;
    }

    /// <summary>The next batch for a free session, or null when the batcher is done.</summary>
    private Pending[]? Take()
    {
        lock (_gate)
        {
            var idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                if (_abort is not null)
                {
                    return null;
                }
                if (_ready.Count > 0)
                {
                    return _ready.Dequeue();
                }
                if (_pending.Count == 0)
                {
                    if (_completing)
                    {
                        return null;
                    }
                    Monitor.Wait(_gate);
                    idleSince = Stopwatch.GetTimestamp();
                    continue;
                }
                if (_pendingTokens >= WindowTokens || _pending.Count >= WindowRequests)
                {
                    FormWindow(flush: false);
                    continue;
                }
                var now = Stopwatch.GetTimestamp();
                var quiet = now - _lastArrival;
                var idle = now - idleSince;
                if (_completing || quiet >= _flushDelayTicks || idle >= _maxLingerTicks)
                {
                    FormWindow(flush: true);
                    continue;
                }
                var wait = Math.Min(_flushDelayTicks - quiet, _maxLingerTicks - idle);
                Monitor.Wait(_gate, TimeSpan.FromSeconds(Math.Max(wait, 1) / (double)Stopwatch.Frequency));
            }
        }
    }

    /// <summary>
    /// Takes the oldest pending requests up to one window, orders them (by length, when sorting), cuts them into
    /// batches within the budget and queues the batches. Unless flushing, a partly filled last batch goes back to the
    /// front of the queue to wait for more requests of its length, but only once: a request is never held back twice,
    /// so long requests that always sort last cannot starve.
    /// </summary>
    private void FormWindow(bool flush)
    {
        var count = 0;
        long tokens = 0;
        while (count < _pending.Count && count < WindowRequests && tokens < WindowTokens)
        {
            tokens += _pending[count].Length;
            count++;
        }
        var window = _pending.GetRange(0, count);
        _pending.RemoveRange(0, count);
        _pendingTokens -= tokens;
        if (_options.SortByLength)
        {
            // Stable: equal lengths keep their arrival order, so the same arrivals always make the same batches.
            window.Sort(static (a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.Sequence.CompareTo(b.Sequence));
        }
        var batches = new List<Pending[]>();
        var start = 0;
        var longest = 0;
        for (var i = 0; i < window.Count; i++)
        {
            var candidate = Math.Max(longest, window[i].Length);
            var size = i - start;
            if (size > 0 && (size >= _options.MaxBatchSize || (long)candidate * (size + 1) > BudgetTokens))
            {
                batches.Add(window.GetRange(start, size).ToArray());
                start = i;
                candidate = window[i].Length;
            }
            longest = candidate;
        }
        var last = window.GetRange(start, window.Count - start).ToArray();
        var lastIsFull = last.Length >= _options.MaxBatchSize || (long)longest * (last.Length + 1) > BudgetTokens;
        if (flush || lastIsFull || batches.Count == 0 || last.Any(pending => pending.Deferred))
        {
            batches.Add(last);
        }
        else
        {
            foreach (var pending in last)
            {
                pending.Deferred = true;
                _pendingTokens += pending.Length;
            }
            _pending.InsertRange(0, last.OrderBy(pending => pending.Sequence));
        }
        foreach (var batch in batches)
        {
            _ready.Enqueue(batch);
        }
    }

    private sealed class Pending(TRequest request, int length)
    {
        public TRequest Request { get; } = request;

        public int Length { get; } = length;

        public long Sequence { get; set; }

        public bool Deferred { get; set; }

        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public void Succeed(TResult result)
        {
            Registration.Dispose();
            Completion.TrySetResult(result);
        }

        public void Fail(Exception error)
        {
            Registration.Dispose();
            if (error is OperationCanceledException canceled)
            {
                Completion.TrySetCanceled(canceled.CancellationToken);
            }
            else
            {
                Completion.TrySetException(error);
            }
        }
    }
}
