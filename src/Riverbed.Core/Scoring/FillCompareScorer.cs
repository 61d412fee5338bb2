namespace Riverbed.Scoring;

/// <summary>
/// Fill and compare: mask some single-token words of each assistant turn, let the MLM fill them, and where the fill
/// differs from the original ask the NLI model whether the original and the filled windows agree, both ways.
/// See Scoring/README.md for the exact rules.
/// </summary>
internal static class FillCompareScorer
{
    public const string SelectionPurpose = "fill_compare/mask";

    /// <summary>A window reaches at most this many characters per window word beyond the masked word on each side.</summary>
    public const int MaxWindowCharsPerWord = 50;

    private sealed record Slot(int Turn, int Token, int Start, int End, int OriginalId);

    private sealed record MlmCall(FillMaskRequest Request, Slot[] Slots);

    public static async Task<FillCompareResult> ScoreAsync(ScoringContext context, ModelRoleInfo mlm, ModelRoleInfo nli)
    {
        var options = context.Options;
        var candidatesPerTurn = new Dictionary<int, int>();
        var calls = new List<MlmCall>();
        foreach (var turn in context.ScoredTurns)
        {
            var tokens = context.Turn(mlm.Tokenizer, turn);
            var candidates = Candidates(tokens, mlm, options, CodeSpans.Find(context.Text(turn)));
            candidatesPerTurn[turn] = candidates.Count;
            var selected = Select(candidates, options.MaskRate, DeterministicRandom.For(options.Seed, context.Dialogue.Id, turn, SelectionPurpose));
            if (selected.Count == 0)
            {
                continue;
            }
            var layout = InputLayout.Plan(mlm, context.Context(mlm.Tokenizer, turn), tokens.Count, pair: true);
            foreach (var group in Group(selected, 2 * options.WindowWords))
            {
                foreach (var byWindow in group.GroupBy(layout.Owner).OrderBy(g => g.Key))
                {
                    var window = layout.Windows[byWindow.Key];
                    var slots = byWindow.Select(position => new Slot(turn, position, tokens.Starts[position], tokens.Ends[position],
                        tokens.Ids[position])).ToArray();
                    calls.Add(new MlmCall(Request(mlm, layout.Context, tokens, window, slots, options.TopK), slots));
                    context.Tokens.Mlm(calls[^1].Request.Input.Length);
                }
            }
        }

        var predictions = await Task.WhenAll(calls.Select(call =>
            context.Backend.FillMaskAsync(call.Request, context.CancellationToken).AsTask())).ConfigureAwait(false);

        var pending = new List<(Slot Slot, string Original, string Replacement, string OriginalWindow, string ReplacedWindow)>();
        var positions = new List<FillPosition>();
        for (var c = 0; c < calls.Count; c++)
        {
            var call = calls[c];
            if (predictions[c].Count != call.Slots.Length)
            {
                throw new InvalidOperationException($"the model backend answered {predictions[c].Count} predictions for {call.Slots.Length} masks");
            }
            for (var m = 0; m < call.Slots.Length; m++)
            {
                var slot = call.Slots[m];
                var text = context.Text(slot.Turn);
                var original = text[slot.Start..slot.End];
                var top = predictions[c][m].TopIds;
                var originalForm = mlm.Tokenizer.DecodeToken(slot.OriginalId);
                var replacement = top.Length == 0 ? original : mlm.Tokenizer.DecodeToken(top[0]);
                if (top.Length == 0 || top.Any(id => id == slot.OriginalId || mlm.Tokenizer.DecodeToken(id) == originalForm))
                {
                    positions.Add(new FillPosition(slot.Turn, slot.Start, slot.End, original, replacement, true,
                        FillCompareFormula.MatchScore, null, null, null, null));
                    continue;
                }
                var (windowStart, windowEnd) = WordWindow(text, slot.Start, slot.End, options.WindowWords);
                var originalWindow = text[windowStart..windowEnd];
                var replacedWindow = string.Concat(text.AsSpan(windowStart, slot.Start - windowStart), replacement,
                    text.AsSpan(slot.End, windowEnd - slot.End));
                pending.Add((slot, original, replacement, originalWindow, replacedWindow));
            }
        }

        var nliCalls = new List<Task<NliProbabilities>>(pending.Count * 2);
        foreach (var item in pending)
        {
            nliCalls.Add(context.Backend.ClassifyPairAsync(context.NliInput(nli, item.OriginalWindow, item.ReplacedWindow), context.CancellationToken).AsTask());
            nliCalls.Add(context.Backend.ClassifyPairAsync(context.NliInput(nli, item.ReplacedWindow, item.OriginalWindow), context.CancellationToken).AsTask());
        }
        var answers = await Task.WhenAll(nliCalls).ConfigureAwait(false);
        for (var i = 0; i < pending.Count; i++)
        {
            var item = pending[i];
            var forward = answers[2 * i];
            var backward = answers[(2 * i) + 1];
            positions.Add(new FillPosition(item.Slot.Turn, item.Slot.Start, item.Slot.End, item.Original, item.Replacement, false,
                FillCompareFormula.Score(forward, backward), forward, backward, item.OriginalWindow, item.ReplacedWindow));
        }

        positions.Sort((a, b) => a.Turn != b.Turn ? a.Turn.CompareTo(b.Turn) : a.Start.CompareTo(b.Start));
        var turns = new List<FillCompareTurn>();
        foreach (var turn in context.ScoredTurns)
        {
            var own = positions.Where(p => p.Turn == turn).ToList();
            turns.Add(new FillCompareTurn(turn, candidatesPerTurn[turn], own.Count, own.Count(p => !p.Match),
                own.Count == 0 ? null : own.Min(p => p.Score), own.Count == 0 ? null : own.Sum(p => p.Score) / own.Count));
        }
        return new FillCompareResult(turns, positions);
    }

