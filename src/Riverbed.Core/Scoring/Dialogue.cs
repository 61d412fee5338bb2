namespace Riverbed.Scoring;

/// <summary>Who speaks a turn. Scoring targets assistant turns; the others are context.</summary>
public enum Speaker
{
    System,
    User,
    Assistant,

    /// <summary>A tool's output (OpenAI role "tool" or "function"): context, scored only with <see cref="ScoringOptions.ScoreToolTurns"/>.</summary>
    Tool,

    /// <summary>Tool calls the assistant made (OpenAI "tool_calls"), one per line: context, scored only with <see cref="ScoringOptions.ScoreToolTurns"/>.</summary>
    ToolCall,
}

/// <summary>
/// One turn of a dialogue. <see cref="Parent"/> is the turn this one follows (null: the one before it in the list;
/// −1: none, it starts a conversation), which lets one dialogue hold branches that share a beginning: the chosen and
/// rejected answers of a preference pair, or every branch of an Open Assistant tree. <see cref="Branch"/> names
/// the branch a turn belongs to ("chosen", "rejected", an oasst reply path such as "0.2"); null for shared turns.
/// </summary>
public sealed record DialogueTurn(Speaker Speaker, string Text)
{
    public int? Parent { get; init; }

    public string? Branch { get; init; }
}

/// <summary>
/// What the scorers see of an example: its stable id (which seeds every random choice) and its turns in order.
/// Scoring knows nothing of files or schemas; the pipeline maps dataset examples onto this.
/// </summary>
public sealed record Dialogue(string Id, IReadOnlyList<DialogueTurn> Turns)
{
    /// <summary>Indexes (into <see cref="Turns"/>) of the assistant turns, the ones that get scored by default.</summary>
    public IEnumerable<int> AssistantTurnIndexes()
    {
        for (var i = 0; i < Turns.Count; i++)
        {
            if (Turns[i].Speaker == Speaker.Assistant)
            {
                yield return i;
            }
        }
    }

    /// <summary>The turn <paramref name="turn"/> follows (−1: none). A parent at or after the turn is treated as none.</summary>
    public int Previous(int turn)
    {
        var parent = Turns[turn].Parent ?? turn - 1;
        return parent < turn ? Math.Max(parent, -1) : -1;
    }

    /// <summary>True when one of the two turns precedes the other on its conversation (or they are the same turn).</summary>
    public bool OnOnePath(int first, int second)
    {
        var (early, late) = first <= second ? (first, second) : (second, first);
        var at = late;
        while (at > early)
        {
            at = Previous(at);
        }
        return at == early;
    }

    /// <summary>True when some turn names a parent of its own (the dialogue has branches).</summary>
    public bool Branches => Turns.Any(turn => turn.Parent is not null || turn.Branch is not null);
}
