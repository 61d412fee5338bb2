using Riverbed.IO.Writing;

namespace Riverbed.IO;

/// <summary>
/// Writes one output shard with the commit protocol. Rows, rejects and failures arrive in input order; nothing gets a
/// final name until <see cref="CommitAsync"/>:
/// <list type="number">
/// <item>output files are written under temporary names in their final folders, then flushed and fsynced;</item>
/// <item>they are renamed to their final names and the folders fsynced;</item>
/// <item>the manifest (counts, SHA-256 of every file, input path + size + mtime, config hash) is written last, the same
///   way: temporary name, fsync, rename, folder fsync.</item>
/// </list>
/// A shard counts as complete only when its manifest exists and matches its files (<see cref="ShardCompletion"/>), so a
/// crash at any point leaves a shard that the next run redoes. Disposing without committing aborts: temporary files
/// are deleted and nothing final-named remains. The writer works under a <see cref="ShardClaim"/> (the lock that keeps two
/// writers off one shard, which also discards what an earlier attempt left) and releases it after its commit or abort.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly ShardInput _input;
    private readonly ShardWriterOptions _options;
    private readonly ShardClaim _claim;
    private readonly IRowSink _sink;
    private readonly SortedSet<string> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _rejectsByKind = new(StringComparer.Ordinal);
    private readonly List<string> _finalNamed = [];
    private readonly SortedDictionary<string, byte[]> _attachments = new(StringComparer.Ordinal);
    private readonly List<string> _attachmentTemporaries = [];
    private SideFile? _rejects;
    private SideFile? _failures;
    private long _lastRow = -1;
    private long _rowsOut;
    private long _rowsRejected;
    private long _rowsFailed;
    private bool _committed;
    private bool _disposed;

    private ShardWriter(ShardInput input, ShardWriterOptions options, ShardClaim claim)
    {
        _input = input;
        _options = options;
        Layout = claim.Layout;
        _claim = claim;
        _routes.Add(options.SplitByDecision ? "kept" : string.Empty);
        _sink = options.Format == OutputFormat.Parquet
            ? new ParquetSink(Layout, input, options)
            : new JsonLinesSink(Layout, options.AllColumns);
    }

    public ShardLayout Layout { get; }

    /// <summary>Claims the shard (<see cref="ShardClaim.Acquire"/>) and opens its writer.</summary>
    /// <exception cref="ShardBusyException">Another process holds the shard's lock.</exception>
    /// <exception cref="ShardCommittedElsewhereException">Another worker committed the shard meanwhile.</exception>
    public static ShardWriter Create(ShardInput input, ShardWriterOptions options) => Create(input, options, ShardClaim.Acquire(input, options));

    /// <summary>Opens the writer of a shard this process has claimed; the writer releases the claim after its commit or abort.</summary>
    public static ShardWriter Create(ShardInput input, ShardWriterOptions options, ShardClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        try
        {
            return new ShardWriter(input, options, claim);
        }
        catch
        {
            claim.Dispose();
            throw;
        }
    }

    /// <summary>Adds an example's row. <paramref name="extraValues"/> follow <see cref="ShardWriterOptions.ExtraColumns"/>.</summary>
    public void WriteRow(Example example, ReadOnlySpan<ColumnValue> extraValues = default, RowDecision? decision = null)
    {
        ArgumentNullException.ThrowIfNull(example);
        CheckOpen();
        var columns = _options.ExtraColumns;
        if (extraValues.Length != columns.Count)
        {
            throw new ArgumentException($"{columns.Count} extra column values expected, {extraValues.Length} given", nameof(extraValues));
        }
        for (var i = 0; i < columns.Count; i++)
        {
            extraValues[i].CheckFits(columns[i].Type, columns[i].Name);
        }
        FaultInjection.HoldAt(Layout.BaseName, example.Row);
        TakeRow(example.Row);
        var route = _options.SplitByDecision ? (decision ?? RowDecision.Keep).Route : string.Empty;
        _routes.Add(route);
        try
        {
            _sink.Write(example, extraValues, route);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw WriteErrors.ForShard(error, _input.DisplayPath);
        }
        _rowsOut++;
        if (_rowsOut == 1000)
        {
            FaultInjection.At("mid-write");
        }
    }

    /// <summary>Adds a record the reader rejected (it goes to {base}.rejects.jsonl).</summary>
    public void WriteReject(Reject reject)
    {
        ArgumentNullException.ThrowIfNull(reject);
        CheckOpen();
        TakeRow(reject.Row);
        try
        {
            _rejects ??= new SideFile(Temporary(Layout.RelativeRejectsPath), _options.MaxRawBytes);
            _rejects.WriteReject(reject);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw WriteErrors.ForShard(error, _input.DisplayPath);
        }
        _rowsRejected++;
        var kind = RejectKinds.Name(reject.Kind);
        _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + 1;
    }

    /// <summary>Adds an example that could not be processed (e.g. an inference fault); it goes to {base}.failures.jsonl.</summary>
    public void WriteFailed(Example example, string kind, string message)
    {
        ArgumentNullException.ThrowIfNull(example);
        CheckOpen();
        TakeRow(example.Row);
        try
        {
            _failures ??= new SideFile(Temporary(Layout.RelativeFailuresPath), _options.MaxRawBytes);
            _failures.WriteFailure(_input.DisplayPath, example, kind, message);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw WriteErrors.ForShard(error, _input.DisplayPath);
        }
        _rowsFailed++;
    }

    /// <summary>
    /// Sets the content of a declared attachment (<see cref="ShardWriterOptions.Attachments"/>), written at commit as
    /// {base}.{suffix} with the same protocol as the data and listed in the manifest. Setting it again replaces it.
    /// </summary>
    public void Attach(string suffix, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        CheckOpen();
        if (!_options.Attachments.Contains(suffix, StringComparer.Ordinal))
        {
            throw new ArgumentException($"attachment '{suffix}' was not declared in the writer options", nameof(suffix));
        }
        _attachments[suffix] = content.ToArray();
    }

    public long RowsOut => _rowsOut;

    public long RowsRejected => _rowsRejected;

    public long RowsFailed => _rowsFailed;

    /// <summary>
    /// Commits the shard. <paramref name="read"/> is the reader's final statistics: every record it produced must have
    /// been written as a row, a reject or a failure, or the commit is refused.
    /// </summary>
    public Task<ShardManifest> CommitAsync(ShardReadStatistics read, SchemaDetection? schema = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        CheckOpen();
        var accounted = _rowsOut + _rowsRejected + _rowsFailed;
        if (read.Records != accounted)
        {
            throw new ShardWriteException(
                $"{_input.DisplayPath}: {read.Records:N0} records were read but {accounted:N0} were written, rejected or failed; refusing to commit a shard that loses rows");
        }
        return Task.Run(() => CommitOrExplain(read, schema, cancellationToken), cancellationToken);
    }

    /// <summary>A write error while committing (a full disk, most often) fails this shard with its cause named.</summary>
    private ShardManifest CommitOrExplain(ShardReadStatistics read, SchemaDetection? schema, CancellationToken cancellationToken)
    {
        try
        {
            FaultInjection.DiskFullAt(Layout.BaseName);
            return Commit(read, schema, cancellationToken);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException
            || (error is DuckDb.DuckDbException && WriteErrors.IsDiskFull(error)))
        {
            throw WriteErrors.ForShard(error, _input.DisplayPath);
        }
    }

    private ShardManifest Commit(ShardReadStatistics read, SchemaDetection? schema, CancellationToken cancellationToken)
    {
        var staged = _sink.Stage(_routes.ToList(), cancellationToken);
        var sideFiles = new List<(SideFile File, string Relative)>();
        if (_rejects is not null)
        {
            _rejects.Complete();
            sideFiles.Add((_rejects, Layout.RelativeRejectsPath));
        }
        if (_failures is not null)
        {
            _failures.Complete();
            sideFiles.Add((_failures, Layout.RelativeFailuresPath));
        }
        var attachments = new List<(string Temporary, string Relative)>();
        foreach (var (suffix, content) in _attachments)
        {
            var relative = Layout.RelativeAttachmentPath(suffix);
            var temporary = Temporary(relative);
            _attachmentTemporaries.Add(temporary);
            File.WriteAllBytes(temporary, content);
            attachments.Add((temporary, relative));
        }
        FaultInjection.At("before-fsync");
        foreach (var output in staged)
        {
            DurableFiles.SyncFile(output.TemporaryPath);
        }
        foreach (var (temporary, _) in attachments)
        {
            DurableFiles.SyncFile(temporary);
        }
        FaultInjection.At("before-rename");
        cancellationToken.ThrowIfCancellationRequested();

        var outputs = new List<(string Route, ManifestFile File)>();
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in staged)
        {
            var relative = Layout.RelativeDataPath(output.Route);
            outputs.Add((output.Route, Publish(output.TemporaryPath, relative, output.Rows, folders)));
        }
        ManifestFile? rejects = null;
        ManifestFile? failures = null;
        foreach (var (file, relative) in sideFiles)
        {
            var side = Publish(file.TemporaryPath, relative, file.Rows, folders);
            if (ReferenceEquals(file, _rejects))
            {
                rejects = side;
            }
            else
            {
                failures = side;
            }
        }
        var published = attachments.Select(attachment => Publish(attachment.Temporary, attachment.Relative, 0, folders)).ToList();
        foreach (var folder in folders)
        {
            DurableFiles.SyncDirectory(folder);
        }
        FaultInjection.At("before-manifest");

        var manifest = new ShardManifest
        {
            Shard = Layout.BaseName,
            InputPath = _input.Path,
            InputResolvedPath = _input.ResolvedPath,
            InputBytes = _input.Size,
            InputLastWriteUtc = _input.LastWriteUtc,
            ConfigHash = _options.ConfigHash,
            Decisions = _options.Decisions,
            Format = _options.Format == OutputFormat.Parquet ? "parquet" : "jsonl",
            Schema = schema,
            RowsIn = read.Records,
            RowsOut = _rowsOut,
            RowsRejected = _rowsRejected,
            RowsFailed = _rowsFailed,
            BlankLines = read.BlankLines,
            RejectsByKind = _rejectsByKind,
            Outputs = outputs,
            Rejects = rejects,
            Failures = failures,
            Attachments = published,
            CommittedUtc = DateTime.UtcNow,
        };
        WriteManifest(manifest.ToJson());
        _committed = true;
        Release();
        return manifest;
    }

    /// <summary>Measures a staged file and renames it to its final name.</summary>
    private ManifestFile Publish(string temporary, string relative, long rows, HashSet<string> folders)
    {
        var final = Layout.Full(relative);
        var (bytes, sha256) = DurableFiles.Measure(temporary);
        DurableFiles.Rename(temporary, final);
        _finalNamed.Add(final);
        folders.Add(Path.GetDirectoryName(final)!);
        return new ManifestFile(relative, rows, bytes, sha256);
    }

    private void WriteManifest(byte[] json)
    {
        var final = Layout.ManifestPath;
        var temporary = ShardLayout.TemporaryPath(final);
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(json.AsSpan(0, json.Length / 2));
            stream.Flush();
            FaultInjection.At("mid-manifest");
            stream.Write(json.AsSpan(json.Length / 2));
            stream.Flush(flushToDisk: true);
        }
        DurableFiles.Rename(temporary, final);
        DurableFiles.SyncDirectory(Path.GetDirectoryName(final)!);
    }

    /// <summary>Aborts unless committed: deletes temporary files (and any file renamed by a commit that then failed).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        var temporaries = _sink.TemporaryPaths.ToList();
        // Closing flushes what is buffered; on a full disk that flush fails, and the files are deleted below anyway, so
        // the error must not escape (it would hide the shard's real failure and leave temporaries and the lock behind).
        IgnoringWriteErrors(_sink.Dispose);
        IgnoringWriteErrors(() => _rejects?.Dispose());
        IgnoringWriteErrors(() => _failures?.Dispose());
        if (!_committed)
        {
            foreach (var path in temporaries.Concat(new[] { _rejects?.TemporaryPath, _failures?.TemporaryPath }.OfType<string>())
                .Concat(_attachmentTemporaries).Concat(_finalNamed))
            {
                DurableFiles.DeleteIfExists(path);
            }
        }
        Release();
    }

    private static void IgnoringWriteErrors(Action close)
    {
        try
        {
            close();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or DuckDb.DuckDbException)
        {
            // An aborted shard's files are deleted next; what could not be flushed is not needed.
        }
    }

    private void Release() => _claim.Dispose();

    private string Temporary(string relative)
    {
        var final = Layout.Full(relative);
        Layout.CreateFolderFor(final);
        return ShardLayout.TemporaryPath(final);
    }

    private void TakeRow(long row)
    {
        if (row <= _lastRow)
        {
            throw new InvalidOperationException($"rows must be written in input order: row {row} came after row {_lastRow}");
        }
        _lastRow = row;
    }

    private void CheckOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("the shard is already committed");
        }
    }
}
