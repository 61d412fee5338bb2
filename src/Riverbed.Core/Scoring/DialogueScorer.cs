namespace Riverbed.Scoring;

/// <summary>
/// Scores every assistant turn of a dialogue with fill-and-compare, replaced-token detection and self-contradiction.
/// The three run concurrently, so a batching backend can group their requests with other dialogues'; a scorer whose
/// model role is missing is skipped with a note. Thread-safe: one scorer serves many dialogues at once.
/// </summary>
/// <example>
/// <code>
/// using var models = ModelSet.Open("models/demo");
/// var scorer = new DialogueScorer(new DirectModelBackend(models), ScoringOptions.Default);
/// var scores = await scorer.ScoreAsync(dialogue);
/// var decision = scores.Decide(DecisionPolicy.Default);
/// </code>
/// </example>
public sealed class DialogueScorer
{
    public const string FillCompareName = "fill_compare";
    public const string ReplacedEntityName = "replaced_entity";
    public const string ContradictionName = "contradiction";

    private readonly IModelBackend _backend;

    public DialogueScorer(IModelBackend backend, ScoringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        options ??= ScoringOptions.Default;
        options.Validate();
        _backend = backend;
        Options = options;
        var skipped = new List<string>();
        if (backend.Mlm is null || backend.Nli is null)
        {
            skipped.Add($"{FillCompareName}: {Missing(backend.Mlm is null ? "mlm" : null, backend.Nli is null ? "nli" : null)}");
        }
        if (backend.Rtd is null)
        {
            skipped.Add($"{ReplacedEntityName}: no rtd model");
        }
        if (backend.Nli is null)
        {
            skipped.Add($"{ContradictionName}: no nli model");
        }
        Skipped = skipped;
        if (backend.Mlm is { } mlm && mlm.Tokenizer.MaskTokenId is null)
        {
            throw new RiverbedException("the mlm model's tokenizer has no mask token (<mask> or [MASK]); fill-and-compare needs one");
        }
    }

    public ScoringOptions Options { get; }

    /// <summary>Notes of the scorers this backend's models cannot run (the same for every dialogue).</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The skip note of a dialogue with nothing to score: every assistant turn is empty or whitespace.</summary>
    public const string NoScorableText = "no scorable text: every assistant turn is empty or whitespace";

    /// <summary>Scores one dialogue.</summary>
    /// <exception cref="RiverbedException">A turn could not be tokenized (e.g. longer than the tokenizer accepts).</exception>
    public async Task<DialogueScores> ScoreAsync(Dialogue dialogue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dialogue);
        cancellationToken.ThrowIfCancellationRequested();
        var context = new ScoringContext(dialogue, Options, _backend, cancellationToken);
        var mlm = _backend.Mlm;
        var nli = _backend.Nli;
        var rtd = _backend.Rtd;

        // Task.Run: a backend that answers synchronously (DirectModelBackend) still lets the three proceed side by side.
        var fill = mlm is not null && nli is not null
            ? Task.Run<FillCompareResult?>(async () => await FillCompareScorer.ScoreAsync(context, mlm, nli).ConfigureAwait(false), cancellationToken)
            : Task.FromResult<FillCompareResult?>(null);
        var replaced = rtd is not null
            ? Task.Run<ReplacedTokenResult?>(async () => await ReplacedTokenScorer.ScoreAsync(context, rtd, _backend.Ner).ConfigureAwait(false), cancellationToken)
            : Task.FromResult<ReplacedTokenResult?>(null);
        var contradiction = nli is not null
            ? Task.Run<ContradictionResult?>(async () => await ContradictionScorer.ScoreAsync(context, nli).ConfigureAwait(false), cancellationToken)
            : Task.FromResult<ContradictionResult?>(null);
        await Task.WhenAll(fill, replaced, contradiction).ConfigureAwait(false);

        var fillResult = await fill.ConfigureAwait(false);
        var replacedResult = await replaced.ConfigureAwait(false);
        var contradictionResult = await contradiction.ConfigureAwait(false);
        // A dialogue whose assistant turns are all empty or whitespace gets null scores from every scorer; the note says
        // why, so a reviewer (and the skip column) can tell it from a scorer that did not run.
        var blank = dialogue.AssistantTurnIndexes().All(i => string.IsNullOrWhiteSpace(dialogue.Turns[i].Text));
        IReadOnlyList<string> skipped = context.Notes.Count == 0 && !blank
            ? Skipped
            : [.. Skipped, .. context.Notes, .. blank ? [NoScorableText] : Array.Empty<string>()];
        return new DialogueScores(fillResult, replacedResult, contradictionResult, skipped,
            Spans(fillResult, replacedResult, contradictionResult), Turns(dialogue, fillResult, replacedResult), context.Tokens.Snapshot())
        {
            ScoredTurns = context.ScoredTurns,
        };
    }

    private List<ScoreSpan> Spans(FillCompareResult? fill, ReplacedTokenResult? replaced, ContradictionResult? contradiction)
    {
        var spans = new List<ScoreSpan>();
        foreach (var p in fill?.Positions ?? [])
        {
            spans.Add(new ScoreSpan(SpanKinds.Fill, p.Turn, p.Start, p.End, p.Original, p.Replacement, p.Score,
                p.Score < Options.FillFlagBelow, null));
        }
        foreach (var e in replaced?.Entities ?? [])
        {
            spans.Add(new ScoreSpan(SpanKinds.Entity, e.Turn, e.Start, e.End, e.Text, e.Kind, e.Score, e.Score > Options.EntityFlagAbove, null));
        }
        foreach (var pair in contradiction?.Pairs ?? [])
        {
            var flagged = pair.Score > Options.ContradictionFlagAbove;
            foreach (var sentence in new[] { pair.First, pair.Second })
            {
                spans.Add(new ScoreSpan(SpanKinds.Contradiction, sentence.Turn, sentence.Start, sentence.End, sentence.Text, null,
                    pair.Score, flagged, pair.Pair));
            }
        }
        return spans;
    }

    private static List<TurnScores> Turns(Dialogue dialogue, FillCompareResult? fill, ReplacedTokenResult? replaced)
    {
        var turns = new List<TurnScores>(dialogue.Turns.Count);
        for (var i = 0; i < dialogue.Turns.Count; i++)
        {
            var f = fill?.Turns.FirstOrDefault(t => t.Turn == i);
            var r = replaced?.Turns.FirstOrDefault(t => t.Turn == i);
            turns.Add(new TurnScores(i, dialogue.Turns[i].Speaker, f?.Min, f?.Mean, f?.Masked, f?.Mismatches, r?.EntityMax, r?.TokenMean, r?.TokenMax));
        }
        return turns;
    }

    private static string Missing(string? first, string? second) =>
        first is not null && second is not null ? $"no {first} model, no {second} model" : $"no {first ?? second} model";
}
