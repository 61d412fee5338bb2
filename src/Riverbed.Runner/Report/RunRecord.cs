using System.Text.Encodings.Web;
using System.Text.Json;
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
/// A run's provenance (<c>run.json</c>, format riverbed-run/1): versions, command line, inputs, configuration, models,
/// throughput. The report shows what is there and says what is missing; only malformed JSON is an error.
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
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RiverbedException($"{path}: expected a JSON object (riverbed-run/1)");
            }
            var config = root.TryGetProperty("config", out var configElement) && configElement.ValueKind == JsonValueKind.Object ? configElement : (JsonElement?)null;
            return new RunRecord
            {
                Path = path,
                RiverbedVersion = String(root, "riverbed_version"),
                OnnxRuntimeVersion = String(root, "onnxruntime_version"),
                DotnetVersion = String(root, "dotnet_version"),
                StartedUtc = String(root, "started_utc"),
                FinishedUtc = String(root, "finished_utc"),
                CommandLine = Strings(root, "command_line"),
                Inputs = Strings(root, "inputs"),
                Output = String(root, "output"),
                ConfigHash = String(root, "config_hash"),
                ConfigJson = config is { } c ? JsonSerializer.Serialize(c, IndentedOptions) : null,
                Thresholds = config is { } policyParent ? FindThresholds(policyParent) : null,
                Combination = config is { } withPolicy && withPolicy.TryGetProperty("policy", out var policy) && policy.ValueKind == JsonValueKind.Object
                    ? String(policy, "combine")
                    : null,
                Batching = ReadBatching(root),
                Models = ReadModels(root),
                Rank = Int(root, "rank"),
                WorldSize = Int(root, "world_size"),
                Throughput = root.TryGetProperty("throughput", out var throughput) && throughput.ValueKind == JsonValueKind.Object
                    ? new Throughput(Double(throughput, "wall_seconds"), Long(throughput, "examples"), Double(throughput, "examples_per_second"), Double(throughput, "real_tokens_per_second"))
                    : null,
            };
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{path} {JsonErrors.NotValidJson(error)}");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{path}: cannot be read: {error.Message}");
        }
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

    private static List<BatchingRecord> ReadBatching(JsonElement root)
    {
        var batching = new List<BatchingRecord>();
        if (root.TryGetProperty("batching", out var element) && element.ValueKind == JsonValueKind.Object)
        {
            foreach (var role in element.EnumerateObject().Where(role => role.Value.ValueKind == JsonValueKind.Object))
            {
                batching.Add(new BatchingRecord(role.Name, Long(role.Value, "batches"), Long(role.Value, "requests"), Long(role.Value, "real_tokens"),
                    Long(role.Value, "padded_tokens"), Double(role.Value, "padding_fraction"), Double(role.Value, "run_seconds")));
            }
        }
        return batching;
    }

    private static List<ModelRecord> ReadModels(JsonElement root)
    {
        var models = new List<ModelRecord>();
        if (!root.TryGetProperty("models", out var element) || element.ValueKind != JsonValueKind.Object)
        {
            return models;
        }
        foreach (var model in element.EnumerateObject())
        {
            if (model.Value.ValueKind != JsonValueKind.Object)
            {
                models.Add(new ModelRecord(model.Name, model.Value.ValueKind == JsonValueKind.String ? model.Value.GetString() : null, []));
                continue;
            }
            var files = new List<ModelFile>();
            if (model.Value.TryGetProperty("files", out var filesElement) && filesElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var file in filesElement.EnumerateObject())
                {
                    files.Add(file.Value.ValueKind == JsonValueKind.Object
                        ? new ModelFile(file.Name, Long(file.Value, "bytes"), String(file.Value, "sha256"))
                        : new ModelFile(file.Name, null, null));
                }
            }
            models.Add(new ModelRecord(model.Name, String(model.Value, "folder"), files));
        }
        return models;
    }

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Strings(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText()).ToArray()
            : [];

    private static double? Double(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static long? Long(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static int? Int(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
