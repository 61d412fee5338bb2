namespace Riverbed.Sharding;

/// <summary>Defaults shared by the worker (<c>riverbed score</c>) and the job specs written for it.</summary>
public static class WorkerDefaults
{
    /// <summary>
    /// Seconds a worker has after SIGTERM to finish or abandon its shard in flight: Kubernetes' default termination
    /// grace period, so a pod left at its defaults is not killed mid-grace.
    /// </summary>
    public const int GraceSeconds = 30;

    /// <summary>Exit code of a worker stopped by SIGTERM or Ctrl+C: committed shards stand, a rerun does the rest.</summary>
    public const int InterruptedExitCode = 130;
}
