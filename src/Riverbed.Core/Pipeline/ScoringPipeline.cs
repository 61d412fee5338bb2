using System.Globalization;
using System.Threading.Channels;
using Riverbed.IO;
using Riverbed.Pipeline.Models;

namespace Riverbed.Pipeline;

/// <summary>What became of one shard in a run.</summary>
public enum ShardRunStatus
{
    /// <summary>Scored and committed.</summary>
    Committed,

    /// <summary>Already complete with this configuration: left as it was.</summary>
    Skipped,

    /// <summary>Could not be read or written; nothing of it was committed (a rerun retries it).</summary>
    Failed,

    /// <summary>Not started: the run was asked to stop taking new shards first (a rerun does it).</summary>
    Stopped,
}

/// <summary>One shard's outcome, with its manifest and statistics when it is complete.</summary>
public sealed record ShardRunResult(ShardInput Input, ShardRunStatus Status, string Message, ShardManifest? Manifest, ScoreStatistics? Statistics)
{
    /// <summary>
    /// Failed only because another worker holds the shard's lock (it is writing it): this worker did not do it, but
    /// nothing is wrong with the shard, so no failure is recorded for it.
    /// </summary>
    public bool HeldByAnother { get; init; }
}

/// <summary>A finished run: every shard's outcome, the batching, and the wall time.</summary>
/// <param name="ModelBusy">Wall time during which at least one model was running a batch.</param>
public sealed record ScoreRunResult(IReadOnlyList<ShardRunResult> Shards, IReadOnlyList<RoleBatchStatistics> Batching, TimeSpan Elapsed,
    TimeSpan ModelBusy)
{
    public int Failed => Shards.Count(s => s.Status == ShardRunStatus.Failed);

    /// <summary>Shards not started because intake was stopped (a graceful stop); a rerun does them.</summary>
    public int Stopped => Shards.Count(s => s.Status == ShardRunStatus.Stopped);

    /// <summary>Statistics of the shards this run committed (skipped ones not included).</summary>
    public ScoreStatistics Committed
    {
        get
        {
            var total = new ScoreStatistics();
            foreach (var shard in Shards.Where(s => s.Status == ShardRunStatus.Committed && s.Statistics is not null))
            {
                total.Merge(shard.Statistics!);
            }
            return total;
        }
    }
}

/// <summary>
/// The scoring engine: a producer/consumer pipeline over bounded channels.
/// <code>
///   read (one shard after another, records in order)
///     → score (up to MaxExamplesInFlight examples at once; each states its model requests to the batching backend,
///              whose per-role batchers feed the sessions' worker threads; then assemble and decide)
///     → write (in input order: the bounded order channel is the reorder buffer; commit at the end of each shard)
/// </code>
/// Memory stays flat whatever the shard size: at most MaxExamplesInFlight examples exist between the reader and the
/// writer. A shard that cannot be read or written, or whose failed rows exceed <see cref="ScoreRunOptions.MaxFailures"/>,
/// fails alone (nothing of it is committed; the run goes on with the next). Any other fault in any stage stops the whole run with that exception, and the shard in progress is not
/// committed; so does cancellation (Ctrl+C, SIGTERM), after which the run throws <see cref="OperationCanceledException"/>.
/// Complete shards are skipped; a complete shard made with another configuration is refused before anything starts.
/// </summary>
public sealed class ScoringPipeline
{
    private readonly ScoreRunOptions _options;
    private readonly Func<IExampleProcessor> _createProcessor;
    private PipelineProgress? _progress;

    public ScoringPipeline(ModelSet models, ScoreRunOptions options)
        : this(options, () => new ModelExampleProcessor(models, options))
    {
        ArgumentNullException.ThrowIfNull(models);
    }

