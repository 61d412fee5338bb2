using System.Text.Json;
using Riverbed.IO.Reading;

namespace Riverbed.IO.Schemas;

/// <summary>
/// OIG: one <c>text</c> field holding the whole dialogue, any number of turns. A turn starts at <c>&lt;human&gt;:</c> or
/// <c>&lt;bot&gt;:</c> wherever they appear (those tags cannot be mistaken for prose), or at a configured bot label such
/// as <c>Rosey:</c> when it begins a line (the OIG joke set names the bot that way; "Q:" and "A:" inside a joke must
/// not start turns, so only named labels count). Turn text is trimmed. Text before the first label is refused rather
/// than guessed at.
/// </summary>
internal sealed class OigSchema : RecordSchema
{
    private const string TextField = "text";
    private const string HumanTag = "<human>:";
    private const string BotTag = "<bot>:";
    private readonly string[] _botLabels;

    public OigSchema(IReadOnlyList<string> botLabels) => _botLabels = botLabels.Select(label => label + ":").ToArray();

    public override string Name => "oig";

    public override RecordProblem? Map(JsonElement record, List<Turn> turns)
    {
        if (RequireString(record, TextField, TextField, out var text) is { } bad)
        {
            return bad;
        }
        var markers = new List<(int Start, int Length, TurnRole Role)>();
        FindAnywhere(text, HumanTag, TurnRole.User, markers);
        FindAnywhere(text, BotTag, TurnRole.Assistant, markers);
        foreach (var label in _botLabels)
        {
            FindAtLineStart(text, label, markers);
        }
        if (markers.Count == 0)
        {
            return new RecordProblem(RejectKind.MalformedConversation, $"field 'text' has no '{HumanTag}' or '{BotTag}' label");
        }
        markers.Sort((a, b) => a.Start.CompareTo(b.Start));
        if (!text.AsSpan(0, markers[0].Start).IsWhiteSpace())
        {
            return new RecordProblem(RejectKind.MalformedConversation,
                $"field 'text' has text before its first speaker label ('{text[..Math.Min(40, markers[0].Start)]}…')");
        }
        for (var i = 0; i < markers.Count; i++)
        {
            var start = markers[i].Start + markers[i].Length;
            var end = i + 1 < markers.Count ? markers[i + 1].Start : text.Length;
            turns.Add(new Turn(markers[i].Role, text[start..end].Trim()));
        }
        return RequireAssistant(turns, "field 'text' (expected '<bot>:' or one of the bot labels at the start of a line)");
    }

    private static void FindAnywhere(string text, string tag, TurnRole role, List<(int, int, TurnRole)> markers)
    {
        for (var at = text.IndexOf(tag, StringComparison.Ordinal); at >= 0; at = text.IndexOf(tag, at + tag.Length, StringComparison.Ordinal))
        {
            markers.Add((at, tag.Length, role));
        }
    }

    private static void FindAtLineStart(string text, string label, List<(int, int, TurnRole)> markers)
    {
        for (var at = text.IndexOf(label, StringComparison.Ordinal); at >= 0; at = text.IndexOf(label, at + label.Length, StringComparison.Ordinal))
        {
            if (at == 0 || text[at - 1] == '\n')
            {
                markers.Add((at, label.Length, TurnRole.Assistant));
            }
        }
    }
}

/// <summary>
/// Open Assistant (oasst) message trees, either as exported trees (<c>{message_tree_id, prompt: {…, replies}}</c>) or as
/// root message nodes (<c>{message_id, role, text, replies}</c>). One conversation per tree: from the root prompt, follow
/// at each level the best-ranked reply (lowest <c>rank</c>; unranked replies after ranked ones; ties in file order;
/// deleted replies skipped) until a message has no replies. Trailing prompter turns with no answer are dropped, as they
/// give the assistant nothing to be scored on. Roles: prompter → user, assistant → assistant.
/// With all branches (<c>--oasst-branches all</c>) every message of the tree that is not deleted is a turn, depth first
/// in file order: each names its parent message's turn (<see cref="Turn.Parent"/>) and its reply path from the root
/// as its branch ("0.2": the root's first reply's third reply), so each branch is scored with its own path as context
/// and sibling answers are never compared with each other. Prompter messages no assistant message answers are dropped.
/// </summary>
internal sealed class OasstSchema : RecordSchema
{
    private readonly bool _allBranches;

    public OasstSchema(bool allBranches = false) => _allBranches = allBranches;

    public override string Name => "oasst";

    public override IReadOnlyList<string> IdFields { get; } = ["message_tree_id", "message_id"];

