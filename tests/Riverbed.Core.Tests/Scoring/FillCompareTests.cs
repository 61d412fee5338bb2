using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>Fill-and-compare through the real runtime, with oracle MLM and NLI models on roberta-base's tokenizer.</summary>
[Collection(ScoringOracles.Collection)]
public sealed class FillCompareTests(ScoringOracles oracles)
{
    private static readonly ScoringOptions MaskEverything = new() { MaskRate = 1.0 };

    private static Dialogue Chat(string id, string user, string assistant) =>
        new(id, [new DialogueTurn(Speaker.User, user), new DialogueTurn(Speaker.Assistant, assistant)]);

    private async Task<DialogueScores> Score(Dialogue dialogue, ScoringOptions options, string nli = "nli", string mlm = "mlm")
    {
        var models = oracles.Shared((ModelRole.MaskedLm, mlm), (ModelRole.Nli, nli));
        return await new DialogueScorer(new DirectModelBackend(models), options).ScoreAsync(dialogue);
    }

    [Fact]
    public async Task A_planted_wrong_word_scores_negative_at_exactly_its_span_and_fills_that_match_score_one()
    {
        const string answer = "The capital of France is Berlin.";
        var scores = await Score(Chat("geo", "A question about geography.", answer), MaskEverything);

        var fills = scores.Spans.Where(s => s.Kind == SpanKinds.Fill).ToList();
        Assert.Equal(["capital", "France", "Berlin"], fills.Select(s => s.Original));
        var berlin = fills[2];
        Assert.Equal((1, 25, 31), (berlin.Turn, berlin.Start, berlin.End));
        Assert.Equal("Berlin", answer[berlin.Start..berlin.End]);
        Assert.Equal("Paris", berlin.Replacement);
        Assert.Equal(((2 + 3 - 95) + (1 + 4 - 95)) / 200.0, berlin.Score, 1e-4);
        Assert.True(berlin.Flagged);
        foreach (var match in fills.Take(2))
        {
            Assert.Equal(1.0, match.Score);
            Assert.Equal(match.Original, match.Replacement);
            Assert.False(match.Flagged);
        }

        Assert.Equal(-0.9, scores.Scores[ScoreNames.FillCompareMin]!.Value, 1e-4);
        Assert.Equal((1 + 1 - 0.9) / 3, scores.Scores[ScoreNames.FillCompareMean]!.Value, 1e-4);
        var turn = scores.Turns[1];
        Assert.Equal((3, 1), (turn.Masked, turn.Mismatches));
        Assert.Null(scores.Turns[0].FillCompareMin);
        var decision = scores.Decide(DecisionPolicy.Default);
        Assert.False(decision.Keep);
        Assert.Equal(["fill_compare_min<0"], decision.Reasons);
    }

    [Fact]
    public async Task The_published_examples_come_out_of_the_scorer_to_four_decimals()
    {
        // "fluffy" → "small": 0.9202. The blog's "llama" is two tokens in roberta-base (Ġll + ama), so it can never be
        // a single-token candidate; "camel" stands in for it with the published NLI numbers: −0.9249.
        var fluffy = await Score(Chat("kitten", "Describe my kitten.", "It is fluffy."), ScoringOptions.Default);
        var camel = await Score(Chat("pet", "Describe my pet.", "It is a camel."), ScoringOptions.Default);

        var small = Assert.Single(fluffy.Spans);
        Assert.Equal(("fluffy", "small", 6, 12), (small.Original, small.Replacement, small.Start, small.End));
        Assert.Equal(0.9202, small.Score, 1e-4);
        Assert.False(small.Flagged);
        var position = Assert.Single(fluffy.FillCompare!.Positions);
        Assert.Equal("It is fluffy.", position.OriginalWindow);
        Assert.Equal("It is small.", position.ReplacedWindow);
        Assert.Equal(0.130892f, position.Forward!.Value.Entailment, 1e-5);
        Assert.Equal(0.997456f, position.Backward!.Value.Neutral, 1e-5);

        var dog = Assert.Single(camel.Spans);
        Assert.Equal(("camel", "dog"), (dog.Original, dog.Replacement));
        Assert.Equal(-0.9249, dog.Score, 1e-4);
        Assert.True(dog.Flagged);
        Assert.Equal(-0.9249, camel.Scores[ScoreNames.FillCompareMin]!.Value, 1e-4);
    }

    [Fact]
    public async Task A_benign_replacement_scores_positive()
    {
        var scores = await Score(Chat("house", "Tell me about the house.", "They bought a huge garden."), MaskEverything);

        var huge = Assert.Single(scores.Spans, s => s.Original == "huge");
        Assert.Equal("big", huge.Replacement);
        Assert.Equal(((80 + 18 - 2) + (70 + 28 - 2)) / 200.0, huge.Score, 1e-4);
        Assert.True(huge.Score > 0);
        Assert.False(huge.Flagged);
    }

