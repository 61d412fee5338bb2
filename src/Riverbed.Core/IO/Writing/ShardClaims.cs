using Riverbed.IO.Writing;

namespace Riverbed.IO;

/// <summary>
/// Another process holds the shard's lock: it is writing the shard now. Nothing of this attempt was written and nothing
/// of the other's was touched; the shard is not done by this worker.
/// </summary>
public sealed class ShardBusyException : ShardWriteException
{
    public ShardBusyException()
    {
    }

    public ShardBusyException(string message)
        : base(message)
    {
    }

    public ShardBusyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// By the time this attempt held the shard's lock, another worker had committed the shard with the same configuration:
/// its outputs are kept as they are (<see cref="Manifest"/>), and this attempt does nothing.
/// </summary>
public sealed class ShardCommittedElsewhereException : ShardWriteException
{
    public ShardCommittedElsewhereException()
    {
    }

    public ShardCommittedElsewhereException(string message)
        : base(message)
    {
    }

    public ShardCommittedElsewhereException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public ShardCommittedElsewhereException(string message, ShardManifest manifest)
        : base(message) => Manifest = manifest;

    public ShardManifest? Manifest { get; }
}

/// <summary>
/// This process's hold on one shard of the output folder while it writes it: the lock file <c>.{name}.lock</c> (an
/// exclusive open, so two workers never write one shard), the owner note beside it (pid, host, since: a held lock cannot
/// be read by the process that finds it held, so its message names the holder from the note), and — once held — the
/// check that nobody committed the shard meanwhile and the cleanup of an earlier attempt. Released (owner note first,
/// then the lock) by the writer after its commit or abort.
/// </summary>
public sealed class ShardClaim : IDisposable
{
    private readonly FileStream _lock;
    private bool _released;

    private ShardClaim(ShardLayout layout, FileStream shardLock) => (Layout, _lock) = (layout, shardLock);

    public ShardLayout Layout { get; }

    /// <summary>
    /// Claims <paramref name="input"/>'s shard in the output folder: takes its lock, notes the holder, checks that no
    /// other worker committed it meanwhile, and discards what an earlier attempt left (its manifest first, then its files).
    /// </summary>
    /// <exception cref="ShardBusyException">Another process holds the lock.</exception>
    /// <exception cref="ShardCommittedElsewhereException">Another worker committed the shard (same configuration) meanwhile.</exception>
    /// <exception cref="ShardWriteException">The output would overwrite the input, or the folder or lock cannot be written.</exception>
    public static ShardClaim Acquire(ShardInput input, ShardWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var layout = options.LayoutFor(input);
        var single = layout.Full(layout.RelativeDataPath(options.SplitByDecision ? "kept" : string.Empty));
        if (string.Equals(single, input.Path, StringComparison.Ordinal))
        {
            throw new ShardWriteException($"{input.DisplayPath}: the output shard would overwrite the input; choose another output folder");
        }
        try
        {
            layout.CreateFolderFor(layout.ManifestPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw WriteErrors.ForShard(error, input.DisplayPath);
        }
        // A lock or owner file that is a link would be opened (and the owner note written) wherever it points.
        RemoveLink(layout.LockPath);
        RemoveLink(OwnerPath(layout));
        FileStream shardLock;
        try
        {
            shardLock = new FileStream(layout.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception error) when (WriteErrors.IsDiskFull(error) || WriteErrors.IsReadOnly(error))
        {
            // Not another process: the lock file itself cannot be created.
            throw WriteErrors.ForShard(error, input.DisplayPath);
        }
        catch (IOException error)
        {
            throw new ShardBusyException(
                $"shard {layout.BaseName} is being written by another process ({Holder(layout)} holds the lock {layout.LockPath}); this worker left it alone", error);
        }
        try
        {
            WriteHolder(layout);
            FaultInjection.HoldAt(layout.BaseName, null);
            // Planned as incomplete, but another worker may have committed it while this one waited to start it: a
            // complete shard made with the same configuration is kept, never discarded and redone.
            var state = ShardCompletion.Check(layout, input, options.ConfigHash, options.Decisions);
            if (state.Status == ShardStatus.Complete)
            {
                throw new ShardCommittedElsewhereException($"shard {layout.BaseName} was committed by another worker meanwhile; its outputs are kept", state.Manifest!);
            }
            DiscardPreviousAttempt(layout, options.Attachments);
            return new ShardClaim(layout, shardLock);
        }
        catch
        {
            DurableFiles.DeleteIfExists(OwnerPath(layout));
            shardLock.Dispose();
            throw;
        }
    }

    /// <summary>Who holds the lock, as its owner file says (pid and host), for the message of a worker that found it held.</summary>
    private static string Holder(ShardLayout layout)
    {
        try
        {
            var text = File.ReadAllText(OwnerPath(layout)).Trim();
            return text.Length > 0 ? text : "its owner";
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return "its owner";
        }
    }

    /// <summary>The lock holder's name beside the lock: a held flock cannot be read by the process that finds it held.</summary>
    private static void WriteHolder(ShardLayout layout)
    {
        try
        {
            File.WriteAllText(OwnerPath(layout), FormattableString.Invariant(
                $"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTime.UtcNow:u}\n"));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // Only a message uses it.
        }
    }

    private static string OwnerPath(ShardLayout layout) => layout.LockPath + ".owner";

    /// <summary>Deletes <paramref name="path"/> when it is a symbolic link (the link only, never what it points to).</summary>
    private static void RemoveLink(string path)
    {
        if (new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
    }

    /// <summary>Removes an earlier attempt's manifest (first, so the shard reads as incomplete), files and temporaries.</summary>
    private static void DiscardPreviousAttempt(ShardLayout layout, IReadOnlyList<string> attachments)
    {
        var old = ShardManifest.TryLoad(layout.ManifestPath);
        DurableFiles.DeleteIfExists(layout.ManifestPath);
        var finals = new List<string>
        {
            layout.Full(layout.RelativeDataPath(string.Empty)),
            layout.Full(layout.RelativeDataPath("kept")),
            layout.Full(layout.RelativeRejectsPath),
            layout.Full(layout.RelativeFailuresPath),
            layout.ManifestPath,
        };
        finals.AddRange(attachments.Select(suffix => layout.Full(layout.RelativeAttachmentPath(suffix))));
        var removed = Path.Combine(layout.Root, "removed");
        if (Directory.Exists(removed))
        {
            foreach (var reason in Directory.EnumerateDirectories(removed))
            {
                finals.Add(layout.Full(layout.RelativeDataPath("removed/" + Path.GetFileName(reason))));
            }
        }
        if (old is not null)
        {
            foreach (var file in old.Files)
            {
                try
                {
                    finals.Add(layout.Full(file.Path));
                }
                catch (OutputPathException)
                {
                    // A tampered manifest naming a path outside the folder: never delete there.
                }
            }
        }
        foreach (var final in finals.Distinct(StringComparer.Ordinal))
        {
            DurableFiles.DeleteIfExists(final);
            foreach (var leftover in ShardLayout.LeftoverTemporaries(final))
            {
                DurableFiles.DeleteIfExists(leftover);
            }
        }
    }

    /// <summary>Releases the shard: the owner note goes first, while the lock is still held, so it never names a holder that is gone.</summary>
    public void Dispose()
    {
        if (!_released)
        {
            _released = true;
            DurableFiles.DeleteIfExists(OwnerPath(Layout));
        }
        _lock.Dispose();
    }
}
