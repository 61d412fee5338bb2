using System.Globalization;

namespace Riverbed.IO;

/// <summary>Where one shard of a run stands with its <see cref="ShardCommitter"/>.</summary>
public enum ShardCommitState
{
    /// <summary>Planned: the records have not reached the committer yet.</summary>
    Pending,

    /// <summary>The writer is open (lock held, an earlier attempt's files discarded): records are written.</summary>
    Writing,

    /// <summary>A write failed, or the writer could not be opened: the rest of the shard is consumed and dropped, and it fails at its end.</summary>
    Broken,

    /// <summary>More failed rows than the failure budget allows: the reader stops feeding it, and it fails at its end.</summary>
    OverFailureBudget,

    /// <summary>Reached after intake was stopped (a graceful stop): nothing was written; a rerun does it.</summary>
    NotBegun,

    /// <summary>Another worker holds the shard's lock: left to it, its records dropped unread, no failure recorded.</summary>
    Busy,

    /// <summary>Another worker committed the shard after the plan: its outputs are kept, its records dropped unread.</summary>
    CommittedElsewhere,

    /// <summary>Final: the manifest is written last, so the shard is complete; any failure marker of an earlier attempt is cleared.</summary>
    Committed,

    /// <summary>Final: nothing of this attempt is left but the failure marker saying why.</summary>
    Failed,

    /// <summary>Final: the run stopped (a fault elsewhere, or cancellation) before the shard's end; its temporaries are deleted, no marker written.</summary>
    Abandoned,
}

/// <summary>What the committer needs besides the shard: how to write it, its budgets, and who writes.</summary>
public sealed record ShardCommitOptions
{
    public required ShardWriterOptions Writer { get; init; }

    /// <summary>Rejects the shard may have; checked once it is read (<c>--max-rejects</c>).</summary>
    public RejectBudget Rejects { get; init; } = RejectBudget.Unlimited;

    /// <summary>Failed rows the shard may have; checked as each failed row is written (<c>--max-failures</c>).</summary>
    public RejectBudget Failures { get; init; } = RejectBudget.DefaultFailures;

    /// <summary>Recorded in the failure marker of a shard that fails.</summary>
    public WriterIdentity Identity { get; init; } = WriterIdentity.Single;
}

/// <summary>
/// How a shard ended: <see cref="ShardCommitState.Committed"/>, <see cref="ShardCommitState.Failed"/>,
/// <see cref="ShardCommitState.NotBegun"/>, <see cref="ShardCommitState.Busy"/> or <see cref="ShardCommitState.CommittedElsewhere"/>.
/// </summary>
/// <param name="MarkerProblem">Why the failure marker could not be written or cleared, if it could not (the outcome stands).</param>
public sealed record ShardCommitOutcome(ShardCommitState State, string Message, ShardManifest? Manifest, string? MarkerProblem);

/// <summary>
/// The one owner of a shard's lifecycle in a run, as a state machine:
/// <code>
///   Pending ──Open──→ Writing ──Commit (within the reject budget)──→ Committed      (marker cleared)
///      │                 │  ╰──Commit over the reject budget, or a failed commit──→ Failed (marker written)
///      │                 ├──a write fails──→ Broken ─────────────end──→ Failed
///      │                 ╰──failed rows over budget──→ OverFailureBudget ──end──→ Failed
///      ├──Open after intake stopped──→ NotBegun         (a rerun does it)
///      ├──Open finds the lock held──→ Busy               (left to the holder; no marker)
///      ├──Open finds it committed──→ CommittedElsewhere  (kept; marker cleared)
///      ├──Open cannot create the writer──→ Broken
///      ╰──the read fails (from Pending, Writing, Broken, OverFailureBudget or NotBegun)──→ Failed
///                          (Busy and CommittedElsewhere stay as they are: the shard was never this worker's)
///   any state before its end ──Dispose──→ Abandoned   (temporaries deleted, no marker: a rerun redoes it)
/// </code>
/// It owns the shard's claim (<see cref="ShardClaim"/>: lock and owner note, discarding an earlier attempt), its writer
/// (the commit protocol, manifest last), both budgets, and the failure marker (<see cref="FailureMarker"/>), so a
/// library user who runs the pipeline gets a folder whose <c>status</c> is right without any callback. Called from one thread (the writer stage); <see cref="TakesInput"/>
/// may be read from any.
/// </summary>
public sealed class ShardCommitter : IDisposable
{
    private readonly ShardInput _input;
    private readonly ShardCommitOptions _options;
    private readonly SortedDictionary<string, long> _rejectsByKind = new(StringComparer.Ordinal);
    private ShardWriter? _writer;
    private int _state;
    private string? _problem;
    private bool _ended;

