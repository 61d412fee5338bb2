using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>Self-contradiction through the real runtime, with an oracle NLI model.</summary>
[Collection(ScoringOracles.Collection)]
public sealed class ContradictionTests(ScoringOracles oracles)
{
    private static readonly Dialogue SkyAndSea = new("sky",
    [
        new DialogueTurn(Speaker.User, "Describe the view."),
        new DialogueTurn(Speaker.Assistant, "The sky is blue. The sea is deep. The sea is shallow."),
        new DialogueTurn(Speaker.User, "And at sunset?"),
        new DialogueTurn(Speaker.Assistant, "The sky is red."),
    ]);

    private async Task<DialogueScores> Score(Dialogue dialogue, ScoringOptions? options = null)
    {
        var models = oracles.Shared((ModelRole.Nli, "nli"));
        return await new DialogueScorer(new DirectModelBackend(models), options).ScoreAsync(dialogue);
    }

    [Fact]
    public async Task Contradicting_sentences_are_found_within_a_turn_and_across_turns()
    {
        var scores = await Score(SkyAndSea);

        var result = scores.Contradiction!;
        Assert.Equal(4, result.Sentences);
        Assert.Equal(6, result.CandidatePairs);
        Assert.Equal(6, result.Pairs.Count);
        var across = Assert.Single(result.Pairs, p => p.First.Text == "The sky is blue." && p.Second.Text == "The sky is red.");
        Assert.Equal((1, 3), (across.First.Turn, across.Second.Turn));
        Assert.Equal(0.97, across.Score, 1e-5);  // max(0.97, 0.90)
        var within = Assert.Single(result.Pairs, p => p.First.Text == "The sea is deep." && p.Second.Text == "The sea is shallow.");
        Assert.Equal((1, 1), (within.First.Turn, within.Second.Turn));
        Assert.Equal(0.94, within.Score, 1e-5);  // max(0.90, 0.94)
        Assert.All(result.Pairs.Except([across, within]), p => Assert.Equal(0.01, p.Score, 1e-5));
        Assert.Equal(0.97, scores.Scores[ScoreNames.ContradictionMax]!.Value, 1e-5);

        var spans = scores.Spans.Where(s => s.Pair == across.Pair).ToList();
        Assert.Equal(2, spans.Count);
        Assert.Equal((SpanKinds.Contradiction, 1, 0, 16, "The sky is blue.", true), (spans[0].Kind, spans[0].Turn, spans[0].Start, spans[0].End, spans[0].Original, spans[0].Flagged));
        Assert.Equal((3, 0, 15, "The sky is red."), (spans[1].Turn, spans[1].Start, spans[1].End, spans[1].Original));
        Assert.All(spans, s => Assert.Equal(across.Score, s.Score));
        Assert.Equal(12, scores.Spans.Count);
        Assert.Equal(Enumerable.Range(0, 6).SelectMany(p => new int?[] { p, p }), scores.Spans.Select(s => s.Pair));
        Assert.Equal(["contradiction_max>0.5"], scores.Decide(DecisionPolicy.Default).Reasons);
    }

    [Fact]
    public async Task Under_a_cap_pairs_that_share_content_words_are_chosen_first()
    {
        var scores = await Score(SkyAndSea, new ScoringOptions { MaxContradictionPairs = 2 });

        Assert.Equal(
            [("The sky is blue.", "The sky is red."), ("The sea is deep.", "The sea is shallow.")],
            scores.Contradiction!.Pairs.Select(p => (p.First.Text, p.Second.Text)));
        Assert.All(scores.Contradiction.Pairs, p => Assert.Equal(1, p.SharedWords));
    }

    [Fact]
    public async Task The_cap_is_respected_and_the_choice_is_deterministic()
    {
        var answer = string.Join(' ', Enumerable.Range(1, 12).Select(i => $"Fact number {i} holds."));
        var dialogue = new Dialogue("facts", [new DialogueTurn(Speaker.User, "Facts?"), new DialogueTurn(Speaker.Assistant, answer)]);

        var first = await Score(dialogue);
        var again = await Score(dialogue);
        var otherSeed = await Score(dialogue, new ScoringOptions { Seed = 99 });

        Assert.Equal(12, first.Contradiction!.Sentences);
        Assert.Equal(66, first.Contradiction.CandidatePairs);
        Assert.Equal(32, first.Contradiction.Pairs.Count);
        static List<(int, int)> Chosen(DialogueScores s) => [.. s.Contradiction!.Pairs.Select(p => (p.First.Start, p.Second.Start))];
        Assert.Equal(Chosen(first), Chosen(again));
        Assert.NotEqual(Chosen(first), Chosen(otherSeed)); // every pair shares "fact", "number", "holds": the seed breaks ties
        Assert.Equal(Chosen(first).Order(), Chosen(first));
        Assert.Equal(64, first.Spans.Count);
    }

    [Fact]
    public void Candidate_pairs_prefer_shared_content_words_and_ignore_stopwords()
    {
        List<SentenceRef> sentences =
        [
            new(1, 0, 1, "The cat sat on the mat."),
            new(1, 0, 1, "A dog barked."),
            new(3, 0, 1, "The cat was on a mat."),
            new(3, 0, 1, "It is what it is."),
        ];

        var chosen = ContradictionScorer.Choose(sentences, new ScoringOptions { MaxContradictionPairs = 1 }, new DeterministicRandom(1));

        Assert.Equal([(0, 2, 2)], chosen);
    }

    [Fact]
    public async Task Fewer_than_two_sentences_leave_the_score_empty()
    {
        var scores = await Score(new Dialogue("one", [new DialogueTurn(Speaker.User, "Hi."), new DialogueTurn(Speaker.Assistant, "Hello there.")]));

        Assert.Equal(1, scores.Contradiction!.Sentences);
        Assert.Empty(scores.Contradiction.Pairs);
        Assert.Null(scores.Scores[ScoreNames.ContradictionMax]);
    }
}
