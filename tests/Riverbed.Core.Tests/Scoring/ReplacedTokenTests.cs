using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>Replaced-token detection through the real runtime: an oracle discriminator marking chosen ids.</summary>
[Collection(ScoringOracles.Collection)]
public sealed class ReplacedTokenTests(ScoringOracles oracles)
{
    private const string Answer = "Barack Obama was born in Honolulu, Hawaii in 1961.";

    private static readonly Dialogue Obama = new("obama",
    [
        new DialogueTurn(Speaker.System, "You are helpful."),
        new DialogueTurn(Speaker.User, "Where was Obama born?"),
        new DialogueTurn(Speaker.Assistant, Answer),
    ]);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private async Task<DialogueScores> Score(Dialogue dialogue, params (ModelRole, string)[] roles)
    {
        var models = oracles.Shared(roles);
        return await new DialogueScorer(new DirectModelBackend(models)).ScoreAsync(dialogue);
    }

    private static (string Text, string? Kind, int Start, double Score, bool Flagged)[] Entities(DialogueScores scores) =>
        [.. scores.Spans.Where(s => s.Kind == SpanKinds.Entity).Select(s => (s.Original, s.Replacement, s.Start, Math.Round(s.Score, 5), s.Flagged))];

    [Fact]
    public async Task Without_a_ner_model_the_heuristic_entities_score_the_mean_probability_of_their_tokens()
    {
        var scores = await Score(Obama, (ModelRole.ReplacedTokenDetection, "rtd"));

        // "Barack" starts the sentence, so the heuristic's name is "Obama" alone.
        var obama = Sigmoid(ScoringOracles.ObamaLogit);
        var hawaii = Sigmoid(ScoringOracles.HawaiiLogit);
        var year = Sigmoid(ScoringOracles.YearLogit);
        var other = Sigmoid(ScoringOracles.OtherLogit);
        Assert.Equal(
        [
            ("Obama", EntityKinds.Name, 7, Math.Round(obama, 5), true),
            ("Honolulu", EntityKinds.Name, 25, Math.Round(other, 5), false),
            ("Hawaii", EntityKinds.Name, 35, Math.Round(hawaii, 5), true),
            ("1961", EntityKinds.Date, 45, Math.Round(year, 5), true),
        ], Entities(scores));
        Assert.Equal("heuristic", scores.ReplacedTokens!.EntitySource);

        var turn = scores.Turns[2];
        Assert.Equal(obama, turn.ReplacedEntityMax!.Value, 1e-6);
        Assert.Equal(obama, turn.ReplacedTokenMax!.Value, 1e-6);
        // 11 tokens: barack obama was born in honolulu , hawaii in 1961 .
        Assert.Equal((obama + hawaii + year + (8 * other)) / 11, turn.ReplacedTokenMean!.Value, 1e-6);
        Assert.Equal(obama, scores.Scores[ScoreNames.ReplacedEntityMax]!.Value, 1e-6);
        Assert.Null(scores.Turns[1].ReplacedEntityMax);
        Assert.Equal(["replaced_entity_max>0.5"], scores.Decide(DecisionPolicy.Default).Reasons);
    }

    [Fact]
    public async Task With_a_ner_model_its_bio_entities_are_scored_instead()
    {
        var scores = await Score(Obama, (ModelRole.ReplacedTokenDetection, "rtd"), (ModelRole.TokenClassification, "ner"));

        var barackObama = (Sigmoid(ScoringOracles.OtherLogit) + Sigmoid(ScoringOracles.ObamaLogit)) / 2;
        Assert.Equal(
        [
            ("Barack Obama", "PER", 0, Math.Round(barackObama, 5), false),
            ("Honolulu", "LOC", 25, Math.Round(Sigmoid(ScoringOracles.OtherLogit), 5), false),
            ("Hawaii", "LOC", 35, Math.Round(Sigmoid(ScoringOracles.HawaiiLogit), 5), true),
        ], Entities(scores));
        Assert.Equal("ner", scores.ReplacedTokens!.EntitySource);
        Assert.Equal(2, scores.ReplacedTokens.Entities[0].Tokens);
        Assert.Equal(Sigmoid(ScoringOracles.HawaiiLogit), scores.Scores[ScoreNames.ReplacedEntityMax]!.Value, 1e-6);
    }

    [Fact]
    public async Task A_turn_without_entities_scores_zero_and_long_turns_are_windowed_with_every_token_scored()
    {
        // 40 repetitions of "obama is here ." is 160 tokens against a limit of 24: windows; every "obama" is marked.
        var answer = string.Concat(Enumerable.Repeat("obama is here. ", 40)).TrimEnd();
        var dialogue = new Dialogue("long", [new DialogueTurn(Speaker.User, "hi"), new DialogueTurn(Speaker.Assistant, answer),
            new DialogueTurn(Speaker.User, "and?"), new DialogueTurn(Speaker.Assistant, "nothing here at all.")]);

        var scores = await Score(dialogue, (ModelRole.ReplacedTokenDetection, "rtd-short"));

        var turn = scores.Turns[1];
        var expectedMean = ((40 * Sigmoid(ScoringOracles.ObamaLogit)) + (120 * Sigmoid(ScoringOracles.OtherLogit))) / 160;
        Assert.Equal(expectedMean, turn.ReplacedTokenMean!.Value, 1e-6);
        Assert.Equal(Sigmoid(ScoringOracles.ObamaLogit), turn.ReplacedTokenMax!.Value, 1e-6);
        Assert.Equal(0.0, turn.ReplacedEntityMax); // lower-case "obama" is no name to the heuristic
        Assert.Equal(0.0, scores.Turns[3].ReplacedEntityMax);
        Assert.Equal(0.0, scores.Scores[ScoreNames.ReplacedEntityMax]);
        Assert.Equal(160, scores.ReplacedTokens!.Turns[0].Tokens);
    }
}