    /// <summary>
    /// Token indexes of the words that may be masked: a word of exactly one token (so one mask stands for the whole
    /// word), not special, with a letter or digit, covering some text, not a stopword, and not inside code or markup
    /// (<see cref="CodeSpans"/>: a replaced identifier or tag says nothing about facts).
    /// </summary>
    internal static List<int> Candidates(TurnTokens tokens, ModelRoleInfo mlm, ScoringOptions options, IReadOnlyList<Range>? code = null)
    {
        var candidates = new List<int>();
        var tokenizer = mlm.Tokenizer;
        for (var i = 0; i < tokens.Count; i++)
        {
            var word = tokens.Words[i];
            if (word < 0 || (i > 0 && tokens.Words[i - 1] == word) || (i + 1 < tokens.Count && tokens.Words[i + 1] == word))
            {
                continue;
            }
            var id = tokens.Ids[i];
            if (tokenizer.IsSpecialToken(id) || tokens.Ends[i] <= tokens.Starts[i])
            {
                continue;
            }
            var form = tokenizer.DecodeToken(id);
            if (!form.Any(char.IsLetterOrDigit) || options.IsStopword(form))
            {
                continue;
            }
            if (code is not null && CodeSpans.Overlaps(code, tokens.Starts[i], tokens.Ends[i]))
            {
                continue;
            }
            candidates.Add(i);
        }
        return candidates;
    }

    /// <summary>max(1, round(rate · n)) candidates (none when there are none), by a seeded shuffle, in text order.</summary>
    internal static List<int> Select(List<int> candidates, double rate, DeterministicRandom random)
    {
        if (candidates.Count == 0)
        {
            return [];
        }
        var count = Math.Clamp((int)Math.Round(rate * candidates.Count, MidpointRounding.AwayFromZero), 1, candidates.Count);
        var shuffled = new List<int>(candidates);
        random.Shuffle(shuffled);
        var selected = shuffled.Take(count).ToList();
        selected.Sort();
        return selected;
    }

    /// <summary>
    /// Splits sorted positions into groups whose members lie at least <paramref name="gap"/> tokens apart: each
    /// position joins the first group whose last member is far enough behind (the fewest groups possible).
    /// </summary>
    internal static List<List<int>> Group(List<int> sortedPositions, int gap)
    {
        var groups = new List<List<int>>();
        foreach (var position in sortedPositions)
        {
            var group = groups.FirstOrDefault(g => position - g[^1] >= gap);
            if (group is null)
            {
                groups.Add([position]);
            }
            else
            {
                group.Add(position);
            }
        }
        return groups;
    }

    private static FillMaskRequest Request(ModelRoleInfo mlm, int[] context, TurnTokens tokens, TokenWindow window, Slot[] slots, int topK)
    {
        var maskId = mlm.Tokenizer.MaskTokenId ?? throw new InvalidOperationException("the mlm tokenizer has no mask token");
        var segment = tokens.Ids.AsSpan(window.Start, window.Length).ToArray();
        foreach (var slot in slots)
        {
            segment[slot.Token - window.Start] = maskId;
        }
        var composed = mlm.Tokenizer.Compose(context, segment);
        var positions = slots.Select(s => composed.SecondStart + (s.Token - window.Start)).ToArray();
        return new FillMaskRequest(new ModelInput(composed.Ids, composed.TypeIds), positions, mlm.WholeWords, topK);
    }

    /// <summary>
    /// The character range of the <paramref name="words"/> whitespace-separated words either side of the word holding
    /// [start, end), within the turn.
    /// </summary>
    internal static (int Start, int End) WordWindow(string text, int start, int end, int words)
    {
        var left = start;
        for (var seen = 0; ;)
        {
            // Back to the start of the current word, then over the whitespace before it.
            while (left > 0 && !char.IsWhiteSpace(text[left - 1]))
            {
                left--;
            }
            if (seen == words || left == 0)
            {
                break;
            }
            while (left > 0 && char.IsWhiteSpace(text[left - 1]))
            {
                left--;
            }
            if (left == 0)
            {
                break;
            }
            seen++;
        }
        var right = end;
        for (var seen = 0; ;)
        {
            while (right < text.Length && !char.IsWhiteSpace(text[right]))
            {
                right++;
            }
            if (seen == words || right == text.Length)
            {
                break;
            }
            while (right < text.Length && char.IsWhiteSpace(text[right]))
            {
                right++;
            }
            if (right == text.Length)
            {
                break;
            }
            seen++;
        }
        // Text without spaces (CJK, long URLs) would make the window the whole run: keep it to a readable size, which
        // also keeps both windows well inside the NLI model's limit so truncation never cuts the word away.
        var reach = MaxWindowCharsPerWord * words;
        if (start - left > reach)
        {
            left = start - reach;
            left += left > 0 && char.IsLowSurrogate(text[left]) ? 1 : 0;
        }
        if (right - end > reach)
        {
            right = end + reach;
            right -= char.IsHighSurrogate(text[right - 1]) ? 1 : 0;
        }
        while (left < start && char.IsWhiteSpace(text[left]))
        {
            left++;
        }
        while (right > end && char.IsWhiteSpace(text[right - 1]))
        {
            right--;
        }
        return (left, right);
    }
}
