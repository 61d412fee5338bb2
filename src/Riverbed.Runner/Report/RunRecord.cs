using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>A file of a model folder as run.json records it.</summary>
internal sealed record ModelFile(string Name, long? Bytes, string? Sha256);

/// <summary>A model (by role: mlm, nli, rtd, ner) with its folder and file hashes.</summary>
internal sealed record ModelRecord(string Role, string? Folder, IReadOnlyList<ModelFile> Files);

/// <summary>run.json's throughput block.</summary>
internal sealed record Throughput(double? WallSeconds, long? Examples, double? ExamplesPerSecond, double? RealTokensPerSecond);

/// <summary>How one model role's work was batched (run.json's batching block).</summary>
internal sealed record BatchingRecord(string Role, long? Batches, long? Requests, long? RealTokens, long? PaddedTokens, double? PaddingFraction, double? RunSeconds);

/// <summary>
/// A run's provenance (<c>run.json</c>, format riverbed-run/1, read through its one type <see cref="RunRecordDocument"/>):
/// versions, command line, inputs, configuration, models, throughput, for display. The report shows what is there and
/// says what is missing; only JSON that is malformed or not of the record's shape is an error. The configuration is
/// shown as recorded, and its policy looked for in the forms other tools write.
/// </summary>
internal sealed class RunRecord
{
    public string? Path { get; init; }

    public string? RiverbedVersion { get; init; }

    public string? OnnxRuntimeVersion { get; init; }

    public string? DotnetVersion { get; init; }

    public string? StartedUtc { get; init; }

    public string? FinishedUtc { get; init; }

    public IReadOnlyList<string> CommandLine { get; init; } = [];

    public IReadOnlyList<string> Inputs { get; init; } = [];

    public string? Output { get; init; }

    public string? ConfigHash { get; init; }

    /// <summary>The configuration, indented, for display.</summary>
    public string? ConfigJson { get; init; }

    /// <summary>The policy's thresholds when run.json records them in a form the report understands.</summary>
    public IReadOnlyList<ScoreThreshold>? Thresholds { get; init; }

    /// <summary>"any" (a row is removed when any threshold triggers) or "all", when recorded.</summary>
    public string? Combination { get; init; }

    public IReadOnlyList<BatchingRecord> Batching { get; init; } = [];

    public IReadOnlyList<ModelRecord> Models { get; init; } = [];

    public int? Rank { get; init; }

    public int? WorldSize { get; init; }

    public Throughput? Throughput { get; init; }

    public static RunRecord Load(string path)
    {
        RunRecordDocument run;
        try
        {
            run = RunRecordDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{path} {(error.LineNumber is null ? $"is not a {RunRecordDocument.FormatName} record: {JsonErrors.Reason(error)}" : JsonErrors.NotValidJson(error))}");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{path}: cannot be read: {error.Message}");
        }
        var config = run.Config is { ValueKind: JsonValueKind.Object } element ? element : (JsonElement?)null;
        return new RunRecord
        {
            Path = path,
            RiverbedVersion = run.RiverbedVersion,
            OnnxRuntimeVersion = run.OnnxRuntimeVersion,
            DotnetVersion = run.DotnetVersion,
            StartedUtc = run.StartedUtc?.ToString("O", CultureInfo.InvariantCulture),
            FinishedUtc = run.FinishedUtc?.ToString("O", CultureInfo.InvariantCulture),
            CommandLine = run.CommandLine,
            Inputs = run.Inputs,
            Output = run.Output,
            ConfigHash = run.ConfigHash,
            ConfigJson = config is { } c ? JsonSerializer.Serialize(c, IndentedOptions) : null,
            Thresholds = config is { } policyParent ? FindThresholds(policyParent) : null,
            Combination = config is { } withPolicy && withPolicy.TryGetProperty("policy", out var policy) && policy.ValueKind == JsonValueKind.Object
                ? String(policy, "combine")
                : null,
            Batching = [.. (run.Batching ?? new Dictionary<string, RunBatching>()).Select(role => new BatchingRecord(role.Key, role.Value.Batches, role.Value.Requests,
                role.Value.RealTokens, role.Value.PaddedTokens, role.Value.PaddingFraction, role.Value.RunSeconds))],
            Models = [.. (run.Models ?? new Dictionary<string, RunModel>()).Select(model => new ModelRecord(model.Key, model.Value.Folder,
                [.. model.Value.Files.Select(file => new ModelFile(file.Key, file.Value.Bytes, file.Value.Sha256))]))],
            Rank = run.Rank,
            WorldSize = run.WorldSize,
            Throughput = run.Throughput is { } throughput
                ? new Throughput(throughput.WallSeconds, throughput.Examples, throughput.ExamplesPerSecond, throughput.RealTokensPerSecond)
                : null,
        };
    }

    /// <summary>
    /// Finds the decision policy in the configuration: a <c>policy</c> (or <c>thresholds</c>) value that is a policy
    /// string such as <c>any(fill_compare_min&lt;0, contradiction_max&gt;0.5)</c>, a list of <c>name&lt;value</c> strings,
    /// a list of objects with score/direction/value, or an object holding one of these.
    /// </summary>
    internal static IReadOnlyList<ScoreThreshold>? FindThresholds(JsonElement config)
    {
        foreach (var name in (string[])["policy", "thresholds", "decision"])
        {
            if (config.TryGetProperty(name, out var value) && ParseThresholds(value) is { } found)
            {
                return found;
            }
        }
        foreach (var property in config.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object && FindThresholds(property.Value) is { } nested)
            {
                return nested;
            }
        }
        return null;
    }

    private static readonly JsonSerializerOptions IndentedOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static List<ScoreThreshold>? ParseThresholds(JsonElement value)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    var text = value.GetString()!;
                    var open = text.IndexOf('(', StringComparison.Ordinal);
                    var inner = open >= 0 && text.EndsWith(')') ? text[(open + 1)..^1] : text;
                    return inner.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ScoreThreshold.Parse).ToList();
                case JsonValueKind.Array:
                    var thresholds = new List<ScoreThreshold>();
                    foreach (var item in value.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.String)
                        {
                            thresholds.Add(ScoreThreshold.Parse(item.GetString()!));
                        }
                        else if (item.ValueKind == JsonValueKind.Object && String(item, "score") is { } score && Double(item, "value") is { } threshold)
                        {
                            var direction = String(item, "direction") is { } d
                                ? (d.StartsWith("b", StringComparison.OrdinalIgnoreCase) || d == "<" ? ThresholdDirection.Below : ThresholdDirection.Above)
                                : (ScoreNames.LowerIsWorse(score) ? ThresholdDirection.Below : ThresholdDirection.Above);
                            thresholds.Add(new ScoreThreshold(score, direction, threshold));
                        }
                        else
                        {
                            return null;
                        }
                    }
                    return thresholds;
                case JsonValueKind.Object:
                    foreach (var name in (string[])["thresholds", "policy", "text"])
                    {
                        if (value.TryGetProperty(name, out var inside) && ParseThresholds(inside) is { } found)
                        {
                            return found;
                        }
                    }
                    return null;
                default:
                    return null;
            }
        }
        catch (RiverbedException)
        {
            return null;
        }
    }

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Double(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
