using System.Text;
using System.Text.Json;
using Riverbed.IO.Reading;

namespace Riverbed.IO.Schemas;

/// <summary>Maps one parsed record to turns. Implementations never throw on bad data; they return a problem.</summary>
internal abstract class RecordSchema
{
    public abstract string Name { get; }

    /// <summary>Fields tried, in order, for the record id when no --id-field is given.</summary>
    public virtual IReadOnlyList<string> IdFields { get; } = ["id", "ID", "Id", "_id", "uuid"];

    public abstract RecordProblem? Map(JsonElement record, List<Turn> turns);

    /// <summary>The id from the record's own id field, or null when it has none (then the caller derives one).</summary>
    public virtual string? DefaultId(JsonElement record) => DefaultId(record, out _);

    /// <summary>
    /// The id from the first of <see cref="IdFields"/> the record has (not null); null when it has none. When that field
    /// holds something that is not an id (an object, a fraction, a boolean), <paramref name="wrongType"/> names it and its
    /// JSON kind: the record has an id, just not a usable one, and the caller must not quietly make one up.
    /// </summary>
    public string? DefaultId(JsonElement record, out string? wrongType)
    {
        wrongType = null;
        foreach (var field in IdFields)
        {
            if (record.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                if (IdText(value) is { } id)
                {
                    return id;
                }
                wrongType ??= $"id field '{field}' holds {KindName(value)}";
            }
        }
        return null;
    }

