using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Riverbed.Inference.ModelFolders;
using Riverbed.IO;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>How a run executes: recorded in run.json, but not part of the config hash, because outputs do not depend on it.</summary>
/// <param name="Device">cpu, cuda or cuda:N.</param>
/// <param name="Sessions">Sessions per model role.</param>
/// <param name="Threads">Intra-op threads per session (0: ONNX Runtime's default).</param>
/// <param name="BatchTokens">Padded tokens per batch.</param>
/// <param name="MaxExamplesInFlight">Examples being scored at once.</param>
public sealed record ExecutionSettings(
    [property: JsonRequired] string Device,
    [property: JsonRequired] int Sessions,
    [property: JsonRequired] int Threads,
    [property: JsonRequired] int BatchTokens,
    [property: JsonRequired] int MaxExamplesInFlight)
{
    /// <summary>
    /// <see cref="Threads"/> when no count was given: the cores are divided among the sessions by
    /// <c>ThreadBudget</c> (written as -1 in run.json).
    /// </summary>
    public const int BudgetThreads = -1;
}

/// <summary>One model role's folder and the digests of its files.</summary>
public sealed record ModelRoleDigests(string Role, string Folder, IReadOnlyList<ModelFileDigest> Files)
{
    /// <summary>Where a pulled folder came from (repository and exact commit, from its source.json); null otherwise.</summary>
    public ModelSource? Source { get; init; }

    public static IReadOnlyList<ModelRoleDigests> Of(ModelSet models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var roles = new List<ModelRoleDigests>();
        foreach (var role in Enum.GetValues<ModelRole>())
        {
            if (models[role] is { } entry)
            {
                roles.Add(new ModelRoleDigests(role.Name(), entry.Folder.Path, entry.Folder.ComputeFileDigests())
                {
                    Source = ModelSource.TryLoad(entry.Folder.Path),
                });
            }
        }
        return roles;
    }
}

/// <summary>
/// The full effective configuration of a scoring run: reading, scoring, decisions, output, models and execution. Its
/// JSON form (<see cref="ConfigDocument"/>: the options records serialized as they are) is run.json's "config"; its hash
/// (SHA-256 of the same form, compact, without "execution", without the models' folder paths, which do not change
/// outputs, and without the decision policy, which each manifest records on its own so that a rerun with other
/// thresholds re-decides) is what every manifest records, so a rerun with a different configuration is refused instead
/// of mixing shards. The models enter the hash through the SHA-256 of every file they read. Because the options are
/// serialized whole, an option added to them is hashed without more code; a test checks every one either changes the
/// hash or is listed, with its reason, as not part of the result.
/// </summary>
public sealed class RunConfiguration
{
    /// <summary>
    /// The version of the scored columns' layout; part of the hash (2: spans carry code-point offsets too; 3: turns carry
    /// parent and branch, for preference pairs and oasst trees, and speakers tool and tool_call).
    /// </summary>
    public const string ColumnsVersion = "riverbed-scored/3";

