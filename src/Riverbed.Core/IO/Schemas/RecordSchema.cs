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
/// (<c>messages: [{role, content}]</c>, content as a string or a list of text parts). Tool turns are read as context:
/// a message with role <c>tool</c>/<c>function</c> (or ShareGPT's <c>observation</c>) is a tool output, and an
/// assistant message's <c>tool_calls</c> (or legacy <c>function_call</c>, or ShareGPT's <c>function_call</c> turn) is a
/// tool-call turn, one <c>name(arguments)</c> per line, after the message's prose when it has any; such a message's
/// content may be null.
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
        ["tool"] = TurnRole.Tool,
        ["function"] = TurnRole.Tool,
        ["ipython"] = TurnRole.Tool,
        ["observation"] = TurnRole.Tool,
        ["function_call"] = TurnRole.ToolCall,
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
        return ReadTurns(list, ListField, RoleField, TextField, turns) ?? RequireAssistant(turns, $"'{ListField}'");
    }

    /// <summary>Reads a list of turn objects at <paramref name="path"/> into <paramref name="turns"/>.</summary>
    public static RecordProblem? ReadTurns(JsonElement list, string path, string roleField, string textField, List<Turn> turns)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            return WrongType(path, list, "an array of turns");
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var itemPath = $"{path}[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return WrongType(itemPath, item, "an object");
            }
            if (RequireString(item, roleField, $"{itemPath}.{roleField}", out var roleName) is { } badRole)
            {
                return badRole;
            }
            if (!Roles.TryGetValue(roleName, out var role))
            {
                return new RecordProblem(RejectKind.UnknownRole, $"field '{itemPath}.{roleField}' is '{roleName}'; known roles: {KnownRoles}");
            }
            var calls = string.Empty;
            if (role == TurnRole.Assistant && ToolCalls(item, itemPath, out calls) is { } badCalls)
            {
                return badCalls;
            }
            // A tool call message, a tool output, or a ShareGPT tool turn may carry no text (OpenAI sends content: null
            // beside tool_calls); anything else needs its text.
            var mayBeEmpty = calls.Length > 0 || role is TurnRole.Tool or TurnRole.ToolCall;
            var text = string.Empty;
            if (!(mayBeEmpty && IsNullOrAbsent(item, textField)) && ReadText(item, textField, $"{itemPath}.{textField}", out text) is { } badText)
            {
                return badText;
            }
            if (calls.Length == 0 || text.Length > 0)
            {
                turns.Add(new Turn(role, text));
            }
            if (calls.Length > 0)
            {
                turns.Add(new Turn(TurnRole.ToolCall, calls));
            }
            index++;
        }
        return null;
    }

    private static bool IsNullOrAbsent(JsonElement item, string field) =>
        !item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null;

    /// <summary>The message's tool calls as text, one <c>name(arguments)</c> per line; empty when it has none.</summary>
    private static RecordProblem? ToolCalls(JsonElement item, string path, out string text)
    {
        text = string.Empty;
        var lines = new List<string>();
        if (item.TryGetProperty("tool_calls", out var calls) && calls.ValueKind != JsonValueKind.Null)
        {
            if (calls.ValueKind != JsonValueKind.Array)
            {
                return WrongType($"{path}.tool_calls", calls, "an array of tool calls");
            }
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind != JsonValueKind.Object)
                {
                    return WrongType($"{path}.tool_calls[{index}]", call, "a tool call object");
                }
                // {"type": "function", "function": {"name", "arguments"}}; other tool types are shown as they are.
                lines.Add(call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                    ? Call(function)
                    : call.GetRawText());
                index++;
            }
        }
        if (item.TryGetProperty("function_call", out var legacy) && legacy.ValueKind != JsonValueKind.Null)
        {
            if (legacy.ValueKind != JsonValueKind.Object)
            {
                return WrongType($"{path}.function_call", legacy, "a function call object");
            }
            lines.Add(Call(legacy));
        }
        text = string.Join('\n', lines);
        return null;
    }

    private static string Call(JsonElement function)
    {
        var name = function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "?";
        var arguments = !function.TryGetProperty("arguments", out var a) || a.ValueKind == JsonValueKind.Null
            ? string.Empty
            : a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText();
        return $"{name}({arguments})";
    }

    private static RecordProblem? ReadText(JsonElement item, string textField, string path, out string text)
    {
        text = string.Empty;
        if (!item.TryGetProperty(textField, out var content) || content.ValueKind != JsonValueKind.Array)
        {
            return RequireString(item, textField, path, out text);
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
