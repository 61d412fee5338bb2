using System.Globalization;
using Riverbed.IO;

namespace Riverbed.Sharding;

/// <summary>
/// The work a scheduler job should do for an output folder: how many ranks, and — when only part of the job is left —
/// the pinned shard list that names the incomplete shards.
/// </summary>
/// <param name="WorldSize">Array tasks / Indexed Job completions: one rank each.</param>
/// <param name="ShardListArgument">The <c>--shard-list</c> value to pass (under the output folder as the command names it), or null to deal out every shard.</param>
/// <param name="Shards">The shards the job covers, in assignment order (names as status prints them); empty when the inputs are not known yet.</param>
/// <param name="TotalShards">Shards in the whole job (0 when not known yet).</param>
/// <param name="CompleteShards">Shards already complete (skipped by the plan).</param>
public sealed record WorkPlan(int WorldSize, string? ShardListArgument, IReadOnlyList<string> Shards, int TotalShards, int CompleteShards)
{
    public string Describe() => TotalShards == 0
        ? string.Create(CultureInfo.InvariantCulture, $"every input shard over {WorldSize} rank(s) (a fresh output folder)")
        : string.Create(CultureInfo.InvariantCulture,
            $"{Shards.Count} of {TotalShards} shard(s) over {WorldSize} rank(s){(CompleteShards > 0 ? $"; {CompleteShards} already complete" : string.Empty)}{(ShardListArgument is null ? string.Empty : $"; pinned by {ShardListArgument}")}");
}

/// <summary>Plans scheduler jobs from what the output folder says is left to do.</summary>
public static class WorkPlanner
{
    /// <summary>
    /// Plans a job of at most <paramref name="tasks"/> ranks for the output folder <paramref name="outputArgument"/> (as
    /// the command line names it, relative to <paramref name="workingDirectory"/>). With no job record yet, every shard is
    /// to do: <paramref name="inputs"/>, when known, caps the ranks at one per shard. With a record, only incomplete
    /// shards (pending, failed, stale) are covered; unless that is the whole job at its recorded world size, they are
    /// written to a pinned list under <c>.riverbed/lists/</c>. Returns null when every shard is complete.
    /// </summary>
    public static WorkPlan? Plan(string outputArgument, string workingDirectory, int tasks, IReadOnlyList<ShardInput>? inputs = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tasks, 1);
        var output = Path.GetFullPath(Path.Combine(workingDirectory, outputArgument));
        var record = Directory.Exists(output) ? JobRecord.TryLoad(output) : null;
        if (record is null)
        {
            if (inputs is null)
            {
                return new WorkPlan(tasks, null, [], 0, 0);
            }
            var sorted = ShardAssignment.Sorted(inputs);
            return new WorkPlan(Math.Min(tasks, Math.Max(1, sorted.Count)), null, sorted.Select(input => input.Name).ToList(), sorted.Count, 0);
        }
        if (inputs is not null)
        {
            var files = ShardAssignment.Sorted(inputs).Select(input => input.SourceName).Distinct().ToList();
            var recorded = record.Shards.Select(shard => shard.SourceName).Distinct().ToList();
            if (!files.SequenceEqual(recorded, StringComparer.Ordinal))
            {
                throw new JobRecordException(
                    $"the inputs are not the {recorded.Count} file(s) recorded for {outputArgument}; name the same inputs as the job's first run, or use another output folder");
            }
        }
        var status = JobStatus.Scan(output);
        var left = status.Incomplete.Select(report => report.Shard.Name).ToList();
        if (left.Count == 0)
        {
            return null;
        }
        var world = Math.Min(tasks, left.Count);
        var complete = record.Shards.Count - left.Count;
        if (complete == 0 && record.WorldSize == world)
        {
            return new WorkPlan(world, null, left, record.Shards.Count, 0);
        }
        var hash = ShardAssignment.HashNames(left)[..16];
        var relative = "lists/" + hash + ".txt";
        var path = ControlFiles.PathOf(output, relative);
        if (!File.Exists(path))
        {
            var comment = string.Create(CultureInfo.InvariantCulture,
                $"riverbed shard list: the {left.Count} incomplete shard(s) of {record.Shards.Count} in {output}\nwritten {DateTime.UtcNow:u}; its units are dealt to ranks by size, largest first");
            ControlFiles.Replace(path, ShardAssignment.FormatList(left, comment));
        }
        var argument = Path.Combine(outputArgument, ControlFiles.FolderName, "lists", hash + ".txt");
        return new WorkPlan(world, argument, left, record.Shards.Count, complete);
    }
}
