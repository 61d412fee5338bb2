using System.Globalization;
using System.Text.Json;

namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that Riverbed uses. Reading collects a problem per bad field rather
/// than stopping at the first, so <c>riverbed models check</c> can list them all.
/// </summary>
public sealed class ModelConfig
{
    private ModelConfig()
    {
    }

    public string? ModelType { get; private init; }

    public IReadOnlyList<string> Architectures { get; private init; } = [];

    /// <summary>Labels in id order (id2label "0", "1", …), or null when the config has no id2label.</summary>
    public IReadOnlyList<string>? Labels { get; private init; }

    public long? MaxPositionEmbeddings { get; private init; }

    public long? TypeVocabSize { get; private init; }

    public long? VocabSize { get; private init; }

    public long? PadTokenId { get; private init; }

    /// <summary>Reads <paramref name="path"/>; returns null (with a problem added) when it is not usable JSON.</summary>
    public static ModelConfig? Load(string path, ICollection<string> problems)
    {
        var name = Path.GetFileName(path);
        JsonDocument document;
        try
        {
            var bytes = File.ReadAllBytes(path);
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
        }
        catch (JsonException error)
        {
            problems.Add($"{name} {JsonErrors.NotValidJson(error)}");
            return null;
        }
        catch (IOException error)
        {
            problems.Add($"{name} could not be read: {error.Message}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{name} must hold a JSON object; it holds {Describe(root)}");
                return null;
            }
            return new ModelConfig
            {
                ModelType = ReadString(root, "model_type", name, problems, required: true),
                Architectures = ReadArchitectures(root, name, problems),
                Labels = ReadLabels(root, name, problems),
                MaxPositionEmbeddings = ReadInteger(root, "max_position_embeddings", name, problems),
                TypeVocabSize = ReadInteger(root, "type_vocab_size", name, problems),
                VocabSize = ReadInteger(root, "vocab_size", name, problems),
                PadTokenId = ReadInteger(root, "pad_token_id", name, problems),
            };
        }
    }

    private static string? ReadString(JsonElement root, string field, string name, ICollection<string> problems, bool required)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                problems.Add($"{name} has no {field}");
            }
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{name}: {field} must be a string; it is {Describe(value)}");
            return null;
        }
        return value.GetString();
    }

    private static long? ReadInteger(JsonElement root, string field, string name, ICollection<string> problems)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0)
        {
            return number;
        }
        problems.Add($"{name}: {field} must be a non-negative integer; it is {Describe(value)}");
        return null;
    }

    private static string[] ReadArchitectures(JsonElement root, string name, ICollection<string> problems)
    {
        if (!root.TryGetProperty("architectures", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String))
        {
            problems.Add($"{name}: architectures must be a list of names; it is {Describe(value)}");
            return [];
        }
        return [.. value.EnumerateArray().Select(a => a.GetString()!)];
    }

    private static string[]? ReadLabels(JsonElement root, string name, ICollection<string> problems)
    {
        if (!root.TryGetProperty("id2label", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{name}: id2label must be an object mapping ids to labels; it is {Describe(value)}");
            return null;
        }
        var byId = new SortedDictionary<int, string>();
        var valid = true;
        foreach (var entry in value.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problems.Add($"{name}: id2label key \"{entry.Name}\" is not a label id (0, 1, 2, …)");
                valid = false;
            }
            else if (entry.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(entry.Value.GetString()))
            {
                problems.Add($"{name}: id2label \"{entry.Name}\" must be a label name; it is {Describe(entry.Value)}");
                valid = false;
            }
            else
            {
                byId[id] = entry.Value.GetString()!;
            }
        }
        if (!valid)
        {
            return null;
        }
        var missing = Enumerable.Range(0, byId.Count).Where(id => !byId.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"{name}: id2label ids must run 0 to {byId.Count - 1} without gaps; it has {string.Join(", ", byId.Keys)}");
            return null;
        }
        return [.. byId.Values];
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => "null",
    };

}
