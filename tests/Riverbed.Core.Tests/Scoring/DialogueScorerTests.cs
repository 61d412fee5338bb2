using System.Text;
using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>The scorer as a whole: the public single-example path, missing roles, and independence from batching.</summary>
[Collection(ScoringOracles.Collection)]
public sealed class DialogueScorerTests(ScoringOracles oracles)
{
    private static string DemoModels
    {
        get
        {
            var folder = Path.Combine(TestPaths.RepositoryRoot, "models", "demo");
            return Directory.Exists(Path.Combine(folder, "mlm")) ? folder
                : throw new DirectoryNotFoundException($"'{folder}' holds no demo models; run ./setup.sh to generate them");
        }
    }

    /// <summary>Seeded prose: several dialogues, one with an assistant turn longer than the demo models' 512 tokens.</summary>
    private static List<Dialogue> Dialogues()
    {
        var words = ("river flows past old stone bridges while children play near green fields and the market opens early " +
            "each morning with fresh bread from Paris or London since 1999 about 42 kilometers north where Einstein and Newton " +
            "once argued that light bends slowly around heavy stars").Split(' ');
        var random = new DeterministicRandom(5);
        string Prose(int sentences)
        {
            var text = new StringBuilder();
            for (var s = 0; s < sentences; s++)
            {
                var length = 5 + random.NextInt(9);
                for (var w = 0; w < length; w++)
                {
                    var word = words[random.NextInt(words.Length)];
                    text.Append(w == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word);
                }
                text.Append(". ");
            }
            return text.ToString().TrimEnd();
        }
        var dialogues = new List<Dialogue>();
        for (var d = 0; d < 7; d++)
        {
            var turns = new List<DialogueTurn> { new(Speaker.System, "Answer briefly.") };
            for (var t = 0; t < 1 + (d % 3); t++)
            {
                turns.Add(new DialogueTurn(Speaker.User, Prose(1 + random.NextInt(2))));
                turns.Add(new DialogueTurn(Speaker.Assistant, Prose(d == 3 && t == 0 ? 55 : 1 + random.NextInt(5))));
            }
            dialogues.Add(new Dialogue($"example-{d}", turns));
        }
        return dialogues;
    }

    [Fact]
    public async Task One_example_is_scored_end_to_end_from_a_models_folder()
    {
        var dialogue = new Dialogue("demo-1",
        [
            new DialogueTurn(Speaker.User, "Where is the Eiffel Tower?"),
            new DialogueTurn(Speaker.Assistant, "The Eiffel Tower is in Paris. It was finished in 1889 and is 330 metres tall."),
            new DialogueTurn(Speaker.User, "Is it the tallest building in France?"),
            new DialogueTurn(Speaker.Assistant, "It was the tallest structure in the world until 1930. Today it is not."),
        ]);

        using var models = ModelSet.Open(DemoModels);
        var scorer = new DialogueScorer(new DirectModelBackend(models), ScoringOptions.Default);
        var scores = await scorer.ScoreAsync(dialogue);

        Assert.Empty(scores.Skipped);
        Assert.Contains(models.Notes, n => n.StartsWith("no ner model", StringComparison.Ordinal));
        Assert.All(ScoreNames.All, name => Assert.NotNull(scores.Scores[name]));
        Assert.InRange(scores.Scores[ScoreNames.FillCompareMin]!.Value, -1, 1);
        Assert.InRange(scores.Scores[ScoreNames.ReplacedEntityMax]!.Value, 0, 1);
        Assert.InRange(scores.Scores[ScoreNames.ContradictionMax]!.Value, 0, 1);
        Assert.Equal(4, scores.Turns.Count);
        Assert.Equal(2, scores.FillCompare!.Turns.Count);
        Assert.Equal(scores.FillCompare.Masked, scores.Turns.Sum(t => t.Masked ?? 0));
        Assert.Equal(4, scores.Contradiction!.Sentences);
        Assert.Equal(6, scores.Contradiction.Pairs.Count);
        Assert.Contains(scores.ReplacedTokens!.Entities, e => e.Text == "Eiffel Tower" && e.Turn == 1);
        Assert.Contains(scores.ReplacedTokens.Entities, e => e.Text == "1889" && e.Kind == EntityKinds.Date);
        foreach (var span in scores.Spans)
        {
            Assert.Equal(dialogue.Turns[span.Turn].Text[span.Start..span.End], span.Original);
            Assert.Equal(Speaker.Assistant, dialogue.Turns[span.Turn].Speaker);
        }
        Assert.True(scores.Tokens.Mlm > 0 && scores.Tokens.Rtd > 0 && scores.Tokens.Nli > 0 && scores.Tokens.Ner == 0);
        Assert.Equal(scores.Decide(DecisionPolicy.Default), DecisionPolicy.Default.Decide(scores.Scores));
    }

