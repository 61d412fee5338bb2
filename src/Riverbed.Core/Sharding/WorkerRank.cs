using System.Globalization;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>Where a worker's rank came from; the CLI logs it so a misconfigured array is easy to spot.</summary>
public enum RankSource
{
    /// <summary>Nothing was given: a single process, rank 0 of 1.</summary>
    SingleProcess,

    /// <summary><c>--rank</c> (and <c>--world-size</c>) on the command line.</summary>
    CommandLine,

    /// <summary>A Slurm job array task: SLURM_ARRAY_TASK_ID, with SLURM_ARRAY_TASK_COUNT or an explicit world size.</summary>
    Slurm,

    /// <summary>A Kubernetes Indexed Job pod: JOB_COMPLETION_INDEX, with the completions passed as the world size.</summary>
    Kubernetes,

    /// <summary>RIVERBED_RANK / RIVERBED_WORLD_SIZE, for any other launcher.</summary>
    Environment,
}

/// <summary>
/// Which of <see cref="WorldSize"/> workers this process is. Work units are dealt out by rank (by size: ShardAssignment),
/// and the job record keeps the dealing, so every worker finds its own share with no coordinator.
/// </summary>
public sealed record WorkerRank(int Rank, int WorldSize, RankSource Source, string Description)
{
    public static WorkerRank Single { get; } = new(0, 1, RankSource.SingleProcess, "single process");

    /// <summary>The rank as the output folder records its writer (e.g. in a failure marker).</summary>
    public WriterIdentity ToWriterIdentity() => new(Rank, WorldSize);

    /// <summary>A rank is its writer's identity wherever the output folder records one (a failure marker, the pipeline's options).</summary>
    public static implicit operator WriterIdentity(WorkerRank rank)
    {
        ArgumentNullException.ThrowIfNull(rank);
        return rank.ToWriterIdentity();
    }

    /// <summary>e.g. "rank 2 of 3 (SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=3)".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"rank {Rank} of {WorldSize} ({Description})");
}

/// <summary>A rank or world size that is missing, malformed, out of range, or given two different ways.</summary>
public sealed class WorkerRankException : RiverbedException
{
    public WorkerRankException()
    {
    }

    public WorkerRankException(string message)
        : base(message)
    {
    }

    public WorkerRankException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Works out this process's rank and world size from, in order of precedence for the report: <c>--rank</c>/<c>--world-size</c>;
/// a Slurm array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT); a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
/// with the completions given as <c>--world-size</c> or RIVERBED_WORLD_SIZE); RIVERBED_RANK / RIVERBED_WORLD_SIZE.
/// Every source that is present must agree: two ranks that differ are an error naming both, because silently
/// preferring one would let a misconfigured array process some shards twice and others never.
/// An explicit world size (option or RIVERBED_WORLD_SIZE) takes the place of SLURM_ARRAY_TASK_COUNT, so a resubmitted
/// sparse array (<c>--array=2,5</c>) can still name the original world size.
/// </summary>
public static class RankResolver
{
    public const string SlurmTaskId = "SLURM_ARRAY_TASK_ID";
    public const string SlurmTaskCount = "SLURM_ARRAY_TASK_COUNT";
    public const string SlurmTaskMin = "SLURM_ARRAY_TASK_MIN";
    public const string SlurmTaskMax = "SLURM_ARRAY_TASK_MAX";
    public const string KubernetesIndex = "JOB_COMPLETION_INDEX";
    public const string RiverbedRank = "RIVERBED_RANK";
    public const string RiverbedWorldSize = "RIVERBED_WORLD_SIZE";

    /// <summary>Resolves from the process environment.</summary>
    public static WorkerRank Resolve(int? rankOption, int? worldSizeOption) =>
        Resolve(rankOption, worldSizeOption, System.Environment.GetEnvironmentVariable);