    public required ReaderOptions Reader { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    public bool Split { get; init; }

    public long? Limit { get; init; }

    public ScoringOptions Scoring { get; init; } = ScoringOptions.Default;

    public DecisionPolicy Policy { get; init; } = DecisionPolicy.Default;

    public required string ModelsFolder { get; init; }

    public IReadOnlyList<ModelRoleDigests> Models { get; init; } = [];

    public required ExecutionSettings Execution { get; init; }

    /// <summary>SHA-256 (hex) of the canonical configuration: what manifests record.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(ToJson(forHash: true)));

    /// <summary>The "config" object of run.json, as its one type.</summary>
    public ConfigDocument ToDocument(bool forHash = false) => new()
    {
        Format = Format == OutputFormat.Parquet ? "parquet" : "jsonl",
        Split = Split,
        Limit = Limit,
        Schema = Reader.Schema,
        Limits = Reader.Limits,
        Scoring = Scoring,
        // Decisions are not configuration: thresholds change which rows are kept, never the scores, so a rerun with
        // other thresholds re-decides (each manifest records the decisions it holds) instead of being refused.
        Policy = forHash ? null : new ConfigPolicy(Policy.Combination == ThresholdCombination.Any ? "any" : "all", [.. Policy.Thresholds.Select(t => t.Reason)]),
        Models = new ConfigModels
        {
            Folder = forHash ? null : ModelsFolder,
            Roles = Ordered(Models, role => role.Role, role => Ordered(role.Files, file => file.Name, file => file.Sha256)),
        },
        Execution = forHash ? null : Execution,
    };

    /// <summary>The configuration as compact JSON; <paramref name="forHash"/> leaves out what does not change outputs.</summary>
    public byte[] ToJson(bool forHash) => JsonSerializer.SerializeToUtf8Bytes(ToDocument(forHash), RunRecordJson.Compact.ConfigDocument);

    /// <summary>A dictionary that keeps <paramref name="items"/>' order, which is the order its file lists them in.</summary>
    internal static IReadOnlyDictionary<string, TValue> Ordered<TItem, TValue>(IEnumerable<TItem> items, Func<TItem, string> key, Func<TItem, TValue> value)
    {
        var ordered = new OrderedDictionary<string, TValue>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            ordered[key(item)] = value(item);
        }
        return ordered;
    }