    public ShardCommitter(ShardInput input, ShardCommitOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        _input = input;
        _options = options;
    }

    public ShardCommitState State
    {
        get => (ShardCommitState)Volatile.Read(ref _state);
        private set => Volatile.Write(ref _state, (int)value);
    }

    /// <summary>Whether the reader should go on feeding the shard (not when it will never commit here for a reason known now).</summary>
    public bool TakesInput => State is ShardCommitState.Pending or ShardCommitState.Writing or ShardCommitState.Broken;

    /// <summary>Whether records are being written (progress counts only those).</summary>
    public bool IsWriting => State == ShardCommitState.Writing;

    /// <summary>Records seen so far: rows, rejects and failed rows, written or not.</summary>
    public long Seen { get; private set; }

    public long Rejected { get; private set; }

    public long Failed { get; private set; }

    /// <summary>
    /// The shard with this configuration is complete already (a plan skipped it): a failure marker an earlier attempt
    /// left is cleared. Returns why the marker could not be cleared, if it could not.
    /// </summary>
    public static string? KeepComplete(ShardInput input, ShardCommitOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        return ClearMarker(input, options);
    }

    /// <summary>
    /// Opens the shard's writer, unless <paramref name="intake"/> was stopped (then it is left for a rerun), another
    /// worker holds its lock, or another worker committed it meanwhile.
    /// </summary>
    public void Open(CancellationToken intake)
    {
        Expect(ShardCommitState.Pending);
        if (intake.IsCancellationRequested)
        {
            // Read ahead but not begun: after a stop request no new shard is begun, however far the reader got.
            State = ShardCommitState.NotBegun;
            return;
        }
        try
        {
            // The claim (lock, owner note, no commit meanwhile, an earlier attempt discarded) goes to the writer, which
            // releases it after the commit or the abort.
            _writer = ShardWriter.Create(_input, _options.Writer, ShardClaim.Acquire(_input, _options.Writer));
            State = ShardCommitState.Writing;
        }
        catch (ShardCommittedElsewhereException error)
        {
            (_problem, Elsewhere) = (error.Message, error.Manifest);
            State = ShardCommitState.CommittedElsewhere;
        }
        catch (ShardBusyException error)
        {
            _problem = error.Message;
            State = ShardCommitState.Busy;
        }
        catch (Exception error) when (IsShardProblem(error))
        {
            Break(error.Message);
        }
    }

    /// <summary>The manifest of the shard another worker committed (state <see cref="ShardCommitState.CommittedElsewhere"/>).</summary>
    public ShardManifest? Elsewhere { get; private set; }

    /// <summary>Adds a scored row. <paramref name="extraValues"/> follow <see cref="ShardWriterOptions.ExtraColumns"/>.</summary>
    public void WriteRow(Example example, ReadOnlySpan<ColumnValue> extraValues, RowDecision? decision)
    {
        Seen++;
        if (_writer is { } writer)
        {
            try
            {
                writer.WriteRow(example, extraValues, decision);
            }
            catch (Exception error) when (IsShardProblem(error))
            {
                Break(error.Message);
            }
        }
    }

    /// <summary>Adds a record the reader rejected (kept in {base}.rejects.jsonl); the reject budget is checked at the end.</summary>
    public void WriteReject(Reject reject)
    {
        ArgumentNullException.ThrowIfNull(reject);
        Seen++;
        Rejected++;
        var kind = RejectKinds.Name(reject.Kind);
        _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + 1;
        Guarded(writer => writer.WriteReject(reject));
    }

    /// <summary>Adds a row that failed (kept in {base}.failures.jsonl); past the failure budget the shard stops and will fail.</summary>
    public void WriteFailed(Example example, string kind, string message)
    {
        Seen++;
        Failed++;
        Guarded(writer => writer.WriteFailed(example, kind, message));
        var budget = _options.Failures;
        if (State != ShardCommitState.Writing || !budget.IsExceeded(Failed, Seen))
        {
            return;
        }
        _problem = string.Create(CultureInfo.InvariantCulture,
            $"{_input.DisplayPath}: {Failed} failed rows in its first {Seen} exceed the failure budget " +
            $"({SettingNames.Of(RejectBudget.FailuresOption)} {budget}: {budget.Allowed(Seen)} allowed), so the shard was stopped and nothing of it committed. " +
            $"Last failure ({kind}): {message}. Fix the cause or raise {SettingNames.Of(RejectBudget.FailuresOption)}, and run again.");
        CloseWriter();
        State = ShardCommitState.OverFailureBudget;
    }

    /// <summary>Sets a declared attachment of the shard (<see cref="ShardWriter.Attach"/>); nothing while it is not being written.</summary>
    public void Attach(string suffix, ReadOnlySpan<byte> content) => _writer?.Attach(suffix, content);

