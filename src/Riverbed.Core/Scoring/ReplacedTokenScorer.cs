namespace Riverbed.Scoring;

/// <summary>
/// Replaced-token detection: the ELECTRA discriminator reads context + turn and gives P(replaced) per token of the
/// turn; entities (from the ner model, else <see cref="EntityHeuristic"/>) score the mean over their tokens.
/// See Scoring/README.md for the exact rules.
/// </summary>
internal static class ReplacedTokenScorer
{
    public const string NerSource = "ner";
    public const string HeuristicSource = "heuristic";

    public static async Task<ReplacedTokenResult> ScoreAsync(ScoringContext context, ModelRoleInfo rtd, ModelRoleInfo? ner)
    {
        var turns = context.ScoredTurns.ToList();
        var probabilities = turns.Select(turn => Probabilities(context, rtd, turn)).ToList();
        var entities = turns.Select(turn => ner is null
            ? Task.FromResult(EntityHeuristic.Find(context.Text(turn)))
            : NerEntities(context, ner, turn)).ToList();
        await Task.WhenAll(probabilities.Cast<Task>().Concat(entities)).ConfigureAwait(false);

        var summaries = new List<ReplacedTokenTurn>();
        var scored = new List<EntityScore>();
        for (var t = 0; t < turns.Count; t++)
        {
            var turn = turns[t];
            var text = context.Text(turn);
            var tokens = context.Turn(rtd.Tokenizer, turn);
            var p = probabilities[t].Result;
            var entityMax = 0.0;
            var code = CodeSpans.Find(text);
            foreach (var entity in entities[t].Result)
            {
                var (start, length) = entity.Range.GetOffsetAndLength(text.Length);
                var end = start + length;
                if (CodeSpans.Overlaps(code, start, end))
                {
                    continue; // code and markup are not entities (the heuristic never tags them; a ner model might)
                }
                double sum = 0;
                var count = 0;
                for (var i = 0; i < tokens.Count; i++)
                {
                    // Tokens that overlap the entity; tokens covering no text (some byte-level spaces) cannot.
                    if (tokens.Ends[i] > tokens.Starts[i] && tokens.Starts[i] < end && tokens.Ends[i] > start)
                    {
                        sum += p[i];
                        count++;
                    }
                }
                if (count == 0)
                {
                    continue;
                }
                var score = sum / count;
                scored.Add(new EntityScore(turn, start, end, text[start..end], entity.Kind, score, count));
                entityMax = Math.Max(entityMax, score);
            }
            summaries.Add(new ReplacedTokenTurn(turn, tokens.Count, entityMax,
                p.Length == 0 ? null : p.Average(), p.Length == 0 ? null : p.Max()));
        }
        return new ReplacedTokenResult(ner is null ? HeuristicSource : NerSource, summaries, scored);
    }

    /// <summary>P(replaced) = sigmoid(logit) for each token of the turn, each from the window it is most central in.</summary>
    private static async Task<double[]> Probabilities(ScoringContext context, ModelRoleInfo rtd, int turn)
    {
        var tokens = context.Turn(rtd.Tokenizer, turn);
        var result = new double[tokens.Count];
        if (tokens.Count == 0)
        {
            return result;
        }
        var layout = InputLayout.Plan(rtd, context.Context(rtd.Tokenizer, turn), tokens.Count, pair: true);
        var calls = layout.Windows.Select(window =>
        {
            var composed = rtd.Tokenizer.Compose(layout.Context, tokens.Ids.AsSpan(window.Start, window.Length));
            context.Tokens.Rtd(composed.Ids.Length);
            return (composed.SecondStart, Task: context.Backend.ReplacedTokenLogitsAsync(new ModelInput(composed.Ids, composed.TypeIds),
                context.CancellationToken).AsTask());
        }).ToList();
        var logits = await Task.WhenAll(calls.Select(c => c.Task)).ConfigureAwait(false);
        for (var i = 0; i < tokens.Count; i++)
        {
            var w = layout.Owner(i);
            var logit = logits[w][calls[w].SecondStart + (i - layout.Windows[w].Start)];
            result[i] = 1.0 / (1.0 + Math.Exp(-(double)logit));
        }
        return result;
    }

    /// <summary>
    /// Entities from the ner model's BIO labels over the turn alone. Labels are read per word (the label of its first
    /// token, as token-classification models are trained): B-X opens an entity of kind X, I-X continues an open X
    /// entity (or opens one), anything else closes it.
    /// </summary>
    private static async Task<IReadOnlyList<EntitySpan>> NerEntities(ScoringContext context, ModelRoleInfo ner, int turn)
    {
        var tokens = context.Turn(ner.Tokenizer, turn);
        if (tokens.Count == 0)
        {
            return [];
        }
        var layout = InputLayout.Plan(ner, [], tokens.Count, pair: false);
        var calls = layout.Windows.Select(window =>
        {
            var composed = ner.Tokenizer.Compose(tokens.Ids.AsSpan(window.Start, window.Length));
            context.Tokens.Ner(composed.Ids.Length);
            return (composed.FirstStart, Task: context.Backend.EntityLabelsAsync(new ModelInput(composed.Ids, composed.TypeIds),
                context.CancellationToken).AsTask());
        }).ToList();
        var answers = await Task.WhenAll(calls.Select(c => c.Task)).ConfigureAwait(false);

        var entities = new List<EntitySpan>();
        string? openKind = null;
        int openStart = 0, openEnd = 0;
        void Close()
        {
            if (openKind is not null)
            {
                entities.Add(new EntitySpan(openStart..openEnd, openKind));
                openKind = null;
            }
        }
        for (var i = 0; i < tokens.Count; i++)
        {
            var word = tokens.Words[i];
            var firstOfWord = word < 0 || i == 0 || tokens.Words[i - 1] != word;
            if (!firstOfWord)
            {
                if (openKind is not null)
                {
                    openEnd = Math.Max(openEnd, tokens.Ends[i]);
                }
                continue;
            }
            var w = layout.Owner(i);
            var index = answers[w][calls[w].FirstStart + (i - layout.Windows[w].Start)];
            var label = (uint)index < (uint)ner.Labels.Count ? ner.Labels[index] : "O";
            if (label.Length > 2 && label[1] == '-' && label[0] is 'B' or 'I')
            {
                var kind = label[2..];
                if (label[0] == 'B' || openKind != kind)
                {
                    Close();
                    openKind = kind;
                    openStart = tokens.Starts[i];
                    openEnd = openStart;
                }
                openEnd = Math.Max(openEnd, tokens.Ends[i]);
            }
            else
            {
                Close();
            }
        }
        Close();
        return entities;
    }
}