    [Fact]
    public async Task Missing_roles_skip_their_scorers_with_a_note_and_nli_alone_still_scores_contradictions()
    {
        var dialogue = new Dialogue("skip", [new DialogueTurn(Speaker.User, "Colours?"),
            new DialogueTurn(Speaker.Assistant, "The sky is blue. The sky is red. Obama was born in 1961.")]);

        using (var nliOnly = oracles.Open((ModelRole.Nli, "nli")))
        {
            var scorer = new DialogueScorer(new DirectModelBackend(nliOnly));
            var scores = await scorer.ScoreAsync(dialogue);

            Assert.Equal(["fill_compare: no mlm model", "replaced_entity: no rtd model"], scores.Skipped);
            Assert.Equal(scorer.Skipped, scores.Skipped);
            Assert.Null(scores.FillCompare);
            Assert.Null(scores.ReplacedTokens);
            Assert.Null(scores.Scores[ScoreNames.FillCompareMin]);
            Assert.Null(scores.Scores[ScoreNames.ReplacedEntityMax]);
            Assert.Equal(0.97, scores.Scores[ScoreNames.ContradictionMax]!.Value, 1e-5);
            Assert.All(scores.Turns, t => Assert.Null(t.Masked));
            Assert.Contains("no mlm model: fill-and-compare is skipped", nliOnly.Notes);
            Assert.Contains("no rtd model: replaced-token detection is skipped", nliOnly.Notes);
        }

        using (var noNli = oracles.Open((ModelRole.MaskedLm, "mlm"), (ModelRole.ReplacedTokenDetection, "rtd")))
        {
            var scores = await new DialogueScorer(new DirectModelBackend(noNli)).ScoreAsync(dialogue);

            Assert.Equal(["fill_compare: no nli model", "contradiction: no nli model"], scores.Skipped);
            Assert.NotNull(scores.ReplacedTokens);
            Assert.Null(scores.Scores[ScoreNames.ContradictionMax]);
            Assert.Null(scores.Scores[ScoreNames.FillCompareMean]);
            Assert.All(scores.Spans, s => Assert.Equal(SpanKinds.Entity, s.Kind));
        }

        using (var rtdOnly = oracles.Open((ModelRole.ReplacedTokenDetection, "rtd")))
        {
            var scores = await new DialogueScorer(new DirectModelBackend(rtdOnly)).ScoreAsync(dialogue);
            Assert.Equal(["fill_compare: no mlm model, no nli model", "contradiction: no nli model"], scores.Skipped);
        }
    }