    /// <summary>
    /// The shard's end: commits it when it is being written and within its reject budget, else ends it in the state it
    /// is in. A shard that fails leaves its marker; one that commits clears it.
    /// </summary>
    public async Task<ShardCommitOutcome> CommitAsync(ShardReadStatistics read, SchemaDetection? schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (_writer is not { } writer)
        {
            return End(State switch
            {
                ShardCommitState.Broken or ShardCommitState.OverFailureBudget => ShardCommitState.Failed,
                ShardCommitState.Writing or ShardCommitState.Pending => throw new InvalidOperationException($"{_input.DisplayPath}: ended before it was opened"),
                var other => other,
            }, _problem ?? "not written", Elsewhere);
        }
        // The writer is closed before the marker is written: an aborted shard's temporaries are deleted first, so a full
        // disk has room again for the marker that says why.
        ShardCommitState state;
        string message;
        ShardManifest? manifest = null;
        try
        {
            if (_options.Rejects.Exceeded(Rejected, read.Records) is { } overBudget)
            {
                var kinds = string.Join(", ", _rejectsByKind.Select(pair => $"{pair.Key} {pair.Value}"));
                (state, message) = (ShardCommitState.Failed,
                    $"{overBudget}, by kind: {kinds}; the shard is not committed (raise the budget to keep the rejects in its rejects file, or fix the input)");
            }
            else
            {
                manifest = await writer.CommitAsync(read, schema, cancellationToken).ConfigureAwait(false);
                (state, message) = (ShardCommitState.Committed, "written");
            }
        }
        catch (Exception error) when (IsShardProblem(error))
        {
            (state, message) = (ShardCommitState.Failed, error.Message);
        }
        finally
        {
            CloseWriter();
        }
        return End(state, message, manifest);
    }

    /// <summary>The shard could not be read (a corrupt file): it fails, unless it was never this worker's to write.</summary>
    public ShardCommitOutcome Fail(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CloseWriter();
        return State switch
        {
            ShardCommitState.Busy or ShardCommitState.CommittedElsewhere => End(State, _problem!, Elsewhere),
            _ => End(ShardCommitState.Failed, message, null),
        };
    }

    /// <summary>Without an end (the run stopped), the shard is abandoned: its writer aborts and deletes its temporaries.</summary>
    public void Dispose()
    {
        CloseWriter();
        if (!_ended)
        {
            _ended = true;
            State = ShardCommitState.Abandoned;
        }
    }

    private ShardCommitOutcome End(ShardCommitState state, string message, ShardManifest? manifest)
    {
        if (_ended)
        {
            throw new InvalidOperationException($"{_input.DisplayPath}: ended twice");
        }
        _ended = true;
        State = state;
        var markerProblem = state switch
        {
            ShardCommitState.Failed => WriteMarker(message),
            ShardCommitState.Committed or ShardCommitState.CommittedElsewhere => ClearMarker(_input, _options),
            _ => null, // Left to another worker or to a rerun: nothing to record.
        };
        return new ShardCommitOutcome(state, message, manifest, markerProblem);
    }

    /// <summary>The marker only explains; a full disk must not turn one failed shard into a failed run.</summary>
    private string? WriteMarker(string reason)
    {
        try
        {
            FailureMarker.Write(_options.Writer.OutputFolder, _input.BaseName, reason, _options.Identity);
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return WriteErrors.Describe(error, $"the failure marker of {_input.DisplayPath} could not be written");
        }
    }

    private static string? ClearMarker(ShardInput input, ShardCommitOptions options)
    {
        try
        {
            FailureMarker.Clear(options.Writer.OutputFolder, input.BaseName);
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return WriteErrors.Describe(error, $"the failure marker of {input.DisplayPath} could not be removed");
        }
    }

    /// <summary>Runs a write; a shard-level write problem breaks this shard only (the run goes on without it).</summary>
    private void Guarded(Action<ShardWriter> write)
    {
        if (_writer is not { } writer)
        {
            return;
        }
        try
        {
            write(writer);
        }
        catch (Exception error) when (IsShardProblem(error))
        {
            Break(error.Message);
        }
    }

    private void Break(string problem)
    {
        _problem = problem;
        CloseWriter();
        State = ShardCommitState.Broken;
    }

    /// <summary>Closes the writer; without a commit that aborts it (temporaries deleted, nothing final-named left).</summary>
    private void CloseWriter()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private void Expect(ShardCommitState state)
    {
        if (State != state)
        {
            throw new InvalidOperationException($"{_input.DisplayPath}: {state} expected, the shard is {State}");
        }
    }

    private static bool IsShardProblem(Exception error) =>
        error is ShardWriteException or OutputPathException or DuckDb.DuckDbException;
}
