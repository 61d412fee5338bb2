namespace Riverbed.IO;

/// <summary>
/// Which worker of a job is writing (rank of world size), as the output folder records it: a failure marker names the
/// rank whose attempt failed, so whoever reads <c>riverbed status</c> knows which task's log to open.
/// </summary>
public sealed record WriterIdentity(int Rank, int WorldSize)
{
    /// <summary>One process doing the whole job.</summary>
    public static WriterIdentity Single { get; } = new(0, 1);
}
