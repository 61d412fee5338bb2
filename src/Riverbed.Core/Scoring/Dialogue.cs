namespace Riverbed.Scoring;

/// <summary>Who speaks a turn. Scoring targets assistant turns; the others are context.</summary>
public enum Speaker
{
    System,
    User,
    Assistant,
}

/// <summary>One turn of a dialogue.</summary>
public sealed record DialogueTurn(Speaker Speaker, string Text);

/// <summary>
/// What the scorers see of an example: its stable id (which seeds every random choice) and its turns in order.
/// Scoring knows nothing of files or schemas; the pipeline maps dataset examples onto this.
/// </summary>
public sealed record Dialogue(string Id, IReadOnlyList<DialogueTurn> Turns)
{
    /// <summary>Indexes (into <see cref="Turns"/>) of the assistant turns, the ones that get scored.</summary>
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
}
