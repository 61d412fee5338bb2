namespace Riverbed.IO;

/// <summary>Who speaks a turn. OIG calls them human and bot; ShareGPT human and gpt; OpenAI user and assistant.</summary>
public enum TurnRole
{
    System,
    User,
    Assistant,

    /// <summary>A tool's output (OpenAI role "tool", legacy "function"; "observation", "ipython").</summary>
    Tool,

    /// <summary>The tool calls of an assistant message (OpenAI "tool_calls", legacy "function_call"), one call per line.</summary>
    ToolCall,
}

/// <summary>
/// One turn of a conversation. <see cref="Parent"/> is the index of the turn it follows when that is not simply the
/// one before it (−1: it starts a conversation): a preference pair's rejected answer follows the prompt, not the chosen
/// answer, and an oasst tree's replies follow their parent message. <see cref="Branch"/> names the branch ("chosen",
/// "rejected", an oasst reply path such as "0.2"); null for turns every branch shares.
/// </summary>
public readonly record struct Turn(TurnRole Role, string Text)
{
    public int? Parent { get; init; }

    public string? Branch { get; init; }
}

/// <summary>
/// One record of a dataset in Riverbed's normalized form: an id, ordered turns, where it came from, and the original
/// record for pass-through to the output.
/// </summary>
public sealed class Example
{
    public Example(string id, IReadOnlyList<Turn> turns, string source, long row, long? line, long byteOffset, ReadOnlyMemory<byte> record)
    {
        Id = id;
        Turns = turns;
        Source = source;
        Row = row;
        Line = line;
        ByteOffset = byteOffset;
        Record = record;
    }

    /// <summary>
    /// The JSON shape of the record (its fields' types), observed by the reader while it had the record parsed, when the
    /// reader was asked for it (Parquet output of JSON input): the writer merges it instead of parsing the record again.
    /// Null for Parquet input and when not asked.
    /// </summary>
    internal Writing.JsonShape? Shape { get; init; }

    /// <summary>
    /// From the record's id field when it has one, else <c>{source}#{row}</c>: stable across runs as long as the shard
    /// keeps its name.
    /// </summary>
    public string Id { get; }

    public IReadOnlyList<Turn> Turns { get; }

    /// <summary>The shard's name relative to the input it was found under (what output names are derived from).</summary>
    public string Source { get; }

    /// <summary>0-based index of the record in its shard (blank lines do not count); rows are read in this order.</summary>
    public long Row { get; }

    /// <summary>1-based line where the record starts, for JSON and JSON Lines; null for Parquet.</summary>
    public long? Line { get; }

    /// <summary>Byte offset of the record in the (decompressed) file; 0 for Parquet.</summary>
    public long ByteOffset { get; }

    /// <summary>
    /// The original record as one compact UTF-8 JSON object. JSON Lines records are kept byte for byte; JSON array
    /// elements are re-serialized on one line; Parquet rows are rendered from their typed columns.
    /// </summary>
    public ReadOnlyMemory<byte> Record { get; }

    /// <summary>The number of assistant turns, the ones Riverbed scores.</summary>
    public int AssistantTurnCount => Turns.Count(turn => turn.Role == TurnRole.Assistant);

    public override string ToString() => $"{Id} ({Turns.Count} turns, {Source} row {Row})";
}
