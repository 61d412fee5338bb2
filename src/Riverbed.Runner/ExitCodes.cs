namespace Riverbed.Runner;

/// <summary>
/// Process exit codes. Schedulers and scripts branch on these, so each outcome has its own code and they never change.
/// </summary>
public static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Success = 0;

    /// <summary>A fatal error: bad arguments that parsed, a missing file, a model that breaks its contract.</summary>
    public const int Failure = 1;

    /// <summary>The command line could not be parsed.</summary>
    public const int Usage = 2;

    /// <summary>The run finished, but some shards failed; the summary names them and a rerun retries them.</summary>
    public const int PartialFailure = 3;

    /// <summary><c>riverbed status</c>: some shards are not complete yet (pending, failed or stale); a rerun has work to do.</summary>
    public const int Incomplete = 4;

    /// <summary>Stopped by Ctrl+C or SIGTERM before finishing; committed shards are complete, a rerun finishes the rest.</summary>
    public const int Interrupted = 130;
}
