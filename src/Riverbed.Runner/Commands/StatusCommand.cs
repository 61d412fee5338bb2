using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed status OUT</c>: every shard of the job recorded in an output folder — complete, pending, failed or
/// stale, with the reason — counts per state, and temporaries left by killed attempts. Exit 0 when every shard is
/// complete, <see cref="ExitCodes.Incomplete"/> when work is left, so scripts can loop on it.
/// </summary>
internal static class StatusCommand
{
    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var output = new Argument<string>("output") { Description = "The output folder of a `riverbed score` run" };
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON object" };
        var command = new Command("status",
            "Show which shards of an output folder are complete, pending, failed or stale, and why; exit 0 only when all are complete.");
        command.Arguments.Add(output);
        command.Options.Add(json);
        CommandAction.Set(command, parse =>
        {
            var status = JobStatus.Scan(parse.GetValue(output)!);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(ToJson(status));
            }
            else
            {
                Print(status);
            }
            return status.AllComplete ? ExitCodes.Success : ExitCodes.Incomplete;
        });
        return command;
    }

    private static void Print(JobStatus status)
    {
        var record = status.Record;
        var world = record.WorldSize is { } size ? Invariant($"over {size} rank(s)") : "(world size not recorded yet)";
        Console.Out.WriteLine($"riverbed status: {status.OutputFolder}");
        Console.Out.WriteLine(Invariant($"job: {record.Shards.Count} shard(s) {world}, configuration {record.ConfigHash ?? "not recorded"}"));
        var files = record.Shards.Select(shard => shard.SourceName).Distinct(StringComparer.Ordinal).Count();
        if (record.IsPreviousLayout)
        {
            Console.Out.WriteLine("layout: an output folder of an earlier Riverbed (whole files, file i to rank i mod the world size); read as it is, scoring into it is refused unless --force-reassign");
        }
        else if (files != record.Shards.Count || record.UnitSize is not null)
        {
            var perRank = record.WorldSize is { } ranks
                ? "; input bytes per rank: " + string.Join(", ", Enumerable.Range(0, ranks).Select(rank =>
                    Invariant($"{rank}: {record.Shards.Where(shard => shard.Rank == rank).Sum(shard => shard.Bytes):N0}")))
                : string.Empty;
            Console.Out.WriteLine(Invariant(
                $"units: {files} file(s) in {record.Shards.Count} work unit(s) of up to {(record.UnitSize is { } unit ? IO.UnitPlanner.FormatSize(unit) : "a whole file")}, dealt by size{perRank}"));
        }
        var width = Math.Min(60, status.Shards.Select(shard => shard.Shard.Name.Length).DefaultIfEmpty(5).Max());
        foreach (var report in status.Shards)
        {
            var state = Word(report.Progress).PadRight(8);
            var rank = report.Rank is { } r ? Invariant($"rank {r}") : "rank ?";
            var detail = report.Progress == ShardProgress.Complete && report.Manifest is { } manifest
                ? Invariant($"{manifest.RowsIn:N0} in, {manifest.RowsOut:N0} out, {manifest.RowsRejected:N0} rejected, {manifest.RowsFailed:N0} failed")
                : report.Reason;
            Console.Out.WriteLine($"  {state}  {report.Shard.Name.PadRight(width)}  {rank,-7}  {detail}");
        }
        var counts = string.Join(", ", Enum.GetValues<ShardProgress>().Select(progress => Invariant($"{status.Count(progress)} {Word(progress)}")));
        Console.Out.WriteLine(Invariant($"summary: {counts} ({record.Shards.Count} shard(s))"));
        if (status.LeftoverTemporaries.Count > 0)
        {
            Console.Out.WriteLine(Invariant(
                $"temporaries: {status.LeftoverTemporaries.Count} file(s) of running or killed attempts (never read as outputs; the next attempt at their shard deletes them), e.g. {status.LeftoverTemporaries[0]}"));
        }
        if (!status.AllComplete)
        {
            Console.Out.WriteLine("work left: rerun the same `riverbed score` command (complete shards are skipped), or `riverbed emit slurm|k8s` for a job covering only the incomplete shards");
        }
    }

    private static string ToJson(JobStatus status)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("output", status.OutputFolder);
            if (status.Record.WorldSize is { } world)
            {
                writer.WriteNumber("world_size", world);
            }
            else
            {
                writer.WriteNull("world_size");
            }
            writer.WriteString("config_hash", status.Record.ConfigHash);
            writer.WriteString("layout", status.Record.IsPreviousLayout ? JobRecord.PreviousFormatName : JobRecord.FormatName);
            if (status.Record.UnitSize is { } unitSize)
            {
                writer.WriteNumber("unit_size", unitSize);
            }
            else
            {
                writer.WriteNull("unit_size");
            }
            writer.WriteBoolean("all_complete", status.AllComplete);
            writer.WriteStartObject("counts");
            foreach (var progress in Enum.GetValues<ShardProgress>())
            {
                writer.WriteNumber(Word(progress), status.Count(progress));
            }
            writer.WriteEndObject();
            writer.WriteStartArray("shards");
            foreach (var report in status.Shards)
            {
                writer.WriteStartObject();
                writer.WriteString("name", report.Shard.Name);
                writer.WriteString("input", report.Shard.Path);
                writer.WriteString("file", report.Shard.SourceName);
                writer.WriteNumber("bytes", report.Shard.Bytes);
                if (report.Shard.Unit is { } unit)
                {
                    writer.WriteStartObject("unit");
                    writer.WriteNumber("index", unit.Index);
                    writer.WriteNumber("count", unit.Count);
                    writer.WriteNumber("start", unit.Start);
                    writer.WriteNumber("end", unit.End);
                    writer.WriteNumber("first_row", unit.FirstRow);
                    writer.WriteNumber("first_line", unit.FirstLine);
                    writer.WriteEndObject();
                }
                writer.WriteString("state", Word(report.Progress));
                writer.WriteString("cause", Cause(report.Cause));
                writer.WriteString("reason", report.Reason);
                if (report.Rank is { } rank)
                {
                    writer.WriteNumber("rank", rank);
                }
                else
                {
                    writer.WriteNull("rank");
                }
                if (report.Manifest is { } manifest && report.Progress == ShardProgress.Complete)
                {
                    writer.WriteNumber("rows_in", manifest.RowsIn);
                    writer.WriteNumber("rows_out", manifest.RowsOut);
                    writer.WriteNumber("rows_rejected", manifest.RowsRejected);
                    writer.WriteNumber("rows_failed", manifest.RowsFailed);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("temporaries");
            foreach (var temporary in status.LeftoverTemporaries)
            {
                writer.WriteStringValue(temporary);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal static string Word(ShardProgress progress) => progress switch
    {
        ShardProgress.Complete => "complete",
        ShardProgress.Pending => "pending",
        ShardProgress.Failed => "failed",
        _ => "stale",
    };

    private static string Cause(ShardCause cause) => cause switch
    {
        ShardCause.Verified => "verified",
        ShardCause.MissingManifest => "missing_manifest",
        ShardCause.UnreadableManifest => "unreadable_manifest",
        ShardCause.HashMismatch => "hash_mismatch",
        ShardCause.InputChanged => "input_changed",
        ShardCause.InputMissing => "input_missing",
        ShardCause.ConfigDrift => "config_drift",
        _ => "last_attempt_failed",
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