    [Fact]
    public async Task The_order_of_the_nli_labels_in_config_json_does_not_change_any_score()
    {
        Dialogue[] dialogues =
        [
            Chat("geo", "A question about geography.", "The capital of France is Berlin."),
            Chat("kitten", "Describe my kitten.", "It is fluffy."),
            Chat("pet", "Describe my pet.", "It is a camel. The sky is blue. The sky is red."),
        ];
        var runs = new List<List<ScoreSpan>>();
        for (var order = 0; order < ScoringOracles.LabelOrders.Length; order++)
        {
            var spans = new List<ScoreSpan>();
            foreach (var dialogue in dialogues)
            {
                spans.AddRange((await Score(dialogue, MaskEverything, order == 0 ? "nli" : $"nli-{order}")).Spans);
            }
            runs.Add(spans);
        }

        Assert.Contains(runs[0], s => s.Kind == SpanKinds.Contradiction && s.Score > 0.9);
        foreach (var run in runs.Skip(1))
        {
            Assert.Equal(runs[0].Count, run.Count);
            for (var i = 0; i < run.Count; i++)
            {
                Assert.Equal(runs[0][i] with { Score = 0 }, run[i] with { Score = 0 });
                Assert.Equal(runs[0][i].Score, run[i].Score, 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(0.15)]
    [InlineData(1.0)]
    public async Task Every_selected_position_of_a_turn_longer_than_the_model_is_scored(double maskRate)
    {
        var words = new[] { "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten" };
        var answer = string.Join(' ', Enumerable.Range(0, 150).Select(i => words[i % 10])) + ".";
        var options = new ScoringOptions { MaskRate = maskRate, Seed = 7 };
        var dialogue = Chat("long", "Count for me, please, as far as you can.", answer);

        // The short oracle fails inside the runtime on any input over 64 tokens, as a real model would.
        var scores = await Score(dialogue, options, mlm: "mlm-short");

        var models = oracles.Shared((ModelRole.MaskedLm, "mlm-short"));
        var tokens = models.Mlm!.Tokenizer.Encode(answer, new Riverbed.Tokenization.EncodeOptions { AddSpecialTokens = false });
        Assert.True(tokens.Length > 2 * ScoringOracles.ShortLimit);
        var candidates = FillCompareScorer.Candidates(new TurnTokens(tokens), models.Mlm.Info, options);
        Assert.Equal(150, candidates.Count);
        var expected = FillCompareScorer.Select(candidates, maskRate,
            DeterministicRandom.For(options.Seed, dialogue.Id, 1, FillCompareScorer.SelectionPurpose));
        Assert.Equal((int)Math.Round(150 * maskRate, MidpointRounding.AwayFromZero), expected.Count);

        var fills = scores.Spans.Where(s => s.Kind == SpanKinds.Fill).ToList();
        Assert.Equal(expected.Select(i => tokens.Offsets[i].Start.Value), fills.Select(s => s.Start));
        Assert.All(fills, s => Assert.Equal(answer[s.Start..s.End], s.Original));
        Assert.All(fills, s => Assert.Equal(s.Original == "one" ? 1.0 : (0.80 + 0.19 - 0.01), s.Score, 1e-4));
        Assert.Equal(expected.Count, scores.Turns[1].Masked);
    }

    [Fact]
    public void Masks_sharing_an_input_lie_at_least_two_windows_apart_and_the_fewest_groups_are_used()
    {
        List<int> positions = [0, 3, 9, 10, 12, 20, 21, 35];

        var groups = FillCompareScorer.Group(positions, 10);

        Assert.Equal([[0, 10, 20, 35], [3, 21], [9], [12]], groups);
        Assert.All(groups, g => Assert.All(g.Zip(g.Skip(1)), p => Assert.True(p.Second - p.First >= 10)));
    }

    [Theory]
    [InlineData("a b c d e f g h i j k l m", 12, 13, 2, "e f g h i")]   // "g" at 12: two words either side
    [InlineData("alpha beta, gamma", 0, 5, 5, "alpha beta, gamma")]
    [InlineData("  one\ntwo  three  ", 6, 9, 1, "one\ntwo  three")]
    [InlineData("x (fluffy), y z", 3, 9, 1, "x (fluffy), y")]
    public void The_nli_window_holds_w_whitespace_words_either_side(string text, int start, int end, int words, string expected)
    {
        var (windowStart, windowEnd) = FillCompareScorer.WordWindow(text, start, end, words);

        Assert.Equal(expected, text[windowStart..windowEnd]);
    }

    [Fact]
    public void A_window_in_text_without_spaces_keeps_to_fifty_characters_per_word_each_side()
    {
        var text = new string('字', 600);

        var (start, end) = FillCompareScorer.WordWindow(text, 300, 301, 2);

        Assert.Equal((200, 401), (start, end));
    }

    [Fact]
    public void Selection_takes_the_mask_rate_rounded_with_at_least_one_and_depends_only_on_its_seed()
    {
        var candidates = Enumerable.Range(0, 40).ToList();
        DeterministicRandom Random(string id) => DeterministicRandom.For(3, id, 2, FillCompareScorer.SelectionPurpose);

        var first = FillCompareScorer.Select(candidates, 0.15, Random("x"));

        Assert.Equal(6, first.Count);
        Assert.Equal(first, FillCompareScorer.Select(candidates, 0.15, Random("x")));
        Assert.NotEqual(first, FillCompareScorer.Select(candidates, 0.15, Random("y")));
        Assert.Equal(first.Order(), first);
        Assert.Single(FillCompareScorer.Select([5, 6, 7], 0.15, Random("x")));
        Assert.Empty(FillCompareScorer.Select([], 0.15, Random("x")));
    }

    [Fact]
    public async Task Stopwords_punctuation_and_words_of_several_tokens_are_never_masked()
    {
        // "llama" is Ġll + ama; "It", "is", "a" are stopwords; "." is punctuation: nothing is left to mask.
        var scores = await Score(Chat("llama", "Describe my pet.", "It is a llama."), MaskEverything);

        Assert.Empty(scores.Spans);
        Assert.Null(scores.Scores[ScoreNames.FillCompareMin]);
        Assert.Equal(0, scores.Turns[1].Masked);
        Assert.True(scores.Decide(DecisionPolicy.Default).Keep);
    }
}
