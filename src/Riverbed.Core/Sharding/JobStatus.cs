using System.Globalization;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>Where a shard of a job stands.</summary>
public enum ShardProgress
{
    /// <summary>Its manifest matches its files, for the recorded input and configuration: nothing left to do.</summary>
    Complete,

    /// <summary>Not committed and no attempt recorded a failure: never started, running, or killed outright.</summary>
    Pending,

    /// <summary>Its last attempt failed and said why (a failure marker); a rerun retries it.</summary>
    Failed,

    /// <summary>Committed once, but the commit can no longer be trusted (tampered, truncated, input or config changed).</summary>
    Stale,
}

/// <summary>Why a shard is where it is (one cause per shard, the most specific one).</summary>
public enum ShardCause
{
    /// <summary>Complete: the manifest matches.</summary>
    Verified,

    /// <summary>No manifest: the shard never committed.</summary>
    MissingManifest,

    /// <summary>A manifest that cannot be parsed.</summary>
    UnreadableManifest,

    /// <summary>A file the manifest lists is missing, or its size or SHA-256 differ (tampered or truncated).</summary>
    HashMismatch,

    /// <summary>The input's size or modification time changed since the commit.</summary>
    InputChanged,

    /// <summary>The recorded input no longer exists.</summary>
    InputMissing,

    /// <summary>Committed with a configuration other than the job's.</summary>
    ConfigDrift,

    /// <summary>The last attempt failed (its failure marker says why).</summary>
    LastAttemptFailed,
}

/// <summary>One shard's state, cause, human-readable reason and the rank that owns it under the job's world size.</summary>
public sealed record ShardReport(RecordedShard Shard, ShardProgress Progress, ShardCause Cause, string Reason, int? Rank,
    ShardManifest? Manifest, FailureMarker? Failure);

/// <summary>
/// The state of every shard of the job recorded in an output folder (<see cref="JobRecord"/>): complete, pending, failed
/// or stale, each with its reason, plus temporaries left by attempts that were killed. Verifying a shard reads every
/// file its manifest lists (size and SHA-256), exactly as a rerun does before skipping it, so what status calls
/// complete is what a rerun will skip.
/// </summary>
public sealed class JobStatus
{
    private JobStatus(string outputFolder, JobRecord record, IReadOnlyList<ShardReport> shards, IReadOnlyList<string> temporaries)
    {
        OutputFolder = outputFolder;
        Record = record;
        Shards = shards;
        LeftoverTemporaries = temporaries;
    }

    public string OutputFolder { get; }

    public JobRecord Record { get; }

    /// <summary>Every recorded shard, in the record's order.</summary>
    public IReadOnlyList<ShardReport> Shards { get; }

    /// <summary>Temporary files (<c>.{file}.{pid}-{random}.tmp</c>) of attempts that are running or were killed.</summary>
    public IReadOnlyList<string> LeftoverTemporaries { get; }

    public bool AllComplete => Shards.All(shard => shard.Progress == ShardProgress.Complete);

    public int Count(ShardProgress progress) => Shards.Count(shard => shard.Progress == progress);

    /// <summary>The shards that still need work (pending, failed, stale), in the record's order.</summary>
    public IReadOnlyList<ShardReport> Incomplete => Shards.Where(shard => shard.Progress != ShardProgress.Complete).ToList();

    /// <summary>Checks every shard of the job recorded in <paramref name="outputFolder"/>.</summary>
    public static JobStatus Scan(string outputFolder, int maxParallelism = 0)
    {
        var full = Path.GetFullPath(outputFolder);
        if (!Directory.Exists(full))
        {
            throw new JobRecordException($"{outputFolder} does not exist");
        }
        var record = JobRecord.TryLoad(full)
            ?? throw new JobRecordException(
                $"{outputFolder} has no job record ({ControlFiles.FolderName}/{JobRecord.FileName}); it is written by the first `riverbed score` run into that folder");
        var reports = new ShardReport[record.Shards.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxParallelism > 0 ? maxParallelism : System.Environment.ProcessorCount };
        Parallel.For(0, record.Shards.Count, options, i => reports[i] = Check(full, record, i));
        return new JobStatus(full, record, reports, FindTemporaries(full));
    }

    private static ShardReport Check(string outputFolder, JobRecord record, int index)
    {
        var shard = record.Shards[index];
        var rank = record.RankOf(index);
        var layout = new ShardLayout(outputFolder, shard.BaseName, OutputFormat.Parquet, split: false);
        var failure = FailureMarker.TryRead(outputFolder, shard.BaseName);

        ShardInput input;
        try
        {
            input = shard.ToInput();
        }
        catch (InputException)
        {
            return new ShardReport(shard, ShardProgress.Stale, ShardCause.InputMissing, $"the input {shard.Path} no longer exists", rank,
                ShardManifest.TryLoad(layout.ManifestPath), failure);
        }
        var state = ShardCompletion.Check(layout, input, record.ConfigHash ?? string.Empty);
        if (state.Status == ShardStatus.Complete
            || (record.ConfigHash is null && state.Status == ShardStatus.ConfigMismatch))
        {
            return new ShardReport(shard, ShardProgress.Complete, ShardCause.Verified, "manifest matches its files", rank, state.Manifest, null);
        }
        if (failure is not null)
        {
            var by = failure.Rank >= 0
                ? string.Create(CultureInfo.InvariantCulture, $" (rank {failure.Rank} of {failure.WorldSize}, {failure.Host} pid {failure.ProcessId}, {failure.FailedUtc:u})")
                : string.Empty;
            return new ShardReport(shard, ShardProgress.Failed, ShardCause.LastAttemptFailed, $"last attempt failed: {failure.Reason}{by}", rank,
                state.Manifest, failure);
        }
        return state.Status switch
        {
            ShardStatus.Missing => new ShardReport(shard, ShardProgress.Pending, ShardCause.MissingManifest, "no manifest (not committed yet)", rank, null, null),
            ShardStatus.ConfigMismatch => new ShardReport(shard, ShardProgress.Stale, ShardCause.ConfigDrift,
                $"config drift: committed with configuration {state.Manifest!.ConfigHash}, the job's is {record.ConfigHash}", rank, state.Manifest, null),
            _ when state.Manifest is null => new ShardReport(shard, ShardProgress.Stale, ShardCause.UnreadableManifest, state.Reason, rank, null, null),
            _ when state.Manifest.InputBytes != input.Size || state.Manifest.InputLastWriteUtc != input.LastWriteUtc =>
                new ShardReport(shard, ShardProgress.Stale, ShardCause.InputChanged,
                    string.Create(CultureInfo.InvariantCulture,
                        $"input changed since the commit ({input.DisplayPath}: {state.Manifest.InputBytes:N0} → {input.Size:N0} bytes, modified {input.LastWriteUtc:u})"),
                    rank, state.Manifest, null),
            _ when !state.Manifest.InputIsSameFile(input) =>
                new ShardReport(shard, ShardProgress.Stale, ShardCause.InputChanged,
                    $"input changed since the commit ({input.DisplayPath} now leads to {input.ResolvedPath}, not {state.Manifest.InputResolvedPath})", rank, state.Manifest, null),
            _ => new ShardReport(shard, ShardProgress.Stale, ShardCause.HashMismatch, $"hash mismatch: {state.Reason}", rank, state.Manifest, null),
        };
    }

    private static List<string> FindTemporaries(string outputFolder)
    {
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(outputFolder, ".*.tmp", SearchOption.AllDirectories))
        {
            found.Add(Path.GetRelativePath(outputFolder, file).Replace(Path.DirectorySeparatorChar, '/'));
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }
}