    private static string KindName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => $"the number {value.GetRawText()}, which is not an integer that fits 64 bits",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => value.ValueKind.ToString(),
    };

    /// <summary>Ids are strings or integers; anything else is not an id.</summary>
    public static string? IdText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number when value.TryGetInt64(out _) => value.GetRawText(),
        _ => null,
    };

    protected static RecordProblem? RequireString(JsonElement parent, string field, string path, out string value)
    {
        value = string.Empty;
        if (!parent.TryGetProperty(field, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return new RecordProblem(RejectKind.MissingField, $"field '{path}' is {(element.ValueKind == JsonValueKind.Null ? "null" : "missing")}");
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            return WrongType(path, element, "a string");
        }
        value = element.GetString()!;
        return null;
    }

    /// <summary>An optional text field: absent or null reads as empty.</summary>
    protected static RecordProblem? OptionalString(JsonElement parent, string field, string path, out string value)
    {
        value = string.Empty;
        if (!parent.TryGetProperty(field, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (element.ValueKind != JsonValueKind.String)
        {
            return WrongType(path, element, "a string");
        }
        value = element.GetString()!;
        return null;
    }

    protected static RecordProblem WrongType(string path, JsonElement element, string expected) =>
        new(RejectKind.WrongType, $"field '{path}' is {Describe(element.ValueKind)}, expected {expected}");

    protected static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    protected static RecordProblem? RequireAssistant(List<Turn> turns, string where) =>
        turns.Exists(turn => turn.Role == TurnRole.Assistant)
            ? null
            : new RecordProblem(RejectKind.NoBotTurn, $"no assistant turn in {where}; there is nothing to score");

    protected static string Join(string first, string second) =>
        second.Length == 0 ? first : new StringBuilder(first.Length + second.Length + 2).Append(first).Append("\n\n").Append(second).ToString();
}

/// <summary>
/// Records whose user turn is one field (plus optional fields appended after a blank line) and whose assistant turn
/// is another: Alpaca (instruction + input → output), Dolly (instruction + context → response) and generic.
/// </summary>
internal sealed class FieldPairSchema : RecordSchema
{
    private readonly string _prompt;
    private readonly string? _promptExtra;
    private readonly string _response;
    private readonly string? _system;

    public FieldPairSchema(string name, string prompt, string? promptExtra, string response, string? system = null)
    {
        Name = name;
        _prompt = prompt;
        _promptExtra = promptExtra;
        _response = response;
        _system = system;
    }

    public override string Name { get; }

    public string Describe() =>
        $"'{_prompt}'{(_promptExtra is null ? "" : $" (+ '{_promptExtra}')")} → user, '{_response}' → assistant{(_system is null ? "" : $", '{_system}' → system")}";

    public override RecordProblem? Map(JsonElement record, List<Turn> turns)
    {
        if (_system is not null)
        {
            if (OptionalString(record, _system, _system, out var system) is { } badSystem)
            {
                return badSystem;
            }
            if (system.Length > 0)
            {
                turns.Add(new Turn(TurnRole.System, system));
            }
        }
        if (RequireString(record, _prompt, _prompt, out var prompt) is { } badPrompt)
        {
            return badPrompt;
        }
        var extra = string.Empty;
        if (_promptExtra is not null && OptionalString(record, _promptExtra, _promptExtra, out extra) is { } badExtra)
        {
            return badExtra;
        }
        if (RequireString(record, _response, _response, out var response) is { } badResponse)
        {
            return badResponse;
        }
        turns.Add(new Turn(TurnRole.User, Join(prompt, extra)));
        turns.Add(new Turn(TurnRole.Assistant, response));
        return null;
    }
}

/// <summary>
/// A list of turn objects: ShareGPT (<c>conversations: [{from, value}]</c>) and OpenAI messages
/// (<c>messages: [{role, content}]</c>, content as a string or a list of text parts).
/// </summary>
internal sealed class ChatListSchema : RecordSchema
{
    private static readonly Dictionary<string, TurnRole> Roles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["system"] = TurnRole.System,
        ["developer"] = TurnRole.System,
        ["human"] = TurnRole.User,
        ["user"] = TurnRole.User,
        ["prompter"] = TurnRole.User,
        ["gpt"] = TurnRole.Assistant,
        ["assistant"] = TurnRole.Assistant,
        ["bot"] = TurnRole.Assistant,
        ["chatgpt"] = TurnRole.Assistant,
        ["bard"] = TurnRole.Assistant,
        ["bing"] = TurnRole.Assistant,
        ["model"] = TurnRole.Assistant,
    };

    public ChatListSchema(string name, string listField, string roleField, string textField)
    {
        Name = name;
        ListField = listField;
        RoleField = roleField;
        TextField = textField;
    }

    public override string Name { get; }

    public string ListField { get; }

    public string RoleField { get; }

    public string TextField { get; }

    public static string KnownRoles => string.Join(", ", Roles.Keys);

    public override RecordProblem? Map(JsonElement record, List<Turn> turns)
    {
        if (!record.TryGetProperty(ListField, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return new RecordProblem(RejectKind.MissingField, $"field '{ListField}' is {(list.ValueKind == JsonValueKind.Null ? "null" : "missing")}");
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            return WrongType(ListField, list, "an array of turns");
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"{ListField}[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return WrongType(path, item, "an object");
            }
            if (RequireString(item, RoleField, $"{path}.{RoleField}", out var roleName) is { } badRole)
            {
                return badRole;
            }
            if (!Roles.TryGetValue(roleName, out var role))
            {
                return new RecordProblem(RejectKind.UnknownRole, $"field '{path}.{RoleField}' is '{roleName}'; known roles: {KnownRoles}");
            }
            if (ReadText(item, $"{path}.{TextField}", out var text) is { } badText)
            {
                return badText;
            }
            turns.Add(new Turn(role, text));
            index++;
        }
        return RequireAssistant(turns, $"'{ListField}'");
    }

    private RecordProblem? ReadText(JsonElement item, string path, out string text)
    {
        text = string.Empty;
        if (!item.TryGetProperty(TextField, out var content) || content.ValueKind != JsonValueKind.Array)
        {
            return RequireString(item, TextField, path, out text);
        }
        // OpenAI's content may be a list of parts; only text parts carry something Riverbed can score.
        var joined = new StringBuilder();
        var part = 0;
        foreach (var piece in content.EnumerateArray())
        {
            var piecePath = $"{path}[{part}]";
            if (piece.ValueKind != JsonValueKind.Object)
            {
                return WrongType(piecePath, piece, "a content part object");
            }
            if (RequireString(piece, "type", $"{piecePath}.type", out var type) is { } badType)
            {
                return badType;
            }
            if (type != "text")
            {
                return new RecordProblem(RejectKind.WrongType, $"field '{piecePath}' is a '{type}' part; only text parts can be read");
            }
            if (RequireString(piece, "text", $"{piecePath}.text", out var pieceText) is { } badPiece)
            {
                return badPiece;
            }
            joined.Append(pieceText);
            part++;
        }
        text = joined.ToString();
        return null;
    }
}
