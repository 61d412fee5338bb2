using System.CommandLine;
using System.Globalization;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed merge-stats OUT</c>: stats.json (and run.json) for a job spread over ranks, made by
/// <see cref="StatsMerger"/> from the statistics of every complete shard; this command prints what it found. Exit 0 when
/// every shard of the job is complete, <see cref="ExitCodes.Incomplete"/> (naming the shards) when some are not.
/// </summary>
internal static class MergeStatsCommand
{
    public static Command Create()
    {
        var output = new Argument<string>("output") { Description = "The output folder of a `riverbed score` job (one or many ranks)" };
        var command = new Command("merge-stats",
            "Merge the statistics of every complete shard of an output folder into stats.json (exactly, idempotently) and the ranks' run " +
            "records into run.json; exit 4 naming the shards that are not complete.");
        command.Arguments.Add(output);
        CommandAction.Set(command, parse =>
        {
            var merged = StatsMerger.Merge(parse.GetValue(output)!);
            Print(merged);
            return merged.Status.AllComplete ? ExitCodes.Success : ExitCodes.Incomplete;
        });
        return command;
    }

    private static void Print(MergedStatistics merged)
    {
        var status = merged.Status;
        var total = merged.Total;
        var complete = status.Count(ShardProgress.Complete);
        Console.Out.WriteLine($"riverbed merge-stats: {status.OutputFolder}");
        Console.Out.WriteLine(Invariant(
            $"merged {complete} complete shard(s) of {status.Shards.Count}: {total.RowsIn:N0} in, {total.RowsOut:N0} out ({total.Kept:N0} kept, {total.Removed:N0} removed), {total.RowsRejected:N0} rejected, {total.RowsFailed:N0} failed -> stats.json"));
        foreach (var line in merged.RankChecks)
        {
            Console.Out.WriteLine("  " + line);
        }
        if (merged.RunRecords > 0)
        {
            Console.Out.WriteLine(Invariant($"run.json: the job as {merged.RunRecords} rank run record(s) in runs/ describe it"));
        }
        var incomplete = status.Incomplete;
        if (incomplete.Count > 0)
        {
            Console.Out.WriteLine(Invariant($"incomplete: {incomplete.Count} shard(s) are not in stats.json yet:"));
            foreach (var report in incomplete.Take(50))
            {
                Console.Out.WriteLine($"  {StatusCommand.Word(report.Progress),-8}  {report.Shard.Name}  {report.Reason}");
            }
            if (incomplete.Count > 50)
            {
                Console.Out.WriteLine(Invariant($"  … and {incomplete.Count - 50} more (see `riverbed status {status.OutputFolder}`)"));
            }
            Console.Out.WriteLine("rerun the job's `riverbed score` command (or `riverbed emit slurm|k8s`) to finish them, then merge-stats again");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