    /// <summary>
    /// The settings that differ between a recorded configuration and this one, as "name: before → after" (e.g.
    /// "limit: 120 → none"), over what the hash covers; empty when the hashes agree.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(RunConfiguration recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var before = Flatten(recorded.ToDocument(forHash: true));
        var after = Flatten(ToDocument(forHash: true));
        var differences = new List<string>();
        // scoring.hash only restates the scoring settings; it is named only when nothing more telling differs.
        var names = before.Keys.Union(after.Keys).Order(StringComparer.Ordinal).ToList();
        names.Remove("scoring.hash");
        names.Add("scoring.hash");
        foreach (var name in names)
        {
            var was = before.GetValueOrDefault(name, "absent");
            var now = after.GetValueOrDefault(name, "absent");
            if (!string.Equals(was, now, StringComparison.Ordinal) && !(name == "scoring.hash" && differences.Count > 0))
            {
                differences.Add($"{name}: {was} → {now}");
            }
        }
        return differences;
    }

    /// <summary>
    /// The configuration recorded in an output folder (its run.json, or a rank's runs/*.json) whose hash is
    /// <paramref name="hash"/>; null when none is readable. Used to say what differs when a rerun is refused.
    /// </summary>
    public static RunConfiguration? FindRecorded(string outputFolder, string hash)
    {
        var candidates = new List<string> { Path.Combine(outputFolder, "run.json") };
        var ranks = Path.Combine(outputFolder, "runs");
        if (Directory.Exists(ranks))
        {
            candidates.AddRange(Directory.EnumerateFiles(ranks, "*.json").Order(StringComparer.Ordinal));
        }
        foreach (var candidate in candidates.Where(File.Exists))
        {
            try
            {
                var configuration = Load(candidate);
                if (string.Equals(configuration.Hash, hash, StringComparison.Ordinal))
                {
                    return configuration;
                }
            }
            catch (RiverbedException)
            {
                // An unreadable or older record cannot explain the difference; the caller says so instead.
            }
        }
        return null;
    }

    /// <summary>Differences from the configuration recorded under <paramref name="recordedHash"/> in the folder, for messages.</summary>
    public string DescribeDifferencesFrom(string outputFolder, string recordedHash)
    {
        var recorded = FindRecorded(outputFolder, recordedHash);
        if (recorded is null)
        {
            return $"the folder's run.json does not describe configuration {recordedHash[..Math.Min(12, recordedHash.Length)]}, so what differs cannot be listed";
        }
        var differences = DifferencesFrom(recorded);
        return differences.Count == 0 ? "no setting differs from the folder's run.json" : "settings that differ: " + string.Join("; ", differences);
    }

    private static SortedDictionary<string, string> Flatten(ConfigDocument document)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Visit(JsonSerializer.SerializeToElement(document, RunRecordJson.Compact.ConfigDocument), string.Empty);
        return values;

        void Visit(JsonElement element, string name)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        Visit(property.Value, name.Length == 0 ? property.Name : name + "." + property.Name);
                    }
                    break;
                case JsonValueKind.Array:
                    values[name] = "[" + string.Join(", ", element.EnumerateArray().Select(Text)) + "]";
                    break;
                default:
                    values[name] = Text(element);
                    break;
            }
        }

        static string Text(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Null => "none",
            JsonValueKind.String => element.GetString()!,
            _ => element.GetRawText(),
        };
    }

    /// <summary>
    /// Reads a "config" object (from run.json, or the file itself when it is just that object), for <c>--config</c> and
    /// for <c>filter</c>; <paramref name="path"/> names the file in errors. The model digests are read back too (so the
    /// hash is the recorded run's); a scoring run computes its own from the files it opens.
    /// </summary>
    public static RunConfiguration Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Config)} {path}: cannot read it ({error.Message})", error);
        }
        try
        {
            var root = JsonSerializer.Deserialize(bytes, RunRecordJson.Compact.JsonElement);
            var isRunRecord = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("config", out _);
            var run = isRunRecord ? root.Deserialize(RunRecordJson.Compact.RunRecordDocument) : null;
            var config = (isRunRecord ? run!.ReadConfiguration() : root.Deserialize(RunRecordJson.Compact.ConfigDocument))
                ?? throw new JsonException("the configuration is null");
            return From(config, run?.Models);
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Config)} {path}: {Unreadable(error)}; pass a run.json written by riverbed score", error);
        }
        catch (RiverbedException error)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Config)} {path}: {error.Message}; pass a run.json written by riverbed score", error);
        }
    }

    /// <summary>
    /// A configuration from its document and, when it came from a run record, that record's model files (their
    /// folders and sizes; the configuration itself holds only their SHA-256).
    /// </summary>
    public static RunConfiguration From(ConfigDocument config, IReadOnlyDictionary<string, RunModel>? recordedModels = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new RunConfiguration
        {
            Format = config.Format switch
            {
                "parquet" => OutputFormat.Parquet,
                "jsonl" => OutputFormat.JsonLines,
                var other => throw new RiverbedException($"unknown format '{other}'"),
            },
            Split = config.Split,
            Limit = config.Limit,
            Reader = new ReaderOptions { Schema = config.Schema, Limits = config.Limits },
            Scoring = config.Scoring,
            Policy = config.Policy is { } policy
                ? DecisionPolicy.Create(policy.Thresholds.Select(ScoreThreshold.Parse), policy.Combine == "all" ? ThresholdCombination.All : ThresholdCombination.Any)
                : throw new RiverbedException("lacks a setting Riverbed needs (policy)"),
            ModelsFolder = config.Models.Folder ?? throw new RiverbedException("lacks a setting Riverbed needs (models.folder)"),
            Models = [.. config.Models.Roles.Select(role => Digests(role.Key, role.Value, recordedModels?.GetValueOrDefault(role.Key)))],
            Execution = config.Execution ?? throw new RiverbedException("lacks a setting Riverbed needs (execution)"),
        };
    }

    private static ModelRoleDigests Digests(string role, IReadOnlyDictionary<string, string> files, RunModel? recorded)
    {
        var folder = recorded?.Folder ?? string.Empty;
        var digests = files.Select(file => new ModelFileDigest(file.Key, Path.Combine(folder, file.Key),
            recorded?.Files.GetValueOrDefault(file.Key)?.Bytes ?? 0, file.Value)).ToList();
        return new ModelRoleDigests(role, folder, digests);
    }

    /// <summary>Why a configuration cannot be read: its JSON is broken, or a setting is missing or of the wrong kind.</summary>
    private static string Unreadable(JsonException error) =>
        error.Message.Contains("missing required properties", StringComparison.Ordinal)
            ? $"lacks a setting Riverbed needs ({JsonErrors.Reason(error)})"
            : JsonErrors.NotValidJson(error);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"config {Hash[..12]}");
}
