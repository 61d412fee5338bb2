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
