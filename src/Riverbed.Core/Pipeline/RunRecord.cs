using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.Inference;
using Riverbed.IO;

namespace Riverbed.Pipeline;

/// <summary>
/// run.json (format <c>riverbed-run/1</c>): what a run was (configuration and its hash, every model file's size and
/// SHA-256, versions, command line, inputs) and how it went (times, throughput, batching). Written at the end of a run,
/// atomically (temporary name, then rename).
/// </summary>
public sealed class RunRecord
{
    public const string Format = "riverbed-run/1";

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public required DateTime StartedUtc { get; init; }

    public required DateTime FinishedUtc { get; init; }

    public required IReadOnlyList<string> CommandLine { get; init; }

    public required IReadOnlyList<string> Inputs { get; init; }

    public required string Output { get; init; }

    public required RunConfiguration Configuration { get; init; }

    /// <summary>The hash the run's manifests record: the configuration's own unless the run derives another (filter does).</summary>
    public string? ConfigHash { get; init; }

    /// <summary>For a filter run, the scored folder it read.</summary>
    public string? Source { get; init; }

    public int Rank { get; init; }

    public int WorldSize { get; init; } = 1;

    /// <summary>Examples finished by this run (rows and failures; skipped shards not counted).</summary>
    public long Examples { get; init; }

    public double WallSeconds { get; init; }

    public IReadOnlyList<RoleBatchStatistics> Batching { get; init; } = [];

    public int ShardsCommitted { get; init; }

    public int ShardsSkipped { get; init; }

    public int ShardsFailed { get; init; }

    /// <summary>The version of Riverbed that ran (the assembly's informational version).</summary>
    public static string RiverbedVersion =>
        typeof(RunRecord).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RunRecord).Assembly.GetName().Version?.ToString() ?? "unknown";

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteString("riverbed_version", RiverbedVersion);
            writer.WriteString("onnxruntime_version", OrtVersion());
            writer.WriteString("dotnet_version", Environment.Version.ToString());
            writer.WriteString("started_utc", StartedUtc.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteString("finished_utc", FinishedUtc.ToString("O", CultureInfo.InvariantCulture));
            WriteStrings(writer, "command_line", CommandLine);
            WriteStrings(writer, "inputs", Inputs);
            writer.WriteString("output", Output);
            writer.WritePropertyName("config");
            Configuration.WriteTo(writer);
            writer.WriteString("config_hash", ConfigHash ?? Configuration.Hash);
            if (Source is not null)
            {
                writer.WriteString("source", Source);
            }
            writer.WriteStartObject("models");
            foreach (var role in Configuration.Models)
            {
                writer.WriteStartObject(role.Role);
                writer.WriteString("folder", role.Folder);
                writer.WriteStartObject("files");
                foreach (var file in role.Files)
                {
                    writer.WriteStartObject(file.Name);
                    writer.WriteNumber("bytes", file.Length);
                    writer.WriteString("sha256", file.Sha256);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
                if (role.Source is { } source)
                {
                    // The repository and exact commit a pulled folder came from (source.json), so the run names them.
                    writer.WriteStartObject("source");
                    source.WriteTo(writer);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteNumber("rank", Rank);
            writer.WriteNumber("world_size", WorldSize);
            writer.WriteStartObject("shards");
            writer.WriteNumber("committed", ShardsCommitted);
            writer.WriteNumber("skipped", ShardsSkipped);
            writer.WriteNumber("failed", ShardsFailed);
            writer.WriteEndObject();
            var realTokens = Batching.Sum(b => b.RealTokens);
            writer.WriteStartObject("throughput");
            writer.WriteNumber("wall_seconds", Math.Round(WallSeconds, 3));
            writer.WriteNumber("examples", Examples);
            writer.WriteNumber("examples_per_second", WallSeconds > 0 ? Math.Round(Examples / WallSeconds, 3) : 0);
            writer.WriteNumber("real_tokens_per_second", WallSeconds > 0 ? Math.Round(realTokens / WallSeconds, 1) : 0);
            writer.WriteEndObject();
            writer.WriteStartObject("batching");
            foreach (var role in Batching)
            {
                writer.WriteStartObject(role.Role);
                writer.WriteNumber("sessions", role.Sessions);
                writer.WriteNumber("budget_tokens", role.BudgetTokens);
                writer.WriteNumber("batches", role.Batches);
                writer.WriteNumber("requests", role.Requests);
                writer.WriteNumber("real_tokens", role.RealTokens);
                writer.WriteNumber("padded_tokens", role.PaddedTokens);
                writer.WriteNumber("padding_fraction", Math.Round(role.PaddingFraction, 6));
                writer.WriteNumber("batch_fill", Math.Round(role.Fill, 6));
                writer.WriteNumber("run_seconds", Math.Round(role.RunSeconds, 3));
                writer.WriteNumber("failed_runs", role.FailedRuns);
                writer.WriteNumber("allocation_failures", role.AllocationFailures);
                writer.WriteNumber("splits", role.Splits);
                writer.WriteNumber("retries", role.Retries);
                writer.WriteNumber("quarantined", role.Quarantined);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> through a temporary name, so readers never see half a file.</summary>
    public static void WriteAtomically(string path, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            AtomicFile.Replace(path, content);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{path}: cannot write it ({error.Message})", error);
        }
    }

    private static string OrtVersion()
    {
        try
        {
            return OrtRuntime.Load().Version;
        }
        catch (RiverbedException)
        {
            return "unavailable";
        }
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }
        writer.WriteEndArray();
    }
}
