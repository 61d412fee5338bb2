namespace Riverbed.IO.DuckDb;

/// <summary>
/// An error reported by DuckDB (or by loading it). Readers and writers wrap it in an error that names the file involved,
/// so a user always learns which shard failed.
/// </summary>
public sealed class DuckDbException : RiverbedException
{
    public DuckDbException()
    {
    }

    public DuckDbException(string message)
        : base(message)
    {
    }

    public DuckDbException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
