using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.Inference.ModelFolders;
using Riverbed.IO;
using Riverbed.Pipeline.Models;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>How a run executes: recorded in run.json, but not part of the config hash, because outputs do not depend on it.</summary>
/// <param name="Device">cpu, cuda or cuda:N.</param>
/// <param name="Sessions">Sessions per model role.</param>
/// <param name="Threads">Intra-op threads per session (0: ONNX Runtime's default).</param>
/// <param name="BatchTokens">Padded tokens per batch.</param>
/// <param name="MaxExamplesInFlight">Examples being scored at once.</param>
public sealed record ExecutionSettings(string Device, int Sessions, int Threads, int BatchTokens, int MaxExamplesInFlight)
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
/// JSON form is run.json's "config"; its hash (SHA-256 of the canonical JSON without "execution", without the models'
/// folder paths, which do not change outputs, and without the decision policy, which each manifest records on its own
/// so that a rerun with other thresholds re-decides) is what every manifest records, so a rerun with a different configuration
/// is refused instead of mixing shards. The models enter the hash through the SHA-256 of every file they read.
/// </summary>
public sealed class RunConfiguration
{
    /// <summary>
    /// The version of the scored columns' layout; part of the hash (2: spans carry code-point offsets too; 3: turns carry
    /// parent and branch, for preference pairs and oasst trees, and speakers tool and tool_call).
    /// </summary>
    public const string ColumnsVersion = "riverbed-scored/3";

    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

