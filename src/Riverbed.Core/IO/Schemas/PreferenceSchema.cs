using System.Text.Json;
using Riverbed.IO.Reading;

namespace Riverbed.IO.Schemas;

/// <summary>
/// Preference pairs: <c>chosen</c> and <c>rejected</c> answers to one prompt, kept together as one example (one output
/// row, so <c>riverbed filter</c> keeps or removes the pair as a whole). Shapes read:
/// <list type="bullet">
/// <item><c>{prompt, chosen, rejected}</c> as strings (DPO-style datasets);</item>
/// <item><c>chosen</c>/<c>rejected</c> as Anthropic HH transcripts ("\n\nHuman: …\n\nAssistant: …"), with or without
/// a prompt;</item>
/// <item><c>chosen</c>/<c>rejected</c> as message lists (<c>[{role, content}]</c>), each the whole conversation
/// (UltraFeedback-binarized, TRL's hh-rlhf) or only the answer after a <c>prompt</c> given as a string or a message
/// list.</item>
/// </list>
/// The turns are the shared beginning (the prompt: what the two conversations have in common), then the chosen
/// conversation's remaining turns (branch "chosen"), then the rejected one's (branch "rejected", whose first turn
/// follows the shared beginning, not the chosen answer). Each branch needs an assistant turn.
/// </summary>
internal sealed class PreferenceSchema : RecordSchema
{
    public const string Chosen = "chosen";
    public const string Rejected = "rejected";
    private const string HumanLabel = "Human:";
    private const string AssistantLabel = "Assistant:";

    public override string Name => "preference";

    public override IReadOnlyList<string> IdFields { get; } = ["id", "ID", "Id", "_id", "uuid", "prompt_id"];

    public override RecordProblem? Map(JsonElement record, List<Turn> turns)
    {
        var prompt = new List<Turn>();
        if (record.TryGetProperty("prompt", out var promptValue) && promptValue.ValueKind != JsonValueKind.Null)
        {
            if (promptValue.ValueKind == JsonValueKind.String)
            {
                // A prompt may itself be an HH transcript ending in an empty "Assistant:" for the answer to follow.
                var text = promptValue.GetString()!;
                if (Transcript(text, prompt) is null)
                {
                    while (prompt.Count > 0 && prompt[^1] is { Role: TurnRole.Assistant, Text.Length: 0 })
                    {
                        prompt.RemoveAt(prompt.Count - 1);
                    }
                }
                else
                {
                    prompt.Clear();
                    prompt.Add(new Turn(TurnRole.User, text));
                }
            }
            else if (ChatListSchema.ReadTurns(promptValue, "prompt", "role", "content", prompt) is { } badPrompt)
            {
                return badPrompt;
            }
        }
        var chosen = new List<Turn>();
        var rejected = new List<Turn>();
        var bad = Side(record, Chosen, prompt, chosen) ?? Side(record, Rejected, prompt, rejected);
        if (bad is not null)
        {
            return bad;
        }
        // The shared beginning: what both conversations start with, leaving each at least one turn of its own.
        var shared = 0;
        while (shared < chosen.Count - 1 && shared < rejected.Count - 1 && chosen[shared] == rejected[shared])
        {
            shared++;
        }
        turns.AddRange(chosen.Take(shared));
        foreach (var (side, name) in new[] { (chosen, Chosen), (rejected, Rejected) })
        {
            if (!side.Skip(shared).Any(turn => turn.Role == TurnRole.Assistant))
            {
                return new RecordProblem(RejectKind.NoBotTurn, $"the {name} conversation has no assistant turn of its own after the shared prompt; there is nothing to score");
            }
            var first = true;
            foreach (var turn in side.Skip(shared))
            {
                turns.Add(turn with { Parent = first ? shared - 1 : null, Branch = name });
                first = false;
            }
        }
        return null;
    }

    /// <summary>One side's whole conversation: the prompt's turns, then the side's own (unless it repeats the prompt).</summary>
    private static RecordProblem? Side(JsonElement record, string field, List<Turn> prompt, List<Turn> turns)
    {
        if (!record.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return new RecordProblem(RejectKind.MissingField, $"field '{field}' is {(value.ValueKind == JsonValueKind.Null ? "null" : "missing")}");
        }
        var own = new List<Turn>();
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (Transcript(text, own) is { } problem)
            {
                if (prompt.Count == 0)
                {
                    return new RecordProblem(RejectKind.MalformedConversation, $"field '{field}': {problem}, and there is no 'prompt' field");
                }
                own.Clear();
                own.Add(new Turn(TurnRole.Assistant, text));
            }
        }
        else if (ChatListSchema.ReadTurns(value, field, "role", "content", own) is { } badList)
        {
            return badList;
        }
        var repeatsPrompt = prompt.Count > 0 && own.Count >= prompt.Count && own.Take(prompt.Count).SequenceEqual(prompt);
        if (!repeatsPrompt)
        {
            turns.AddRange(prompt);
        }
        turns.AddRange(own);
        return null;
    }

    /// <summary>
    /// An Anthropic HH transcript: turns start at "Human:" or "Assistant:" at the start of the text or after a blank
    /// line; turn text is trimmed. Null when read, else why the text is not one (then it is a plain answer).
    /// </summary>
    private static string? Transcript(string text, List<Turn> turns)
    {
        var markers = new List<(int Start, int Length, TurnRole Role)>();
        foreach (var (label, role) in new[] { (HumanLabel, TurnRole.User), (AssistantLabel, TurnRole.Assistant) })
        {
            for (var at = text.IndexOf(label, StringComparison.Ordinal); at >= 0; at = text.IndexOf(label, at + label.Length, StringComparison.Ordinal))
            {
                if (text.AsSpan(0, at).TrimEnd(' ').IsEmpty || text.AsSpan(0, at).TrimEnd(' ').EndsWith("\n\n", StringComparison.Ordinal))
                {
                    markers.Add((at, label.Length, role));
                }
            }
        }
        if (!markers.Exists(m => m.Role == TurnRole.User))
        {
            return "it is not a 'Human:'/'Assistant:' transcript";
        }
        markers.Sort((a, b) => a.Start.CompareTo(b.Start));
        if (!text.AsSpan(0, markers[0].Start).IsWhiteSpace())
        {
            return "it has text before its first 'Human:' label";
        }
        for (var i = 0; i < markers.Count; i++)
        {
            var start = markers[i].Start + markers[i].Length;
            var end = i + 1 < markers.Count ? markers[i + 1].Start : text.Length;
            turns.Add(new Turn(markers[i].Role, text[start..end].Trim()));
        }
        return null;
    }
}