    internal ScoringPipeline(ScoreRunOptions options, Func<IExampleProcessor> createProcessor)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _createProcessor = createProcessor;
    }

    /// <summary>Called (from the writer stage) as each shard is committed, skipped or fails.</summary>
    public Action<ShardRunResult>? ShardFinished { get; init; }

    /// <summary>The run's progress so far; null before a run starts.</summary>
    public ProgressSnapshot? Progress => _progress?.Snapshot();

    /// <summary>
    /// Called for each shard that had committed outputs which this run redoes, with why (e.g. its rows were decided
    /// with other thresholds, or its input changed).
    /// </summary>
    public Action<ShardInput, string>? ShardRedone { get; init; }

    private string Explain(ShardManifest? manifest) =>
        manifest is not null && _options.Configuration is { } configuration
            ? "; " + configuration.DescribeDifferencesFrom(_options.OutputFolder, manifest.ConfigHash)
            : string.Empty;

    /// <summary>
    /// Checks every shard's outputs before any work: complete ones will be skipped; one committed under another
    /// configuration stops the run (mixing configurations in one output folder is refused, naming the settings that
    /// differ); one decided with other thresholds is redone.
    /// </summary>
    public IReadOnlyList<(ShardInput Input, ShardState State)> Plan(IReadOnlyList<ShardInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        InputResolver.CheckDistinctOutputNames(inputs);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(_options.OutputFolder)) + Path.DirectorySeparatorChar;
        if (inputs.FirstOrDefault(input => input.Path.StartsWith(root, StringComparison.Ordinal)) is { } inside)
        {
            throw new InputException($"input {inside.DisplayPath} lies inside the output folder {root}; choose an output folder outside the inputs");
        }
        var writerOptions = _options.WriterOptions();
        var plan = inputs.Select(input => (input, ShardCompletion.Check(writerOptions.LayoutFor(input), input, _options.ConfigHash, writerOptions.Decisions))).ToList();
        var drifted = plan.Where(p => p.Item2.Status == ShardStatus.ConfigMismatch).ToList();
        if (drifted.Count > 0)
        {
            var first = drifted[0];
            throw new RiverbedException(
                $"{_options.OutputFolder} already holds {drifted.Count} complete shard(s) made with another configuration " +
                $"(e.g. {first.input.DisplayPath}: {first.Item2.Reason}{Explain(first.Item2.Manifest)}). Mixing configurations in one output folder is refused: " +
                "rerun with the same options (see its run.json, or pass it with --config), or choose a new --output folder.");
        }
        return plan;
    }

    public Task<ScoreRunResult> RunAsync(IReadOnlyList<ShardInput> inputs, CancellationToken cancellationToken = default) =>
        RunAsync(inputs, CancellationToken.None, cancellationToken);

    /// <summary>
    /// Runs with a graceful stop in two steps. Once <paramref name="stopIntake"/> is cancelled no new shard is started
    /// (the shard being read is read to its end, scored and committed; the rest are reported
    /// <see cref="ShardRunStatus.Stopped"/>) and the run returns normally. <paramref name="cancellationToken"/> abandons
    /// the shard in flight: nothing of it is committed and the run throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<ScoreRunResult> RunAsync(IReadOnlyList<ShardInput> inputs, CancellationToken stopIntake, CancellationToken cancellationToken)
    {
        var plan = Plan(inputs);
        var results = new List<ShardRunResult>();
        var todo = new List<ShardInput>();
        foreach (var (input, state) in plan)
        {
            if (state.Status == ShardStatus.Complete)
            {
                var skipped = new ShardRunResult(input, ShardRunStatus.Skipped, "already complete", state.Manifest, LoadStatistics(state.Manifest!));
                results.Add(skipped);
                ShardFinished?.Invoke(skipped);
            }
            else
            {
                if (state.Status == ShardStatus.Incomplete && state.Manifest is not null)
                {
                    ShardRedone?.Invoke(input, state.Reason);
                }
                todo.Add(input);
            }
        }
        using var processor = _createProcessor();
        var progress = new PipelineProgress(todo.Count, () => processor.Batching);
        _progress = progress;
        using var run = new Run(_options, processor, progress, todo, result =>
        {
            lock (results)
            {
                results.Add(result);
            }
            ShardFinished?.Invoke(result);
        }, stopIntake);
        await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        var byInput = results.ToDictionary(r => (object)r.Input, ReferenceEqualityComparer.Instance);
        var ordered = plan.Select(p => byInput.TryGetValue(p.Input, out var result)
            ? result
            : new ShardRunResult(p.Input, ShardRunStatus.Stopped, "not started: the run was stopped", null, null)).ToList();
        return new ScoreRunResult(ordered, processor.Batching, progress.Elapsed, processor.ModelBusy);
    }

    /// <summary>The statistics a complete shard committed (its {base}.stats.json, listed in and checked against its manifest).</summary>
    public static ScoreStatistics? LoadStatistics(ShardManifest manifest, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var suffix = "." + ScoreRunOptions.StatsAttachment;
        var file = manifest.Attachments.FirstOrDefault(a => a.Path.EndsWith(suffix, StringComparison.Ordinal));
        return file is null ? null : ScoreStatistics.Load(Path.Combine(outputFolder, file.Path));
    }

    private ScoreStatistics? LoadStatistics(ShardManifest manifest) => LoadStatistics(manifest, _options.OutputFolder);

    /// <summary>One execution of the stages over the shards to do.</summary>
    private sealed class Run : IDisposable
    {
        private readonly ScoreRunOptions _options;
        private readonly IExampleProcessor _processor;
        private readonly PipelineProgress _progress;
        private readonly IReadOnlyList<ShardInput> _shards;
        private readonly CancellationToken _intake;
        private readonly Action<ShardRunResult> _report;
        private readonly ShardWriterOptions _writerOptions;
        private readonly Channel<Slot> _order;
        private readonly List<Task> _strays = [];
        private readonly CancellationTokenSource _stop = new();
        private Exception? _fault;

        /// <summary>The shares of the shards the writer is done with (written by the writer stage only).</summary>
        private double _doneWeight;

        public Run(ScoreRunOptions options, IExampleProcessor processor, PipelineProgress progress, IReadOnlyList<ShardInput> shards,
            Action<ShardRunResult> report, CancellationToken intake)
        {
            _intake = intake;
            _options = options;
            _processor = processor;
            _progress = progress;
            _shards = shards;
            _report = report;
            _writerOptions = options.WriterOptions();
            _order = Channel.CreateBounded<Slot>(new BoundedChannelOptions(options.MaxExamplesInFlight)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }

        public async Task ExecuteAsync(CancellationToken cancellationToken)
        {
            using var registration = cancellationToken.UnsafeRegister(static state => ((Run)state!).Stop(null), this);
            var reading = Task.Run(() => Guard(ReadAsync), CancellationToken.None);
            var writing = Task.Run(() => Guard(WriteAsync), CancellationToken.None);
            await Task.WhenAll(reading, writing).ConfigureAwait(false);
            if (_fault is null && !_stop.IsCancellationRequested)
            {
                _processor.Complete();
                return;
            }
            var reason = _fault ?? new OperationCanceledException("the run was stopped", cancellationToken);
            _processor.Abort(reason);
            await DrainAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(reason);
        }

        public void Dispose() => _stop.Dispose();

        /// <summary>Records the first fault and stops every stage.</summary>
        private void Stop(Exception? fault)
        {
            if (fault is not null)
            {
                Interlocked.CompareExchange(ref _fault, fault, null);
            }
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run has already finished.
            }
        }

        private async Task Guard(Func<CancellationToken, Task> stage)
        {
            try
            {
                await stage(_stop.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // After a stop, whatever a stage throws is a consequence; the cause is already recorded.
            catch (Exception) when (_stop.IsCancellationRequested)
#pragma warning restore CA1031
            {
                // Stopping: the cause (a fault elsewhere, or the caller's cancellation) is reported by ExecuteAsync.
            }
#pragma warning disable CA1031 // A stage's fault is the run's fault: recorded, every stage stopped, rethrown once by ExecuteAsync.
            catch (Exception error)
#pragma warning restore CA1031
            {
                Stop(error);
            }
        }

        /// <summary>Waits for every example still being scored, so nothing touches the models after the run returns.</summary>
        private async Task DrainAsync()
        {
            while (_order.Reader.TryRead(out var slot))
            {
                if (slot.Outcome is { } outcome)
                {
                    AddStray(outcome);
                }
            }
            Task[] strays;
            lock (_strays)
            {
                strays = [.. _strays];
            }
            try
            {
                await Task.WhenAll(strays).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Their errors are consequences of the stop; the cause is already recorded.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        private async Task ReadAsync(CancellationToken cancellationToken)
        {
            try
            {
                var totalBytes = Math.Max(1.0, _shards.Sum(s => (double)Math.Max(1, s.WorkBytes)));
                foreach (var input in _shards)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (_intake.IsCancellationRequested)
                    {
                        break;
                    }
                    // Under --limit every shard is worth its limit of records (files are not split then); otherwise
                    // its unit's bytes.
                    var shard = new ShardWork(input)
                    {
                        Weight = _options.Limit is null ? Math.Max(1, input.WorkBytes) / totalBytes : 1.0 / _shards.Count,
                    };
                    ShardReader reader;
                    try
                    {
                        reader = ShardReader.Open(input, _options.Reader);
                    }
                    catch (ShardReadException error)
                    {
                        await SendAsync(Slot.Failed(shard, error.Message), cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    using (reader)
                    {
                        await SendAsync(Slot.Start(shard), cancellationToken).ConfigureAwait(false);
                        try
                        {
                            long records = 0;
                            foreach (var record in reader.ReadRecords(cancellationToken))
                            {
                                if (shard.OverFailureBudget || shard.Abandoned)
                                {
                                    break;
                                }
                                if (record.Example is { } example)
                                {
                                    var outcome = Task.Run(() => ScoreAsync(example, cancellationToken), cancellationToken);
                                    await SendAsync(Slot.Row(shard, example, outcome), cancellationToken, outcome).ConfigureAwait(false);
                                }
                                else
                                {
                                    await SendAsync(Slot.Reject(shard, record.Reject!), cancellationToken).ConfigureAwait(false);
                                }
                                records++;
                                if (records == _options.Limit)
                                {
                                    break;
                                }
                            }
                        }
                        catch (ShardReadException error)
                        {
                            await SendAsync(Slot.Failed(shard, error.Message), cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        await SendAsync(Slot.End(shard, reader.Statistics, reader.Schema), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                _order.Writer.TryComplete();
            }
        }

        /// <summary>Scores one example and counts it as scored (the counter displays show), whatever order it finishes in.</summary>
        private async Task<ExampleOutcome> ScoreAsync(Example example, CancellationToken cancellationToken)
        {
            var outcome = await _processor.ProcessAsync(example, cancellationToken).ConfigureAwait(false);
            _progress.Scored();
            return outcome;
        }

        /// <summary>
        /// How much of its shard is written once the writer has written <paramref name="written"/> records, the last
        /// starting at <paramref name="offset"/>: by records under --limit, by bytes for plain (uncompressed) JSONL and
        /// JSON files; nothing before the commit for the rest (Parquet, compressed), whose positions are not bytes of the
        /// file.
        /// </summary>
        private double WithinShard(ShardInput input, long written, long offset)
        {
            if (_options.Limit is { } limit)
            {
                return Math.Min(1, (double)written / limit);
            }
            // A unit's records sit at byte offsets of the whole file, from the unit's start.
            var start = input.Unit?.Start ?? 0;
            return input.Format != InputFormat.Parquet && input.Compression == InputCompression.None && input.WorkBytes > 0
                ? Math.Clamp((double)(offset - start) / input.WorkBytes, 0, 1)
                : 0;
        }

        /// <summary>
        /// The writer has taken one more record of <paramref name="shard"/>: its share of the work grows, unless the shard
        /// has no writer (left for a rerun after a stop, committed by another worker, or failing), which is counted once
        /// it is done with, if at all.
        /// </summary>
        private void Written(ShardWork shard, long offset)
        {
            if (shard.Writer is null)
            {
                return;
            }
            shard.Written++;
            _progress.Fraction = _doneWeight + (shard.Weight * WithinShard(shard.Input, shard.Written, offset));
        }

        /// <summary>
        /// The writer is done with <paramref name="shard"/> (committed, failed, or committed by another worker): all of its
        /// share counts.
        /// </summary>
        private void Done(ShardWork shard)
        {
            _doneWeight += shard.Weight;
            _progress.Fraction = Math.Min(1, _doneWeight);
            _progress.ShardDone();
        }

        private async ValueTask SendAsync(Slot slot, CancellationToken cancellationToken, Task? started = null)
        {
            try
            {
                await _order.Writer.WriteAsync(slot, cancellationToken).ConfigureAwait(false);
            }
            catch when (started is not null)
            {
                // Never handed to the writer: the stop waits for it instead.
                AddStray(started);
                throw;
            }
        }

        private void AddStray(Task task)
        {
            lock (_strays)
            {
                _strays.Add(task);
            }
        }

        private async Task WriteAsync(CancellationToken cancellationToken)
        {
            ShardWork? current = null;
            try
            {
                await foreach (var slot in _order.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    current = slot.Shard;
                    switch (slot.Kind)
                    {
                        case SlotKind.Start:
                            Start(current);
                            break;
                        case SlotKind.Row:
                            ExampleOutcome outcome;
                            try
                            {
                                outcome = await slot.Outcome!.WaitAsync(cancellationToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                            {
                                AddStray(slot.Outcome!);
                                throw;
                            }
                            Record(current, slot.Example!, outcome);
                            Written(current, slot.Example!.ByteOffset);
                            break;
                        case SlotKind.Reject:
                            _progress.Reject();
                            current.Statistics.AddReject(RejectKinds.Name(slot.RejectRecord!.Kind));
                            Guarded(current, () => current.Writer?.WriteReject(slot.RejectRecord!));
                            Written(current, slot.RejectRecord!.ByteOffset);
                            break;
                        case SlotKind.End:
                            await CommitAsync(current, slot, cancellationToken).ConfigureAwait(false);
                            current = null;
                            break;
                        default:
                            Finish(current, ShardRunStatus.Failed, slot.Message!, null);
                            current = null;
                            break;
                    }
                }
            }
            finally
            {
                // Without a commit this aborts: temporaries are deleted and nothing final-named is left.
                current?.Writer?.Dispose();
            }
        }

        /// <summary>
        /// Opens the shard's writer. A shard another worker is writing (lock held) or has committed meanwhile is left to
        /// it: its remaining records are dropped unread.
        /// </summary>
        private void Start(ShardWork shard)
        {
            if (_intake.IsCancellationRequested)
            {
                // Read ahead but not begun: after a stop request no new shard is begun, however far the reader got.
                shard.NotBegun = true;
                return;
            }
            try
            {
                shard.Writer = ShardWriter.Create(shard.Input, _writerOptions);
            }
            catch (ShardCommittedElsewhereException error)
            {
                shard.CommittedElsewhere = error.Manifest;
                shard.Problem = error.Message;
            }
            catch (ShardBusyException error)
            {
                shard.HeldByAnother = true;
                shard.Problem = error.Message;
            }
            catch (Exception error) when (IsShardProblem(error))
            {
                shard.Problem = error.Message;
            }
        }

        private void Record(ShardWork shard, Example example, ExampleOutcome outcome)
        {
            if (outcome.Failed)
            {
                _progress.Failure();
                shard.Statistics.AddFailed();
                Guarded(shard, () => shard.Writer?.WriteFailed(example, outcome.FailureKind!, outcome.FailureMessage!));
                CheckFailureBudget(shard, outcome);
                return;
            }
            _progress.Row(!outcome.Facts!.Decision.Keep);
            shard.Statistics.AddRow(outcome.Facts);
            Guarded(shard, () => shard.Writer?.WriteRow(example, outcome.Columns, outcome.Route));
        }

        /// <summary>Past its failure budget a shard stops: the reader moves on, and nothing of it is committed.</summary>
        private void CheckFailureBudget(ShardWork shard, ExampleOutcome failure)
        {
            var budget = _options.MaxFailures;
            var statistics = shard.Statistics;
            if (shard.Problem is not null || !budget.IsExceeded(statistics.RowsFailed, statistics.RowsIn))
            {
                return;
            }
            shard.Problem = string.Create(CultureInfo.InvariantCulture,
                $"{shard.Input.DisplayPath}: {statistics.RowsFailed} failed rows in its first {statistics.RowsIn} exceed the failure budget " +
                $"(--max-failures {budget}: {budget.Allowed(statistics.RowsIn)} allowed), so the shard was stopped and nothing of it committed. " +
                $"Last failure ({failure.FailureKind}): {failure.FailureMessage}. Fix the cause or raise --max-failures, and run again.");
            shard.OverFailureBudget = true;
            shard.Writer?.Dispose();
            shard.Writer = null;
        }

        private async Task CommitAsync(ShardWork shard, Slot end, CancellationToken cancellationToken)
        {
            if (shard.Writer is not { } writer)
            {
                if (shard.NotBegun)
                {
                    // Left for a rerun: no work done, so neither the share done nor the shards done grow.
                    _report(new ShardRunResult(shard.Input, ShardRunStatus.Stopped, "not started: the run was stopped", null, null));
                    return;
                }
                if (shard.CommittedElsewhere is { } manifest)
                {
                    Done(shard);
                    _report(new ShardRunResult(shard.Input, ShardRunStatus.Skipped, "committed by another worker", manifest,
                        LoadStatistics(manifest, _options.OutputFolder)));
                    return;
                }
                Finish(shard, ShardRunStatus.Failed, shard.Problem ?? "not written", null);
                return;
            }
            try
            {
                shard.Statistics.Shards = 1;
                shard.Statistics.AttributeTo(shard.Input.Name);
                if (shard.Statistics.RowsIn != end.ReadStatistics!.Records)
                {
                    throw new InvalidOperationException(
                        $"{shard.Input.DisplayPath}: {end.ReadStatistics.Records} records read but {shard.Statistics.RowsIn} counted");
                }
                if (_options.Rejects.Exceeded(shard.Statistics.RowsRejected, end.ReadStatistics.Records) is { } overBudget)
                {
                    var kinds = string.Join(", ", shard.Statistics.RejectsByKind.Select(pair => $"{pair.Key} {pair.Value}"));
                    throw new ShardWriteException(
                        $"{overBudget}, by kind: {kinds}; the shard is not committed (raise the budget to keep the rejects in its rejects file, or fix the input)");
                }
                writer.Attach(ScoreRunOptions.StatsAttachment, shard.Statistics.ToJson());
                var manifest = await writer.CommitAsync(end.ReadStatistics, end.Schema, cancellationToken).ConfigureAwait(false);
                Finish(shard, ShardRunStatus.Committed, "written", manifest);
            }
            catch (Exception error) when (IsShardProblem(error))
            {
                shard.Problem = error.Message;
                Finish(shard, ShardRunStatus.Failed, error.Message, null);
            }
            finally
            {
                writer.Dispose();
                shard.Writer = null;
            }
        }

        /// <summary>Runs a write; a shard-level write problem fails this shard only (the run goes on without it).</summary>
        private static void Guarded(ShardWork shard, Action write)
        {
            if (shard.Problem is not null)
            {
                return;
            }
            try
            {
                write();
            }
            catch (Exception error) when (IsShardProblem(error))
            {
                shard.Problem = error.Message;
                shard.Writer?.Dispose();
                shard.Writer = null;
            }
        }

        private static bool IsShardProblem(Exception error) =>
            error is ShardWriteException or OutputPathException or IO.DuckDb.DuckDbException;

        private void Finish(ShardWork shard, ShardRunStatus status, string message, ShardManifest? manifest)
        {
            shard.Writer?.Dispose();
            shard.Writer = null;
            Done(shard);
            _report(new ShardRunResult(shard.Input, status, message, manifest, status == ShardRunStatus.Committed ? shard.Statistics : null)
            {
                HeldByAnother = shard.HeldByAnother,
            });
        }
    }

    /// <summary>One shard as the writer stage sees it.</summary>
    private sealed class ShardWork(ShardInput input)
    {
        private bool _overFailureBudget;

        public ShardInput Input { get; } = input;

        /// <summary>This shard's share of the run's work (0–1).</summary>
        public double Weight { get; init; }

        /// <summary>Records the writer has written (rows, failures and rejects).</summary>
        public long Written { get; set; }

        public ShardWriter? Writer { get; set; }

        public ScoreStatistics Statistics { get; } = new();

        /// <summary>Why the shard cannot be committed (a write failed); its remaining records are consumed and dropped.</summary>
        public string? Problem { get; set; }

        /// <summary>Set by the writer when the shard is past its failure budget: the reader reads no more of it.</summary>
        public bool OverFailureBudget
        {
            get => Volatile.Read(ref _overFailureBudget);
            set => Volatile.Write(ref _overFailureBudget, value);
        }

        /// <summary>Another worker committed the shard before this one could start it.</summary>
        public ShardManifest? CommittedElsewhere { get; set; }

        /// <summary>Another worker holds the shard's lock.</summary>
        public bool HeldByAnother { get; set; }

        /// <summary>Set by the writer when the shard will not be committed by this run: the reader stops feeding it.</summary>
        public bool Abandoned => CommittedElsewhere is not null || HeldByAnother || NotBegun;

        /// <summary>Reached the writer after intake was stopped: left for a rerun.</summary>
        public bool NotBegun { get; set; }
    }

    private enum SlotKind
    {
        Start,
        Row,
        Reject,
        End,
        Failed,
    }

    /// <summary>One entry of the order channel: the channel's order is the output order.</summary>
    private sealed class Slot
    {
        private Slot(SlotKind kind, ShardWork shard) => (Kind, Shard) = (kind, shard);

        public SlotKind Kind { get; }

        public ShardWork Shard { get; }

        public Example? Example { get; private init; }

        public Task<ExampleOutcome>? Outcome { get; private init; }

        public Reject? RejectRecord { get; private init; }

        public ShardReadStatistics? ReadStatistics { get; private init; }

        public SchemaDetection? Schema { get; private init; }

        public string? Message { get; private init; }

        public static Slot Start(ShardWork shard) => new(SlotKind.Start, shard);

        public static Slot Row(ShardWork shard, Example example, Task<ExampleOutcome> outcome) =>
            new(SlotKind.Row, shard) { Example = example, Outcome = outcome };

        public static Slot Reject(ShardWork shard, Reject reject) => new(SlotKind.Reject, shard) { RejectRecord = reject };

        public static Slot End(ShardWork shard, ShardReadStatistics statistics, SchemaDetection? schema) =>
            new(SlotKind.End, shard) { ReadStatistics = statistics, Schema = schema };

        public static Slot Failed(ShardWork shard, string message) => new(SlotKind.Failed, shard) { Message = message };
    }
}