    public static WorkerRank Resolve(int? rankOption, int? worldSizeOption, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var slurmId = Read(environment, SlurmTaskId);
        var slurmCount = Read(environment, SlurmTaskCount);
        var kubernetesIndex = Read(environment, KubernetesIndex);
        var envRank = Read(environment, RiverbedRank);
        var envWorld = Read(environment, RiverbedWorldSize);
        if (rankOption is < 0)
        {
            throw new WorkerRankException($"{SettingNames.Of(Setting.Rank)} {rankOption} is negative; ranks count from 0");
        }
        if (worldSizeOption is < 1)
        {
            throw new WorkerRankException($"{SettingNames.Of(Setting.WorldSize)} {worldSizeOption} must be at least 1");
        }

        // Every rank that is present, in order of precedence; they must all be the same number.
        var ranks = new List<(int Value, string Name, RankSource Source)>();
        if (rankOption is { } optionRank)
        {
            ranks.Add((optionRank, Invariant($"{SettingNames.Of(Setting.Rank)} {optionRank}"), RankSource.CommandLine));
        }
        if (slurmId is { } slurm)
        {
            ranks.Add((slurm, Invariant($"{SlurmTaskId}={slurm}"), RankSource.Slurm));
        }
        if (kubernetesIndex is { } index)
        {
            ranks.Add((index, Invariant($"{KubernetesIndex}={index}"), RankSource.Kubernetes));
        }
        if (envRank is { } riverbedRank)
        {
            ranks.Add((riverbedRank, Invariant($"{RiverbedRank}={riverbedRank}"), RankSource.Environment));
        }
        foreach (var other in ranks.Skip(1))
        {
            if (other.Value != ranks[0].Value)
            {
                throw new WorkerRankException(
                    $"the rank is given two ways that disagree: {ranks[0].Name} and {other.Name}; remove one, or make them agree");
            }
        }

        // The world size: an explicit one (option, RIVERBED_WORLD_SIZE) must agree with itself and wins over the
        // Slurm array's task count; otherwise the array's count is used.
        (int Value, string Name)? world = null;
        if (worldSizeOption is { } optionWorld)
        {
            world = (optionWorld, Invariant($"{SettingNames.Of(Setting.WorldSize)} {optionWorld}"));
        }
        if (envWorld is { } riverbedWorld)
        {
            if (world is { } given && given.Value != riverbedWorld)
            {
                throw new WorkerRankException(
                    $"the world size is given two ways that disagree: {given.Name} and {RiverbedWorldSize}={riverbedWorld}; remove one, or make them agree");
            }
            world ??= (riverbedWorld, Invariant($"{RiverbedWorldSize}={riverbedWorld}"));
        }
        if (world is { } explicitWorld && explicitWorld.Value < 1)
        {
            throw new WorkerRankException($"{explicitWorld.Name} must be at least 1");
        }
        if (world is null && slurmId is not null)
        {
            if (slurmCount is not { } count)
            {
                throw new WorkerRankException(
                    $"{SlurmTaskId} is set but {SlurmTaskCount} is not; pass {SettingNames.Of(Setting.WorldSize)} with the number of ranks");
            }
            var min = Read(environment, SlurmTaskMin);
            var max = Read(environment, SlurmTaskMax);
            if ((min is { } first && first != 0) || (max is { } last && last != count - 1))
            {
                throw new WorkerRankException(Invariant(
                    $"the Slurm array's task ids ({min}-{max}, {count} tasks) do not number ranks 0..{count - 1}; submit --array=0-{count - 1}, or pass {SettingNames.Of(Setting.WorldSize)} with the number of ranks"));
            }
            world = (count, Invariant($"{SlurmTaskCount}={count}"));
        }

        if (ranks.Count == 0)
        {
            if (world is { } alone && alone.Value != 1)
            {
                throw new WorkerRankException(
                    $"{alone.Name} but no rank: pass {SettingNames.Of(Setting.Rank)}, or run as a Slurm array task ({SlurmTaskId}) or a Kubernetes Indexed Job ({KubernetesIndex}), or set {RiverbedRank}");
            }
            return WorkerRank.Single;
        }
        var rank = ranks[0];
        if (world is not { } size)
        {
            throw new WorkerRankException(rank.Source == RankSource.Kubernetes
                ? $"{rank.Name} (a Kubernetes Indexed Job) but no world size: pass {SettingNames.Of(Setting.WorldSize)} with the Job's completions, or set {RiverbedWorldSize}"
                : $"{rank.Name} but no world size: pass {SettingNames.Of(Setting.WorldSize)}, or set {RiverbedWorldSize}");
        }
        if (rank.Value >= size.Value)
        {
            throw new WorkerRankException(Invariant(
                $"{rank.Name} is out of range for {size.Name}: ranks run from 0 to {size.Value - 1}"));
        }
        var agreeing = ranks.Skip(1).Select(other => other.Name).ToList();
        var description = $"{rank.Name}, {size.Name}" + (agreeing.Count > 0 ? $"; agrees with {string.Join(", ", agreeing)}" : string.Empty);
        return new WorkerRank(rank.Value, size.Value, rank.Source, description);
    }

    private static int? Read(Func<string, string?> environment, string name)
    {
        var text = environment(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw new WorkerRankException($"{name}='{text}' is not a non-negative whole number");
        }
        return value;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
