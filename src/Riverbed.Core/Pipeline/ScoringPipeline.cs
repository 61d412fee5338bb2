using System.Threading.Channels;
using Riverbed.IO;
using Riverbed.Pipeline.Execution;

namespace Riverbed.Pipeline;

/// <summary>
/// The scoring engine: a producer/consumer pipeline over bounded channels.
/// <code>
///   read (one shard after another, records in order)
///     → score (up to MaxExamplesInFlight examples at once; each states its model requests to the batching backend,
///              whose per-role batchers feed the sessions' worker threads; then assemble and decide)
///     → write (in input order: the bounded order channel is the reorder buffer; commit at the end of each shard)
/// </code>
/// Memory stays flat whatever the shard size: at most MaxExamplesInFlight examples exist between the reader and the
/// writer. Each shard's lifecycle — opening, both budgets, the commit and the failure marker — is its
/// <see cref="ShardCommitter"/>'s: a shard that cannot be read or written, or whose failed rows exceed
/// <see cref="ScoreRunOptions.MaxFailures"/>, fails alone (nothing of it is committed, its marker says why; the run goes on
/// with the next). Any other fault in a stage completes the order channel with that exception (<c>Complete(exception)</c>):
/// it reaches the other stage through the channel, the examples still in flight are cancelled and awaited, and the run
/// throws it, the shard in progress abandoned; so does cancellation (Ctrl+C, SIGTERM), after which the run throws
/// <see cref="OperationCanceledException"/>. Complete shards are skipped (an earlier attempt's marker cleared); a complete
/// shard made with another configuration is refused before anything starts.
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
                $"rerun with the same options (see its run.json, or pass it with {SettingNames.Of(Setting.Config)}), or choose a new {SettingNames.Of(Setting.Output)} folder.");
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
                var skipped = new ShardRunResult(input, ShardRunStatus.Skipped, "already complete", state.Manifest, LoadStatistics(state.Manifest!))
                {
                    Note = ShardCommitter.KeepComplete(input, _options.CommitOptions()),
                };
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
        await new Run(_options, processor, progress, todo, result =>
        {
            lock (results)
            {
                results.Add(result);
            }
            ShardFinished?.Invoke(result);
        }, stopIntake, cancellationToken).ExecuteAsync().ConfigureAwait(false);
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

    /// <summary>One execution of the two stages, reader and writer, over the shards to do, wired by the order channel.</summary>
    private sealed class Run(ScoreRunOptions options, IExampleProcessor processor, PipelineProgress progress, IReadOnlyList<ShardInput> shards,
        Action<ShardRunResult> report, CancellationToken intake, CancellationToken cancellationToken)
    {
        private readonly Channel<Slot> _order = Channel.CreateBounded<Slot>(new BoundedChannelOptions(options.MaxExamplesInFlight)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        private readonly ShardCommitOptions _commit = options.CommitOptions();

        /// <summary>The shares of the shards the writer is done with (written by the writer stage only).</summary>
        private double _doneWeight;

        public async Task ExecuteAsync()
        {
            using var examples = new ExamplesInFlight(cancellationToken);
            var reading = Task.Run(() => ReadAsync(examples), CancellationToken.None);
            var writing = Task.Run(WriteAsync, CancellationToken.None);
            try
            {
                // The writer ends with the run's fault, whichever stage raised it: the reader's reaches it through the channel.
                await writing.ConfigureAwait(false);
            }
            catch (Exception fault)
            {
                examples.Cancel();
                await Ended(reading).ConfigureAwait(false);
                processor.Abort(fault);
                await examples.StopAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }
            await reading.ConfigureAwait(false);
            processor.Complete();
        }

        /// <summary>Waits for a stage that stopped because the other failed: what it throws then is a consequence.</summary>
        private static async Task Ended(Task stage)
        {
            try
            {
                await stage.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The run's fault is the writer's; the reader's is the same one or a consequence (a closed channel).
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        private async Task ReadAsync(ExamplesInFlight examples)
        {
            try
            {
                var totalBytes = Math.Max(1.0, shards.Sum(s => (double)Math.Max(1, s.WorkBytes)));
                foreach (var input in shards)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (intake.IsCancellationRequested)
                    {
                        break;
                    }
                    // Under --limit every shard is worth its limit of records (files are not split then); otherwise its unit's bytes.
                    var shard = new ShardWork(input, new ShardCommitter(input, _commit))
                    {
                        Weight = options.Limit is null ? Math.Max(1, input.WorkBytes) / totalBytes : 1.0 / shards.Count,
                    };
                    await _order.Writer.WriteAsync(await ReadShardAsync(shard, examples).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                }
                _order.Writer.TryComplete();
            }
            catch (Exception fault)
            {
                _order.Writer.TryComplete(fault);
                throw;
            }
        }

        /// <summary>Sends one shard's records (each row's scoring started) and returns its last slot: its end, or why it could not be read.</summary>
        private async Task<Slot> ReadShardAsync(ShardWork shard, ExamplesInFlight examples)
        {
            ShardReader reader;
            try
            {
                reader = ShardReader.Open(shard.Input, options.Reader, observeShapes: options.Format == OutputFormat.Parquet);
            }
            catch (ShardReadException error)
            {
                return Slot.Failed(shard, error.Message);
            }
            using (reader)
            {
                await _order.Writer.WriteAsync(Slot.Start(shard), cancellationToken).ConfigureAwait(false);
                try
                {
                    long records = 0;
                    foreach (var record in reader.ReadRecords(cancellationToken))
                    {
                        if (!shard.Committer.TakesInput)
                        {
                            break; // It will not commit here (over its failure budget, or not this worker's): read no more of it.
                        }
                        var slot = record.Example is { } example
                            ? Slot.Row(shard, example, examples.Start(token => ScoreAsync(example, token)))
                            : Slot.Reject(shard, record.Reject!);
                        await _order.Writer.WriteAsync(slot, cancellationToken).ConfigureAwait(false);
                        if (++records == options.Limit)
                        {
                            break;
                        }
                    }
                }
                catch (ShardReadException error)
                {
                    return Slot.Failed(shard, error.Message);
                }
                return Slot.End(shard, reader.Statistics, reader.Schema);
            }
        }

        /// <summary>Scores one example and counts it as scored (the counter displays show), whatever order it finishes in.</summary>
        private async Task<ExampleOutcome> ScoreAsync(Example example, CancellationToken token)
        {
            var outcome = await processor.ProcessAsync(example, token).ConfigureAwait(false);
            progress.Scored();
            return outcome;
        }

        private async Task WriteAsync()
        {
            ShardWork? current = null;
            try
            {
                await foreach (var slot in _order.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    current = slot.Shard;
                    var committer = current.Committer;
                    switch (slot.Kind)
                    {
                        case SlotKind.Start:
                            committer.Open(intake);
                            break;
                        case SlotKind.Row:
                            Record(current, slot.Example!, await slot.Outcome!.WaitAsync(cancellationToken).ConfigureAwait(false));
                            Written(current, slot.Example!.ByteOffset);
                            break;
                        case SlotKind.Reject:
                            progress.Reject();
                            current.Statistics.AddReject(RejectKinds.Name(slot.RejectRecord!.Kind));
                            committer.WriteReject(slot.RejectRecord);
                            Written(current, slot.RejectRecord.ByteOffset);
                            break;
                        case SlotKind.End:
                            if (committer.IsWriting)
                            {
                                Seal(current, slot.ReadStatistics!);
                            }
                            Finish(current, await committer.CommitAsync(slot.ReadStatistics!, slot.Schema, cancellationToken).ConfigureAwait(false));
                            current = null;
                            break;
                        default:
                            Finish(current, committer.Fail(slot.Message!));
                            current = null;
                            break;
                    }
                }
            }
            catch (Exception fault)
            {
                // The reader stops at its next send: the fault travels back through the channel.
                _order.Writer.TryComplete(fault);
                throw;
            }
            finally
            {
                // Without its end the shard is abandoned: temporaries deleted, nothing final-named left, no marker.
                current?.Committer.Dispose();
            }
        }

        private void Record(ShardWork shard, Example example, ExampleOutcome outcome)
        {
            if (outcome.Failed)
            {
                progress.Failure();
                shard.Statistics.AddFailed();
                shard.Committer.WriteFailed(example, outcome.FailureKind!, outcome.FailureMessage!);
                return;
            }
            progress.Row(!outcome.Facts!.Decision.Keep);
            shard.Statistics.AddRow(outcome.Facts);
            shard.Committer.WriteRow(example, outcome.Columns, outcome.Route);
        }

        /// <summary>Completes the shard's statistics, checks them against what was read, and attaches them ({base}.stats.json).</summary>
        private static void Seal(ShardWork shard, ShardReadStatistics read)
        {
            shard.Statistics.Shards = 1;
            shard.Statistics.AttributeTo(shard.Input.Name);
            if (shard.Statistics.RowsIn != read.Records)
            {
                throw new InvalidOperationException($"{shard.Input.DisplayPath}: {read.Records} records read but {shard.Statistics.RowsIn} counted");
            }
            shard.Committer.Attach(ScoreRunOptions.StatsAttachment, shard.Statistics.ToJson());
        }

        /// <summary>Reports how the shard ended; all of its share of the work counts, unless it was left for a rerun.</summary>
        private void Finish(ShardWork shard, ShardCommitOutcome outcome)
        {
            shard.Committer.Dispose();
            var (status, message, statistics) = outcome.State switch
            {
                ShardCommitState.Committed => (ShardRunStatus.Committed, outcome.Message, shard.Statistics),
                ShardCommitState.CommittedElsewhere => (ShardRunStatus.Skipped, "committed by another worker", LoadStatistics(outcome.Manifest!, options.OutputFolder)),
                ShardCommitState.NotBegun => (ShardRunStatus.Stopped, "not started: the run was stopped", null),
                _ => (ShardRunStatus.Failed, outcome.Message, (ScoreStatistics?)null),
            };
            if (outcome.State != ShardCommitState.NotBegun)
            {
                _doneWeight += shard.Weight;
                progress.Fraction = Math.Min(1, _doneWeight);
                progress.ShardDone();
            }
            report(new ShardRunResult(shard.Input, status, message, outcome.Manifest, statistics)
            {
                HeldByAnother = outcome.State == ShardCommitState.Busy,
                Note = outcome.MarkerProblem,
            });
        }

        /// <summary>
        /// The writer has taken one more record of <paramref name="shard"/>: its share of the work grows while it is being
        /// written (a shard left for a rerun, another worker's, or failing is counted once it is done with, if at all):
        /// by records under --limit, by bytes for plain (uncompressed) JSONL and JSON files; nothing before the commit for
        /// the rest (Parquet, compressed), whose positions are not bytes of the file.
        /// </summary>
        private void Written(ShardWork shard, long offset)
        {
            if (!shard.Committer.IsWriting)
            {
                return;
            }
            shard.Written++;
            var input = shard.Input;
            // A unit's records sit at byte offsets of the whole file, from the unit's start.
            var within = options.Limit is { } limit ? Math.Min(1, (double)shard.Written / limit)
                : input.Format != InputFormat.Parquet && input.Compression == InputCompression.None && input.WorkBytes > 0
                    ? Math.Clamp((double)(offset - (input.Unit?.Start ?? 0)) / input.WorkBytes, 0, 1)
                    : 0;
            progress.Fraction = _doneWeight + (shard.Weight * within);
        }
    }

    /// <summary>One shard as the stages see it: its committer, its statistics, its share of the run's work (0–1).</summary>
    private sealed class ShardWork(ShardInput input, ShardCommitter committer)
    {
        public ShardInput Input { get; } = input;

        public ShardCommitter Committer { get; } = committer;

        public double Weight { get; init; }

        /// <summary>Records the writer has written (rows, failures and rejects).</summary>
        public long Written { get; set; }

        public ScoreStatistics Statistics { get; } = new();
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
