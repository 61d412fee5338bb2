using System.Collections.Concurrent;
using Riverbed.Tokenization;

namespace Riverbed.Scoring;

/// <summary>A turn's tokens under one tokenizer, without special tokens; offsets index the turn's text.</summary>
internal sealed class TurnTokens
{
    public TurnTokens(EncodedText encoding)
    {
        var n = encoding.Length;
        Ids = encoding.Ids.ToArray();
        Starts = new int[n];
        Ends = new int[n];
        Words = new int[n];
        for (var i = 0; i < n; i++)
        {
            var (start, length) = encoding.Offsets[i].GetOffsetAndLength(int.MaxValue);
            Starts[i] = start;
            Ends[i] = start + length;
            Words[i] = encoding.WordIds[i] ?? -1;
        }
    }

    public int[] Ids { get; }

    public int[] Starts { get; }

    public int[] Ends { get; }

    /// <summary>The pre-tokenized word of each token (−1: none).</summary>
    public int[] Words { get; }

    public int Count => Ids.Length;
}

/// <summary>A window over a turn's tokens, [Start, End).</summary>
internal readonly record struct TokenWindow(int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// How a turn is laid out in model inputs: the context tail that goes with it as segment A, and the windows of the
/// turn's tokens that go as segment B. A turn that fits is one window with as much context as fits (up to the
/// budget); a longer turn gets no context and windows of the model's room that overlap by half.
/// </summary>
internal sealed class InputLayout
{
    private InputLayout(int[] context, IReadOnlyList<TokenWindow> windows)
    {
        Context = context;
        Windows = windows;
    }

    public int[] Context { get; }

    public IReadOnlyList<TokenWindow> Windows { get; }

    /// <param name="pair">True: context as segment A and the turn as B; false: the turn alone (no context).</param>
    public static InputLayout Plan(ModelRoleInfo model, int[] context, int turnTokens, bool pair)
    {
        var specials = pair ? model.Tokenizer.Compose([], []).Ids.Length : model.Tokenizer.Compose([]).Ids.Length;
        var room = model.MaxSequenceLength - specials;
        if (room < 1)
        {
            throw new RiverbedException($"the model accepts {model.MaxSequenceLength} tokens, no more than its own {specials} special tokens; no text fits");
        }
        if (turnTokens <= room)
        {
            var take = pair ? Math.Min(context.Length, room - turnTokens) : 0;
            return new InputLayout(context[(context.Length - take)..], [new TokenWindow(0, turnTokens)]);
        }
        var stride = Math.Max(1, room / 2);
        var windows = new List<TokenWindow>();
        for (var start = 0; ; start += stride)
        {
            if (start + room >= turnTokens)
            {
                windows.Add(new TokenWindow(turnTokens - room, turnTokens));
                break;
            }
            windows.Add(new TokenWindow(start, start + room));
        }
        return new InputLayout([], windows);
    }

    /// <summary>
    /// The window in which <paramref name="position"/> is farthest from an edge (so it sees the most text on both
    /// sides); ties go to the earlier window. Every position has exactly one owner.
    /// </summary>
    public int Owner(int position)
    {
        var best = -1;
        var bestMargin = -1;
        for (var w = 0; w < Windows.Count; w++)
        {
            var window = Windows[w];
            if (position < window.Start || position >= window.End)
            {
                continue;
            }
            var margin = Math.Min(position - window.Start, window.End - 1 - position);
            if (margin > bestMargin)
            {
                best = w;
                bestMargin = margin;
            }
        }
        return best;
    }
}

/// <summary>Counts real tokens sent per model, for stats.</summary>
internal sealed class TokenCounter
{
    private long _mlm;
    private long _nli;
    private long _rtd;
    private long _ner;

    public void Mlm(int tokens) => Interlocked.Add(ref _mlm, tokens);

    public void Nli(int tokens) => Interlocked.Add(ref _nli, tokens);

    public void Rtd(int tokens) => Interlocked.Add(ref _rtd, tokens);

    public void Ner(int tokens) => Interlocked.Add(ref _ner, tokens);

    public ModelTokenCounts Snapshot() => new(Interlocked.Read(ref _mlm), Interlocked.Read(ref _nli), Interlocked.Read(ref _rtd),
        Interlocked.Read(ref _ner));
}

/// <summary>What the scorers of one dialogue share: the dialogue, options, backend, and tokenizations made once.</summary>
internal sealed class ScoringContext
{
    private readonly ConcurrentDictionary<(Tokenizer Tokenizer, int Turn), TurnTokens> _turns = new();

    public ScoringContext(Dialogue dialogue, ScoringOptions options, IModelBackend backend, CancellationToken cancellationToken)
    {
        Dialogue = dialogue;
        Options = options;
        Backend = backend;
        CancellationToken = cancellationToken;
        var scored = new List<int>();
        var notes = new List<string>();
        for (var i = 0; i < dialogue.Turns.Count; i++)
        {
            var speaker = dialogue.Turns[i].Speaker;
            if (!(speaker == Speaker.Assistant || (options.ScoreToolTurns && speaker is Speaker.Tool or Speaker.ToolCall)))
            {
                continue;
            }
            var verdict = LanguageCheck.Assess(dialogue.Turns[i].Text);
            if (!verdict.English)
            {
                if (options.OtherLanguage == OtherLanguageAction.Skip)
                {
                    notes.Add($"language: turn {i} not scored, not English ({verdict.Reason})");
                    continue;
                }
                notes.Add($"language: turn {i} may not be English ({verdict.Reason}), scored anyway");
            }
            scored.Add(i);
        }
        ScoredTurns = scored;
        Notes = notes;
    }

    /// <summary>The turns the scorers score, in order: assistant turns (and tool turns when asked) that pass the language check.</summary>
    public IReadOnlyList<int> ScoredTurns { get; }

    /// <summary>Notes about this dialogue's turns (those left out, or scored with a doubt), for the skip notes.</summary>
    public IReadOnlyList<string> Notes { get; }

    public Dialogue Dialogue { get; }

    public ScoringOptions Options { get; }

    public IModelBackend Backend { get; }

    public CancellationToken CancellationToken { get; }

    public TokenCounter Tokens { get; } = new();

    public string Text(int turn) => Dialogue.Turns[turn].Text;

    /// <summary>The turn's tokens under <paramref name="tokenizer"/>, encoded once per dialogue.</summary>
    public TurnTokens Turn(Tokenizer tokenizer, int turn) =>
        _turns.GetOrAdd((tokenizer, turn), key => new TurnTokens(key.Tokenizer.Encode(Text(key.Turn), WithoutSpecials)));

    /// <summary>
    /// The context of <paramref name="turn"/>: tokens of the turns before it on its conversation (its parent, the
    /// parent's parent, …; system turns left out), filled most recent first up to the budget (the oldest one kept
    /// loses its beginning), in dialogue order.
    /// </summary>
    public int[] Context(Tokenizer tokenizer, int turn)
    {
        var budget = Options.ContextTokenBudget;
        var pieces = new List<ArraySegment<int>>();
        for (var i = Dialogue.Previous(turn); i >= 0 && budget > 0; i = Dialogue.Previous(i))
        {
            if (Dialogue.Turns[i].Speaker == Speaker.System)
            {
                continue;
            }
            var ids = Turn(tokenizer, i).Ids;
            var take = Math.Min(ids.Length, budget);
            pieces.Add(new ArraySegment<int>(ids, ids.Length - take, take));
            budget -= take;
        }
        pieces.Reverse();
        return [.. pieces.SelectMany(p => p)];
    }

    /// <summary>A premise/hypothesis pair for the NLI model, truncated (longest first) to what it accepts.</summary>
    public ModelInput NliInput(ModelRoleInfo nli, string premise, string hypothesis)
    {
        var encoding = nli.Tokenizer.Encode(premise, hypothesis, new EncodeOptions
        {
            Truncation = new TruncationOptions { MaxLength = nli.MaxSequenceLength },
        });
        Tokens.Nli(encoding.Length);
        return new ModelInput(encoding.Ids.ToArray(), encoding.TypeIds.ToArray());
    }

    private static readonly EncodeOptions WithoutSpecials = new() { AddSpecialTokens = false };
}