    /// <summary>The "config" object of run.json.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Write(writer, forHash: false);
    }

    /// <summary>The configuration as compact JSON; <paramref name="forHash"/> leaves out what does not change outputs.</summary>
    public byte[] ToJson(bool forHash)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Compact))
        {
            Write(writer, forHash);
        }
        return buffer.ToArray();
    }

    private void Write(Utf8JsonWriter writer, bool forHash)
    {
        writer.WriteStartObject();
        writer.WriteString("columns", ColumnsVersion);
        writer.WriteString("format", Format == OutputFormat.Parquet ? "parquet" : "jsonl");
        writer.WriteBoolean("split", Split);
        if (Limit is { } limit)
        {
            writer.WriteNumber("limit", limit);
        }
        else
        {
            writer.WriteNull("limit");
        }

        var schema = Reader.Schema;
        writer.WriteStartObject("schema");
        writer.WriteString("schema", schema.Schema);
        writer.WriteString("prompt_field", schema.PromptField);
        writer.WriteString("response_field", schema.ResponseField);
        writer.WriteString("system_field", schema.SystemField);
        writer.WriteString("id_field", schema.IdField);
        writer.WriteStartArray("bot_labels");
        foreach (var label in schema.BotLabels)
        {
            writer.WriteStringValue(label);
        }
        writer.WriteEndArray();
        writer.WriteString("oasst_branches", schema.OasstBranches);
        writer.WriteEndObject();

        var limits = Reader.Limits;
        writer.WriteStartObject("limits");
        writer.WriteNumber("max_line_bytes", limits.MaxLineBytes);
        writer.WriteNumber("max_depth", limits.MaxDepth);
        writer.WriteNumber("max_decompressed_bytes", limits.MaxDecompressedBytes);
        writer.WriteNumber("max_raw_bytes_in_reject", limits.MaxRawBytesInReject);
        writer.WriteEndObject();

        var scoring = Scoring;
        writer.WriteStartObject("scoring");
        writer.WriteNumber("seed", scoring.Seed);
        writer.WriteNumber("mask_rate", scoring.MaskRate);
        writer.WriteNumber("window_words", scoring.WindowWords);
        writer.WriteNumber("top_k", scoring.TopK);
        writer.WriteNumber("context_tokens", scoring.ContextTokenBudget);
        writer.WriteNumber("fill_flag_below", scoring.FillFlagBelow);
        writer.WriteNumber("entity_flag_above", scoring.EntityFlagAbove);
        writer.WriteNumber("contradiction_flag_above", scoring.ContradictionFlagAbove);
        writer.WriteNumber("max_contradiction_pairs", scoring.MaxContradictionPairs);
        writer.WriteBoolean("score_tool_turns", scoring.ScoreToolTurns);
        writer.WriteString("other_language", OtherLanguageNames.Name(scoring.OtherLanguage));
        writer.WriteStartArray("stopwords");
        foreach (var word in scoring.Stopwords.Select(w => w.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            writer.WriteStringValue(word);
        }
        writer.WriteEndArray();
        writer.WriteString("hash", scoring.Hash);
        writer.WriteEndObject();

        // Decisions are not configuration: thresholds change which rows are kept, never the scores, so a rerun with
        // other thresholds re-decides (each manifest records the decisions it holds) instead of being refused.
        if (!forHash)
        {
            WritePolicy(writer);
        }

        writer.WriteStartObject("models");
        if (!forHash)
        {
            writer.WriteString("folder", ModelsFolder);
        }
        writer.WriteStartObject("roles");
        foreach (var role in Models)
        {
            writer.WriteStartObject(role.Role);
            foreach (var file in role.Files)
            {
                writer.WriteString(file.Name, file.Sha256);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();

        if (!forHash)
        {
            writer.WriteStartObject("execution");
            writer.WriteString("device", Execution.Device);
            writer.WriteNumber("sessions", Execution.Sessions);
            writer.WriteNumber("threads", Execution.Threads);
            writer.WriteNumber("batch_tokens", Execution.BatchTokens);
            writer.WriteNumber("max_examples_in_flight", Execution.MaxExamplesInFlight);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private void WritePolicy(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("policy");
        writer.WriteString("combine", Policy.Combination == ThresholdCombination.Any ? "any" : "all");
        writer.WriteStartArray("thresholds");
        foreach (var threshold in Policy.Thresholds)
        {
            writer.WriteStringValue(threshold.Reason);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// The settings that differ between a recorded configuration and this one, as "name: before → after" (e.g.
    /// "limit: 120 → none"), over what the hash covers; empty when the hashes agree.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(RunConfiguration recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var before = Flatten(recorded.ToJson(forHash: true));
        var after = Flatten(ToJson(forHash: true));
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

    private static SortedDictionary<string, string> Flatten(byte[] json)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        Visit(document.RootElement, string.Empty);
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
            throw new RiverbedException($"--config {path}: cannot read it ({error.Message})", error);
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            var config = root.TryGetProperty("config", out var nested) ? nested : root;
            var schema = config.GetProperty("schema");
            var limits = config.GetProperty("limits");
            var scoring = config.GetProperty("scoring");
            var policy = config.GetProperty("policy");
            var execution = config.GetProperty("execution");
            var models = config.GetProperty("models");
            var combine = policy.GetProperty("combine").GetString();
            return new RunConfiguration
            {
                Format = config.GetProperty("format").GetString() switch
                {
                    "parquet" => OutputFormat.Parquet,
                    "jsonl" => OutputFormat.JsonLines,
                    var other => throw new RiverbedException($"--config {path}: unknown format '{other}'"),
                },
                Split = config.GetProperty("split").GetBoolean(),
                Limit = config.GetProperty("limit").ValueKind == JsonValueKind.Null ? null : config.GetProperty("limit").GetInt64(),
                Reader = new ReaderOptions
                {
                    Schema = new SchemaOptions
                    {
                        Schema = schema.GetProperty("schema").GetString()!,
                        PromptField = schema.GetProperty("prompt_field").GetString(),
                        ResponseField = schema.GetProperty("response_field").GetString(),
                        SystemField = schema.GetProperty("system_field").GetString(),
                        IdField = schema.GetProperty("id_field").GetString(),
                        BotLabels = [.. schema.GetProperty("bot_labels").EnumerateArray().Select(e => e.GetString()!)],
                        // Absent from run.json files written before oasst branches could be chosen: those followed the best.
                        OasstBranches = schema.TryGetProperty("oasst_branches", out var branches) ? branches.GetString()! : SchemaOptions.OasstBest,
                    },
                    Limits = new ReaderLimits
                    {
                        MaxLineBytes = limits.GetProperty("max_line_bytes").GetInt32(),
                        MaxDepth = limits.GetProperty("max_depth").GetInt32(),
                        MaxDecompressedBytes = limits.GetProperty("max_decompressed_bytes").GetInt64(),
                        MaxRawBytesInReject = limits.GetProperty("max_raw_bytes_in_reject").GetInt32(),
                    },
                },
                Scoring = new ScoringOptions
                {
                    Seed = scoring.GetProperty("seed").GetInt64(),
                    MaskRate = scoring.GetProperty("mask_rate").GetDouble(),
                    WindowWords = scoring.GetProperty("window_words").GetInt32(),
                    TopK = scoring.GetProperty("top_k").GetInt32(),
                    ContextTokenBudget = scoring.GetProperty("context_tokens").GetInt32(),
                    FillFlagBelow = scoring.GetProperty("fill_flag_below").GetDouble(),
                    EntityFlagAbove = scoring.GetProperty("entity_flag_above").GetDouble(),
                    ContradictionFlagAbove = scoring.GetProperty("contradiction_flag_above").GetDouble(),
                    MaxContradictionPairs = scoring.GetProperty("max_contradiction_pairs").GetInt32(),
                    ScoreToolTurns = scoring.TryGetProperty("score_tool_turns", out var tools) && tools.GetBoolean(),
                    OtherLanguage = scoring.TryGetProperty("other_language", out var language)
                        ? OtherLanguageNames.Parse(language.GetString()!) : OtherLanguageAction.Skip,
                    Stopwords = [.. scoring.GetProperty("stopwords").EnumerateArray().Select(e => e.GetString()!)],
                },
                Policy = DecisionPolicy.Create(policy.GetProperty("thresholds").EnumerateArray().Select(t => ScoreThreshold.Parse(t.GetString()!)),
                    combine == "all" ? ThresholdCombination.All : ThresholdCombination.Any),
                ModelsFolder = models.GetProperty("folder").GetString()!,
                Models = ReadModels(models.GetProperty("roles"), root.TryGetProperty("models", out var files) ? files : default),
                Execution = new ExecutionSettings(
                    execution.GetProperty("device").GetString()!,
                    execution.GetProperty("sessions").GetInt32(),
                    execution.GetProperty("threads").GetInt32(),
                    execution.GetProperty("batch_tokens").GetInt32(),
                    execution.GetProperty("max_examples_in_flight").GetInt32()),
            };
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            var what = error is JsonException json ? JsonErrors.NotValidJson(json) : $"lacks a setting Riverbed needs ({error.Message})";
            throw new RiverbedException($"--config {path}: {what}; pass a run.json written by riverbed score", error);
        }
    }

    private static List<ModelRoleDigests> ReadModels(JsonElement roles, JsonElement files)
    {
        var result = new List<ModelRoleDigests>();
        foreach (var role in roles.EnumerateObject())
        {
            var recorded = files.ValueKind == JsonValueKind.Object && files.TryGetProperty(role.Name, out var entry) ? entry : default;
            var folder = recorded.ValueKind == JsonValueKind.Object ? recorded.GetProperty("folder").GetString()! : string.Empty;
            var digests = role.Value.EnumerateObject().Select(file =>
            {
                long bytes = 0;
                if (recorded.ValueKind == JsonValueKind.Object && recorded.GetProperty("files").TryGetProperty(file.Name, out var sized))
                {
                    bytes = sized.GetProperty("bytes").GetInt64();
                }
                return new ModelFileDigest(file.Name, Path.Combine(folder, file.Name), bytes, file.Value.GetString()!);
            }).ToList();
            result.Add(new ModelRoleDigests(role.Name, folder, digests));
        }
        return result;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"config {Hash[..12]}");
}
