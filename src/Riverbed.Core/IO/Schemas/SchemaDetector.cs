using System.Text.Json;

namespace Riverbed.IO.Schemas;

/// <summary>
/// Chooses the schema for a shard: the forced one, or one detected from the shard's first valid record. Rules, in
/// order (the first that matches wins):
/// <list type="number">
/// <item><c>chosen</c> and <c>rejected</c>: preference (before the chat lists, since UltraFeedback-binarized rows also
///   hold a <c>messages</c> list, a copy of the chosen conversation);</item>
/// <item>a <c>conversations</c>/<c>messages</c>/<c>conversation</c> array: its first object element decides between
///   {from, value} (sharegpt) and {role, content} (messages);</item>
/// <item><c>message_tree_id</c> with a <c>prompt</c> object, or <c>message_id</c> + <c>role</c> + <c>replies</c>: oasst;</item>
/// <item>a <c>text</c> string containing <c>&lt;human&gt;:</c>: oig;</item>
/// <item><c>instruction</c> + <c>output</c>: alpaca; <c>instruction</c> + <c>response</c>: dolly;</item>
/// <item>a known prompt/response field pair (<see cref="KnownPairs"/>, e.g. HaluEval's user_query/chatgpt_response):
///   generic with those fields.</item>
/// </list>
/// </summary>
internal static class SchemaDetector
{
    /// <summary>Prompt/response field pairs seen in public datasets, tried in order.</summary>
    public static readonly IReadOnlyList<(string Prompt, string Response)> KnownPairs =
    [
        ("user_query", "chatgpt_response"),
        ("instruct", "answer"),
        ("prompt", "response"),
        ("prompt", "completion"),
        ("question", "answer"),
        ("question", "response"),
        ("query", "response"),
        ("input", "output"),
    ];

    private static readonly string[] ChatListFields = ["conversations", "messages", "conversation"];

    /// <summary>The forced schema, or null when the options ask for detection.</summary>
    public static (RecordSchema Schema, SchemaDetection Detection)? Forced(SchemaOptions options)
    {
        RecordSchema? schema = options.Schema switch
        {
            "oig" => new OigSchema(options.BotLabels),
            "alpaca" => Alpaca(),
            "dolly" => Dolly(),
            "sharegpt" => new ChatListSchema("sharegpt", "conversations", "from", "value"),
            "messages" => new ChatListSchema("messages", "messages", "role", "content"),
            "oasst" => new OasstSchema(options.OasstBranches == SchemaOptions.OasstAll),
            "preference" => new PreferenceSchema(),
            "generic" => new FieldPairSchema("generic", options.PromptField!, null, options.ResponseField!, options.SystemField),
            _ => null,
        };
        if (schema is null && options.PromptField is not null)
        {
            schema = new FieldPairSchema("generic", options.PromptField, null, options.ResponseField!, options.SystemField);
        }
        return schema is null ? null : (schema, new SchemaDetection(schema.Name, $"forced with {SettingNames.Of(Setting.Schema)}", Forced: true));
    }

    /// <summary>Detects from one record; null when no rule matches.</summary>
    public static (RecordSchema Schema, SchemaDetection Detection)? Detect(JsonElement record, SchemaOptions options)
    {
        if (Has(record, PreferenceSchema.Chosen) && Has(record, PreferenceSchema.Rejected))
        {
            return Found(new PreferenceSchema(), "fields 'chosen' and 'rejected'" + (Has(record, "prompt") ? " (+ 'prompt')" : string.Empty) + " (a preference pair)");
        }
        foreach (var field in ChatListFields)
        {
            if (record.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                var sample = list.EnumerateArray().FirstOrDefault(item => item.ValueKind == JsonValueKind.Object);
                var fromValue = sample.ValueKind == JsonValueKind.Object && sample.TryGetProperty("from", out _) && sample.TryGetProperty("value", out _);
                var roleContent = sample.ValueKind == JsonValueKind.Object && sample.TryGetProperty("role", out _) && sample.TryGetProperty("content", out _);
                if (!fromValue && !roleContent)
                {
                    // An empty or unusual list: fall back on the field's conventional layout.
                    fromValue = field != "messages";
                    roleContent = !fromValue;
                }
                var schema = fromValue
                    ? new ChatListSchema("sharegpt", field, "from", "value")
                    : new ChatListSchema("messages", field, "role", "content");
                return Found(schema, $"field '{field}' is a list of {{{schema.RoleField}, {schema.TextField}}} turns");
            }
        }
        if (record.TryGetProperty("message_tree_id", out _) && record.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.Object)
        {
            return Found(new OasstSchema(options.OasstBranches == SchemaOptions.OasstAll), "fields 'message_tree_id' and 'prompt' (an Open Assistant message tree)");
        }
        if (record.TryGetProperty("message_id", out _) && record.TryGetProperty("role", out _) && record.TryGetProperty("replies", out _))
        {
            return Found(new OasstSchema(options.OasstBranches == SchemaOptions.OasstAll), "fields 'message_id', 'role' and 'replies' (an Open Assistant message node)");
        }
        if (record.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String
            && text.GetString()!.Contains("<human>:", StringComparison.Ordinal))
        {
            return Found(new OigSchema(options.BotLabels), "field 'text' holds '<human>:' turns");
        }
        if (Has(record, "instruction") && Has(record, "output"))
        {
            return Found(Alpaca(), "fields 'instruction' and 'output'" + (Has(record, "input") ? " (+ 'input')" : string.Empty));
        }
        if (Has(record, "instruction") && Has(record, "response"))
        {
            return Found(Dolly(), "fields 'instruction' and 'response'" + (Has(record, "context") ? " (+ 'context')" : string.Empty));
        }
        foreach (var (promptField, responseField) in KnownPairs)
        {
            if (Has(record, promptField) && Has(record, responseField))
            {
                var schema = new FieldPairSchema("generic", promptField, null, responseField);
                return Found(schema, $"known prompt/response fields '{promptField}' and '{responseField}'");
            }
        }
        return null;
    }

    private static FieldPairSchema Alpaca() => new("alpaca", "instruction", "input", "output");

    private static FieldPairSchema Dolly() => new("dolly", "instruction", "context", "response");

    private static bool Has(JsonElement record, string field) => record.TryGetProperty(field, out _);

    private static (RecordSchema, SchemaDetection) Found(RecordSchema schema, string reason) =>
        (schema, new SchemaDetection(schema.Name, reason, Forced: false));
}