    [Fact]
    public async Task Scores_and_decisions_do_not_depend_on_batch_sizes_or_how_many_dialogues_run_at_once()
    {
        var dialogues = Dialogues();
        using var models = ModelSet.Open(DemoModels);
        var options = new ScoringOptions { Seed = 11 };

        var direct = new List<DialogueScores>();
        foreach (var dialogue in dialogues)
        {
            direct.Add(await new DialogueScorer(new DirectModelBackend(models), options).ScoreAsync(dialogue));
        }
        Assert.Contains(dialogues[3].Turns, t => models.Mlm!.Tokenizer.Encode(t.Text).Length > models.Mlm.Info.MaxSequenceLength);
        Assert.True(direct.Sum(d => d.FillCompare!.Mismatches) > 20);

        foreach (var (batchSize, workers) in new[] { (3, 2), (16, 7) })
        {
            using var grouping = new GroupingTestBackend(models, batchSize);
            var scorer = new DialogueScorer(grouping, options);
            using var gate = new SemaphoreSlim(workers);
            var grouped = await Task.WhenAll(dialogues.Select(async dialogue =>
            {
                await gate.WaitAsync();
                try
                {
                    return await scorer.ScoreAsync(dialogue);
                }
                finally
                {
                    gate.Release();
                }
            }));

            Assert.True(grouping.MixedLengthBatches > 0, "no batch mixed requests of different lengths");
            for (var d = 0; d < dialogues.Count; d++)
            {
                AssertSame(direct[d], grouped[d]);
            }
        }
    }

    private static void AssertSame(DialogueScores expected, DialogueScores actual)
    {
        Assert.Equal(expected.Spans.Count, actual.Spans.Count);
        for (var i = 0; i < expected.Spans.Count; i++)
        {
            Assert.Equal(expected.Spans[i] with { Score = 0 }, actual.Spans[i] with { Score = 0 });
            Assert.Equal(expected.Spans[i].Score, actual.Spans[i].Score, 1e-5);
        }
        foreach (var name in ScoreNames.All)
        {
            Assert.Equal(expected.Scores[name].HasValue, actual.Scores[name].HasValue);
            Assert.Equal(expected.Scores[name] ?? 0, actual.Scores[name] ?? 0, 1e-5);
        }
        Assert.Equal(expected.Decide(DecisionPolicy.Default), actual.Decide(DecisionPolicy.Default), DecisionComparer);
        Assert.Equal(expected.Turns.Select(t => (t.Masked, t.Mismatches)), actual.Turns.Select(t => (t.Masked, t.Mismatches)));
        Assert.Equal(expected.Tokens, actual.Tokens);
    }

    private static readonly IEqualityComparer<Decision> DecisionComparer = EqualityComparer<Decision>.Create(
        (a, b) => a!.Keep == b!.Keep && a.Reasons.SequenceEqual(b.Reasons), d => d.Keep.GetHashCode());

    [Fact]
    public async Task Cancellation_stops_scoring()
    {
        using var models = oracles.Open((ModelRole.Nli, "nli"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new DialogueScorer(new DirectModelBackend(models)).ScoreAsync(new Dialogue("x", [new DialogueTurn(Speaker.Assistant, "A. B.")]), cancelled.Token));
    }

    [Fact]
    public void Options_are_validated_and_have_a_stable_canonical_form()
    {
        var error = Assert.Throws<RiverbedException>(() => new ScoringOptions { MaskRate = 0, TopK = 0 }.Validate());
        Assert.Contains("mask rate must be in (0, 1]", error.Message, StringComparison.Ordinal);
        Assert.Contains("top-k must be at least 1", error.Message, StringComparison.Ordinal);

        Assert.Equal(ScoringOptions.Default.Hash, new ScoringOptions().Hash);
        Assert.NotEqual(ScoringOptions.Default.Hash, new ScoringOptions { Seed = 1 }.Hash);
        Assert.Equal(new ScoringOptions { Stopwords = ["b", "A"] }.Hash, new ScoringOptions { Stopwords = ["a", "B"] }.Hash);
        Assert.StartsWith("seed=0\nmask_rate=0.15\nwindow_words=5\ntop_k=1\ncontext_tokens=128\n", ScoringOptions.Default.ToCanonicalString(), StringComparison.Ordinal);
    }
}
