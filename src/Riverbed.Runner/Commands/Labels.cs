using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Riverbed.Runner.Commands;

/// <summary>
/// Where <c>riverbed evaluate</c> finds a label per example: a column of the dataset (kept in the scored rows), or a
/// file of id → label (JSON Lines with "id" and "label", or CSV with an "id" and a "label" column). A label is
/// positive (the example is bad and should be removed) or negative; what is not readable as one is never guessed.
/// </summary>
internal sealed class Labels
{
    private Labels(string? column, string? file, Dictionary<string, string?> byId)
    {
        Column = column;
        File = file;
        ById = byId;
    }

    /// <summary>The dataset column holding the label, when labels come from the rows.</summary>
    public string? Column { get; }

    /// <summary>The labels file, when labels come from one.</summary>
    public string? File { get; }

    /// <summary>The file's labels by id (raw text; null for a JSON null).</summary>
    public IReadOnlyDictionary<string, string?> ById { get; }

    public string Description => File is { } file ? $"file {file}" : $"column {Column}";

    /// <summary>An existing file is read as a labels file; anything else names a column.</summary>
    public static Labels Open(string fileOrColumn)
    {
        ArgumentNullException.ThrowIfNull(fileOrColumn);
        if (!System.IO.File.Exists(fileOrColumn))
        {
            if (fileOrColumn.Contains('/', StringComparison.Ordinal) || fileOrColumn.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                || fileOrColumn.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                throw new RiverbedException($"--labels {fileOrColumn}: no such file (a column name has no '/' or file extension)");
            }
            return new Labels(fileOrColumn, null, []);
        }
        var path = Path.GetFullPath(fileOrColumn);
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"--labels {path}: cannot read it ({error.Message})", error);
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException error)
        {
            throw new RiverbedException($"--labels {path}: not valid UTF-8 (byte {error.Index})", error);
        }
        var byId = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ReadCsv(path, text) : ReadJsonLines(path, text);
        return new Labels(null, path, byId);
    }

    /// <summary>Reads a label value: yes/no, true/false, 1/0, positive/negative (any case); null when unreadable.</summary>
    public static bool? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "yes" or "true" or "1" or "positive" => true,
        "no" or "false" or "0" or "negative" => false,
        _ => null,
    };

    /// <summary>A JSON value as label text: strings as they are, numbers and booleans as written, null as null.</summary>
    public static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    private static Dictionary<string, string?> ReadJsonLines(string path, string text)
    {
        var byId = new Dictionary<string, string?>(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }
            JsonElement root;
            try
            {
                using var document = JsonDocument.Parse(line);
                root = document.RootElement.Clone();
            }
            catch (JsonException error)
            {
                throw new RiverbedException($"--labels {path} line {i + 1}: not valid JSON ({error.Message})", error);
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || !root.TryGetProperty("label", out var label))
            {
                throw new RiverbedException($"--labels {path} line {i + 1}: expected an object with \"id\" and \"label\"");
            }
            var key = id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();
            Add(path, byId, firstLine, key, Text(label), i + 1);
        }
        return byId;
    }

    private static Dictionary<string, string?> ReadCsv(string path, string text)
    {
        var byId = new Dictionary<string, string?>(StringComparer.Ordinal);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        int idColumn = -1, labelColumn = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            var fields = SplitCsv(line, path, i + 1);
            if (idColumn < 0)
            {
                idColumn = fields.FindIndex(f => string.Equals(f.Trim(), "id", StringComparison.OrdinalIgnoreCase));
                labelColumn = fields.FindIndex(f => string.Equals(f.Trim(), "label", StringComparison.OrdinalIgnoreCase));
                if (idColumn < 0 || labelColumn < 0)
                {
                    throw new RiverbedException($"--labels {path} line {i + 1}: the header must name an \"id\" and a \"label\" column");
                }
                continue;
            }
            if (fields.Count <= Math.Max(idColumn, labelColumn))
            {
                throw new RiverbedException(string.Create(CultureInfo.InvariantCulture,
                    $"--labels {path} line {i + 1}: {fields.Count} field(s), the header has an id in column {idColumn + 1} and a label in column {labelColumn + 1}"));
            }
            Add(path, byId, firstLine, fields[idColumn], fields[labelColumn].Length == 0 ? null : fields[labelColumn], i + 1);
        }
        return byId;
    }

    private static void Add(string path, Dictionary<string, string?> byId, Dictionary<string, int> firstLine, string id, string? label, int line)
    {
        if (firstLine.TryGetValue(id, out var earlier))
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture,
                $"--labels {path} line {line}: id '{id}' is labelled twice (also line {earlier}); which label is meant cannot be guessed"));
        }
        firstLine[id] = line;
        byId[id] = label;
    }

    /// <summary>One CSV record on one line: fields separated by commas, optionally quoted with "" for a quote.</summary>
    private static List<string> SplitCsv(string line, string path, int number)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        if (quoted)
        {
            throw new RiverbedException($"--labels {path} line {number}: a quoted field is not closed (fields may not span lines)");
        }
        fields.Add(field.ToString());
        return fields;
    }
}