    public override RecordProblem? Map(JsonElement record, List<Turn> turns)
    {
        var node = record;
        var path = string.Empty;
        if (record.TryGetProperty("prompt", out var prompt))
        {
            if (prompt.ValueKind != JsonValueKind.Object)
            {
                return WrongType("prompt", prompt, "a message object");
            }
            node = prompt;
            path = "prompt";
        }
        if (_allBranches)
        {
            return MapAll(node, path, turns);
        }
        while (true)
        {
            var prefix = path.Length == 0 ? string.Empty : path + ".";
            if (ReadMessage(node, prefix, isRoot: turns.Count == 0, out var message) is { } problem)
            {
                return problem;
            }
            turns.Add(message);
            if (!node.TryGetProperty("replies", out var replies) || replies.ValueKind == JsonValueKind.Null)
            {
                break;
            }
            if (replies.ValueKind != JsonValueKind.Array)
            {
                return WrongType(prefix + "replies", replies, "an array");
            }
            var best = -1;
            JsonElement chosen = default;
            (bool Unranked, double Rank) bestKey = (true, 0);
            var index = 0;
            foreach (var reply in replies.EnumerateArray())
            {
                if (reply.ValueKind != JsonValueKind.Object)
                {
                    return WrongType($"{prefix}replies[{index}]", reply, "a message object");
                }
                if (!(reply.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == JsonValueKind.True))
                {
                    var key = reply.TryGetProperty("rank", out var rank) && rank.ValueKind == JsonValueKind.Number
                        ? (false, rank.GetDouble())
                        : (true, 0d);
                    if (best < 0 || Better(key, bestKey))
                    {
                        best = index;
                        bestKey = key;
                        chosen = reply;
                    }
                }
                index++;
            }
            if (best < 0)
            {
                break;
            }
            node = chosen;
            path = $"{prefix}replies[{best}]";
        }
        while (turns.Count > 0 && turns[^1].Role == TurnRole.User)
        {
            turns.RemoveAt(turns.Count - 1);
        }
        return RequireAssistant(turns, "the tree's best-ranked path");
    }

    private static RecordProblem? MapAll(JsonElement root, string rootPath, List<Turn> turns)
    {
        var all = new List<Turn>();
        if (Visit(root, rootPath, -1, null, all) is { } problem)
        {
            return problem;
        }
        // Keep a message when it, or a message below it, is an assistant's (parents precede their replies).
        var answered = new bool[all.Count];
        for (var i = all.Count - 1; i >= 0; i--)
        {
            answered[i] |= all[i].Role == TurnRole.Assistant;
            if (answered[i] && all[i].Parent is >= 0 and var parent)
            {
                answered[parent] = true;
            }
        }
        var index = new int[all.Count];
        for (var i = 0; i < all.Count; i++)
        {
            if (answered[i])
            {
                index[i] = turns.Count;
                turns.Add(all[i] with { Parent = all[i].Parent is >= 0 and var parent ? index[parent] : -1 });
            }
        }
        return RequireAssistant(turns, "the tree");
    }

    private static RecordProblem? Visit(JsonElement node, string path, int parent, string? branch, List<Turn> turns)
    {
        var prefix = path.Length == 0 ? string.Empty : path + ".";
        if (ReadMessage(node, prefix, isRoot: parent < 0, out var message) is { } invalid)
        {
            return invalid;
        }
        var self = turns.Count;
        turns.Add(message with { Parent = parent, Branch = branch });
        if (!node.TryGetProperty("replies", out var replies) || replies.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (replies.ValueKind != JsonValueKind.Array)
        {
            return WrongType(prefix + "replies", replies, "an array");
        }
        var index = 0;
        foreach (var reply in replies.EnumerateArray())
        {
            if (reply.ValueKind != JsonValueKind.Object)
            {
                return WrongType($"{prefix}replies[{index}]", reply, "a message object");
            }
            if (!(reply.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == JsonValueKind.True))
            {
                var position = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (Visit(reply, $"{prefix}replies[{index}]", self, branch is null ? position : $"{branch}.{position}", turns) is { } problem)
                {
                    return problem;
                }
            }
            index++;
        }
        return null;
    }

    /// <summary>One message node's role and text, as both the best path and the whole tree read it.</summary>
    private static RecordProblem? ReadMessage(JsonElement node, string prefix, bool isRoot, out Turn message)
    {
        message = default;
        if (RequireString(node, "role", prefix + "role", out var roleName) is { } badRole)
        {
            return badRole;
        }
        TurnRole role;
        switch (roleName)
        {
            case "prompter":
                role = TurnRole.User;
                break;
            case "assistant":
                role = TurnRole.Assistant;
                break;
            default:
                return new RecordProblem(RejectKind.UnknownRole, $"field '{prefix}role' is '{roleName}'; oasst roles are prompter and assistant");
        }
        if (isRoot && role != TurnRole.User)
        {
            return new RecordProblem(RejectKind.MalformedConversation, $"the tree starts with an {roleName} message, not a prompter message");
        }
        if (RequireString(node, "text", prefix + "text", out var text) is { } badText)
        {
            return badText;
        }
        message = new Turn(role, text);
        return null;
    }

    private static bool Better((bool Unranked, double Rank) candidate, (bool Unranked, double Rank) best) =>
        candidate.Unranked != best.Unranked ? !candidate.Unranked : candidate.Rank < best.Rank;
}
