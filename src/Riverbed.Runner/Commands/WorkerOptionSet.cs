using System.CommandLine;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// The options that make <c>riverbed score</c> one worker of a job spread over ranks: which rank it is, which shards the
/// job deals out, how long it has after SIGTERM, and when a shard with rejected records fails. Kept apart from
/// <see cref="ScoreOptionSet"/> because none of them changes what a committed shard holds (they are not part of the
/// configuration hash).
/// </summary>
internal sealed class WorkerOptionSet
{
    public Option<int?> Rank { get; } = new("--rank")
    {
        Description = "This worker's rank, 0 … world size − 1 (default: SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or RIVERBED_RANK; else a single process)",
    };

    public Option<int?> WorldSize { get; } = new("--world-size")
    {
        Description = "How many ranks share the job: work units are dealt by size, largest first, to the rank with the least input so far " +
            "(default: SLURM_ARRAY_TASK_COUNT or RIVERBED_WORLD_SIZE; a Kubernetes Indexed Job passes its completions)",
    };

    public Option<string?> ShardList { get; } = new("--shard-list")
    {
        Description = "Deal out only the shards this file names (one per line, as `riverbed status` prints them), in its order",
    };

    public Option<bool> ForceReassign { get; } = new("--force-reassign")
    {
        Description = "Accept a world size, input list or configuration other than the output folder's job record, replacing the record " +
            "(only when no worker of the old job is still running)",
    };

    public Option<string?> UnitSize { get; } = new("--unit-size")
    {
        Description = "Split input files into work units of about this much input (e.g. 64MB, 1GB; default 256MB): JSON Lines at line ends, " +
            "JSON arrays between elements, Parquet by row groups; compressed files are one unit each. Each unit commits on its own and ranks share big files",
    };

    public Option<int> Grace { get; } = new("--grace")
    {
        Description = "Seconds the shard in flight may take to finish after SIGTERM or Ctrl+C; then it is abandoned (a rerun redoes it)",
        DefaultValueFactory = _ => WorkerDefaults.GraceSeconds,
    };

    public Option<string?> MaxRejects { get; } = new("--max-rejects")
    {
        Description = "Records of one shard the reader may reject before the shard fails instead of committing: a count (e.g. 100; 0 for none) " +
            "or a percentage of its records (e.g. 0.5%). Default: no limit; every reject is kept with its line and reason in {shard}.rejects.jsonl and counted",
    };

    public Option<double?> MaxRejectRatio { get; } = new("--max-reject-ratio")
    {
        Description = "The same budget as a fraction (0 … 1) of one shard's records: --max-reject-ratio 0.005 is --max-rejects 0.5%",
    };

    public void AddTo(Command command)
    {
        Grace.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--grace must be 0 or more seconds");
            }
        });
        UnitSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text
                && (!IO.UnitPlanner.TryParseSize(text, out var bytes) || bytes < IO.UnitPlanner.MinimumUnitSize))
            {
                result.AddError($"--unit-size '{text}' is not a size of at least {IO.UnitPlanner.FormatSize(IO.UnitPlanner.MinimumUnitSize)} (e.g. 64MB, 256MB, 1GB)");
            }
        });
        MaxRejects.ParsesWith(text =>
        {
            if (text is not null)
            {
                RejectBudget.Parse(text);
            }
        });
        MaxRejectRatio.Validators.Add(result =>
        {
            try
            {
                RejectsOf(result.GetValueOrDefault<double?>(), null);
            }
            catch (RiverbedException error)
            {
                result.AddError(error.Message);
            }
        });
        foreach (var option in new Option[] { Rank, WorldSize, ShardList, ForceReassign, UnitSize, Grace, MaxRejects, MaxRejectRatio })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The worker's rank (from the options and the scheduler's environment) and settings.</summary>
    public WorkerSettings Resolve(ParseResult parse) => new()
    {
        Rank = RankResolver.Resolve(parse.GetValue(Rank), parse.GetValue(WorldSize)),
        ShardList = parse.GetValue(ShardList),
        ForceReassign = parse.GetValue(ForceReassign),
        UnitSize = parse.GetValue(UnitSize) is { } text && IO.UnitPlanner.TryParseSize(text, out var bytes) ? bytes : IO.UnitPlanner.DefaultUnitSize,
        Grace = TimeSpan.FromSeconds(parse.GetValue(Grace)),
        Rejects = RejectsOf(parse.GetValue(MaxRejectRatio), parse.GetValue(MaxRejects)),
    };

    /// <summary>One reject budget from both flags: --max-reject-ratio R is --max-rejects R×100%, and a count may go with it.</summary>
    private static RejectBudget RejectsOf(double? ratio, string? budget)
    {
        var rejects = budget is null ? RejectBudget.Unlimited : RejectBudget.Parse(budget);
        return ratio is { } share ? rejects.And(RejectBudget.OfShare(share, Setting.MaxRejectRatio)) : rejects;
    }
}

/// <summary>One worker's place in a job: its rank, the shard list dealt out, and its preemption grace.</summary>
internal sealed record WorkerSettings
{
    public static WorkerSettings Single { get; } = new();

    public WorkerRank Rank { get; init; } = WorkerRank.Single;

    /// <summary>A pinned shard-list file, or null to deal out every input shard.</summary>
    public string? ShardList { get; init; }

    public bool ForceReassign { get; init; }

    /// <summary>About how much input one work unit covers (<c>--unit-size</c>).</summary>
    public long UnitSize { get; init; } = IO.UnitPlanner.DefaultUnitSize;

    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(WorkerDefaults.GraceSeconds);

    /// <summary>Rejects a shard may have before it fails (not part of the configuration: it decides commit or not, not the output).</summary>
    public RejectBudget Rejects { get; init; } = RejectBudget.Unlimited;
}
