namespace Riverbed.Scoring;

/// <summary>
/// Self-contradiction: split the assistant turns into sentences, compare a capped, deterministic choice of sentence
/// pairs (within and across turns, preferring pairs that share content words) with the NLI model both ways, and score
/// each pair by its larger contradiction probability. See Scoring/README.md for the exact rules.
/// </summary>
internal static class ContradictionScorer
{
    public const string PairPurpose = "contradiction/pairs";

    /// <summary>The turn index the pair choice is seeded with: the choice belongs to the whole dialogue, not one turn.</summary>
    public const int DialogueLevel = -1;

    public static async Task<ContradictionResult> ScoreAsync(ScoringContext context, ModelRoleInfo nli)
    {
        var sentences = Sentences(context.Dialogue, context.ScoredTurns);
        var dialogue = context.Dialogue;
        var chosen = Choose(sentences, context.Options, DeterministicRandom.For(context.Options.Seed, context.Dialogue.Id, DialogueLevel, PairPurpose),
            (a, b) => dialogue.OnOnePath(a.Turn, b.Turn));
        var calls = new List<Task<NliProbabilities>>(chosen.Count * 2);
        foreach (var (first, second, _) in chosen)
        {
            calls.Add(context.Backend.ClassifyPairAsync(context.NliInput(nli, sentences[first].Text, sentences[second].Text), context.CancellationToken).AsTask());
            calls.Add(context.Backend.ClassifyPairAsync(context.NliInput(nli, sentences[second].Text, sentences[first].Text), context.CancellationToken).AsTask());
        }
        var answers = await Task.WhenAll(calls).ConfigureAwait(false);
        var pairs = new List<SentencePair>(chosen.Count);
        for (var k = 0; k < chosen.Count; k++)
        {
            var (first, second, shared) = chosen[k];
            var forward = answers[2 * k];
            var backward = answers[(2 * k) + 1];
            pairs.Add(new SentencePair(k, sentences[first], sentences[second], shared, forward, backward,
                Math.Max((double)forward.Contradiction, backward.Contradiction)));
        }
        var candidates = 0L;
        for (var i = 0; i < sentences.Count; i++)
        {
            for (var j = i + 1; j < sentences.Count; j++)
            {
                candidates += dialogue.OnOnePath(sentences[i].Turn, sentences[j].Turn) ? 1 : 0;
            }
        }
        return new ContradictionResult(sentences.Count, candidates, pairs);
    }

    /// <summary>The sentences of the assistant turns, in dialogue order.</summary>
    internal static List<SentenceRef> Sentences(Dialogue dialogue) => Sentences(dialogue, [.. dialogue.AssistantTurnIndexes()]);

    /// <summary>The sentences of <paramref name="turns"/>, in dialogue order.</summary>
    internal static List<SentenceRef> Sentences(Dialogue dialogue, IReadOnlyList<int> turns)
    {
        var sentences = new List<SentenceRef>();
        foreach (var turn in turns)
        {
            var text = dialogue.Turns[turn].Text;
            foreach (var range in SentenceSplitter.Split(text))
            {
                var (start, length) = range.GetOffsetAndLength(text.Length);
                sentences.Add(new SentenceRef(turn, start, start + length, text.Substring(start, length)));
            }
        }
        return sentences;
    }

    /// <summary>
    /// Up to <see cref="ScoringOptions.MaxContradictionPairs"/> pairs (i &lt; j): most shared content words first, ties
    /// broken by a seeded random key per pair (drawn in pair order, so the choice depends only on the dialogue, the
    /// seed and the options). Returned in text order. With <paramref name="comparable"/>, pairs it refuses (sentences of
    /// two branches, which are alternatives, not one speaker's claims) are left out; their keys are still drawn, so the
    /// other pairs' keys do not depend on the branches.
    /// </summary>
    internal static List<(int First, int Second, int Shared)> Choose(List<SentenceRef> sentences, ScoringOptions options, DeterministicRandom random,
        Func<SentenceRef, SentenceRef, bool>? comparable = null)
    {
        var cap = options.MaxContradictionPairs;
        if (sentences.Count < 2 || cap == 0)
        {
            return [];
        }
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var words = sentences.Select(s => ContentWords(s.Text, options, vocabulary)).ToList();
        // The worst kept pair sits at the head: fewest shared words, then the largest key.
        var kept = new PriorityQueue<(int First, int Second, int Shared), (int Shared, ulong Key)>(
            Comparer<(int Shared, ulong Key)>.Create((a, b) => a.Shared != b.Shared ? a.Shared.CompareTo(b.Shared) : b.Key.CompareTo(a.Key)));
        for (var i = 0; i < sentences.Count; i++)
        {
            for (var j = i + 1; j < sentences.Count; j++)
            {
                var priority = (Shared: SharedCount(words[i], words[j]), Key: random.NextUInt64());
                if (comparable is not null && !comparable(sentences[i], sentences[j]))
                {
                    continue;
                }
                if (kept.Count < cap)
                {
                    kept.Enqueue((i, j, priority.Shared), priority);
                }
                else if (kept.TryPeek(out _, out var worst)
                    && (priority.Shared > worst.Shared || (priority.Shared == worst.Shared && priority.Key < worst.Key)))
                {
                    kept.DequeueEnqueue((i, j, priority.Shared), priority);
                }
            }
        }
        var chosen = new List<(int First, int Second, int Shared)>(kept.Count);
        while (kept.TryDequeue(out var pair, out _))
        {
            chosen.Add(pair);
        }
        chosen.Sort((a, b) => a.First != b.First ? a.First.CompareTo(b.First) : a.Second.CompareTo(b.Second));
        return chosen;
    }

    /// <summary>
    /// The distinct content words of a sentence as sorted ids: lower-cased runs of letters and digits that are not
    /// stopwords and have two characters or a digit.
    /// </summary>
    private static int[] ContentWords(string text, ScoringOptions options, Dictionary<string, int> vocabulary)
    {
        var ids = new SortedSet<int>();
        var i = 0;
        while (i < text.Length)
        {
            if (!char.IsLetterOrDigit(text[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }
            var word = text[start..i].ToLowerInvariant();
            if ((word.Length >= 2 || char.IsDigit(word[0])) && !options.IsStopword(word))
            {
                if (!vocabulary.TryGetValue(word, out var id))
                {
                    id = vocabulary.Count;
                    vocabulary.Add(word, id);
                }
                ids.Add(id);
            }
        }
        return [.. ids];
    }

    private static int SharedCount(int[] a, int[] b)
    {
        int i = 0, j = 0, shared = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j])
            {
                shared++;
                i++;
                j++;
            }
            else if (a[i] < b[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }
        return shared;
    }
}
