using System.Reflection;
using System.Text.Json;
using Riverbed.Inference;
using Riverbed.IO;

namespace Riverbed.Pipeline;

/// <summary>
/// What goes into run.json (format <c>riverbed-run/1</c>, written through its one type <see cref="RunRecordDocument"/>): what a run was (configuration and its hash, every model file's size and
/// SHA-256, versions, command line, inputs) and how it went (times, throughput, batching). Written at the end of a run,
/// atomically (temporary name, then rename).
/// </summary>
public sealed class RunRecord
{
    public const string Format = "riverbed-run/1";

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

    /// <summary>run.json as its one type (<see cref="RunRecordDocument"/>), with this machine's versions.</summary>
    public RunRecordDocument ToDocument()
    {
        var realTokens = Batching.Sum(b => b.RealTokens);
        return new RunRecordDocument
        {
            RiverbedVersion = RiverbedVersion,
            OnnxRuntimeVersion = OrtVersion(),
            DotnetVersion = Environment.Version.ToString(),
            StartedUtc = StartedUtc,
            FinishedUtc = FinishedUtc,
            CommandLine = CommandLine,
            Inputs = Inputs,
            Output = Output,
            Config = JsonSerializer.SerializeToElement(Configuration.ToDocument(), RunRecordJson.Indented.ConfigDocument),
            ConfigHash = ConfigHash ?? Configuration.Hash,
            Source = Source,
            Models = RunConfiguration.Ordered(Configuration.Models, role => role.Role, role => new RunModel
            {
                Folder = role.Folder,
                Files = RunConfiguration.Ordered(role.Files, file => file.Name, file => new RunModelFile(file.Length, file.Sha256)),
                // The repository and exact commit a pulled folder came from (source.json, written by its own codec), so the run names them.
                Source = role.Source is { } source ? JsonSerializer.Deserialize(source.ToJson(), RunRecordJson.Indented.JsonElement) : null,
            }),
            Rank = Rank,
            WorldSize = WorldSize,
            Shards = new RunShardCounts { Committed = ShardsCommitted, Skipped = ShardsSkipped, Failed = ShardsFailed },
            Throughput = new RunThroughput
            {
                WallSeconds = Math.Round(WallSeconds, 3),
                Examples = Examples,
                ExamplesPerSecond = WallSeconds > 0 ? Math.Round(Examples / WallSeconds, 3) : 0,
                RealTokensPerSecond = WallSeconds > 0 ? Math.Round(realTokens / WallSeconds, 1) : 0,
            },
            Batching = RunConfiguration.Ordered(Batching, role => role.Role, role => new RunBatching
            {
                Sessions = role.Sessions,
                BudgetTokens = role.BudgetTokens,
                Batches = role.Batches,
                Requests = role.Requests,
                RealTokens = role.RealTokens,
                PaddedTokens = role.PaddedTokens,
                PaddingFraction = Math.Round(role.PaddingFraction, 6),
                BatchFill = Math.Round(role.Fill, 6),
                RunSeconds = Math.Round(role.RunSeconds, 3),
                FailedRuns = role.FailedRuns,
                AllocationFailures = role.AllocationFailures,
                Splits = role.Splits,
                Retries = role.Retries,
                Quarantined = role.Quarantined,
            }),
        };
    }

    public byte[] ToJson() => ToDocument().ToFile();

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
}
