using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class DecisionPolicyTests
{
    private static Dictionary<string, double?> Scores(double? fill = null, double? entity = null, double? contradiction = null) => new()
    {
        [ScoreNames.FillCompareMin] = fill,
        [ScoreNames.ReplacedEntityMax] = entity,
        [ScoreNames.ContradictionMax] = contradiction,
    };

    [Fact]
    public void The_default_policy_drops_a_contradicting_fill_with_its_reason()
    {
        var decision = DecisionPolicy.Default.Decide(Scores(fill: -0.92, entity: 0.1, contradiction: 0.2));
        Assert.False(decision.Keep);
        Assert.Equal(["fill_compare_min<0"], decision.Reasons);
    }

    [Fact]
    public void The_default_policy_keeps_an_example_below_every_threshold()
    {
        Assert.Equal(Decision.Kept, DecisionPolicy.Default.Decide(Scores(fill: 0.92, entity: 0.5, contradiction: 0.5)));
    }

    [Fact]
    public void Missing_scores_never_trigger()
    {
        Assert.True(DecisionPolicy.Default.Decide(Scores()).Keep);
    }

    [Fact]
    public void All_requires_every_threshold_to_trigger()
    {
        var policy = DecisionPolicy.Default.With([], ThresholdCombination.All);
        Assert.True(policy.Decide(Scores(fill: -1, entity: 0.9, contradiction: 0.1)).Keep);
        var dropped = policy.Decide(Scores(fill: -1, entity: 0.9, contradiction: 0.9));
        Assert.False(dropped.Keep);
        Assert.Equal(3, dropped.Reasons.Count);
    }

    [Theory]
    [InlineData("fill_compare_min=-0.5", ThresholdDirection.Below, -0.5)]
    [InlineData("contradiction_max=0.8", ThresholdDirection.Above, 0.8)]
    [InlineData("replaced_entity_max<0.3", ThresholdDirection.Below, 0.3)]
    [InlineData(" fill_compare_mean > 1e-2 ", ThresholdDirection.Above, 0.01)]
    public void Thresholds_parse_with_the_natural_or_an_explicit_direction(string text, ThresholdDirection direction, double value)
    {
        var threshold = ScoreThreshold.Parse(text);
        Assert.Equal(direction, threshold.Direction);
        Assert.Equal(value, threshold.Value);
    }

    [Theory]
    [InlineData("nonsense=1", "unknown score")]
    [InlineData("fill_compare_min=abc", "not a number")]
    [InlineData("fill_compare_min", "not of the form")]
    [InlineData("contradiction_max=NaN", "not a number")]
    public void Bad_thresholds_are_refused_with_a_reason(string text, string expected)
    {
        var error = Assert.Throws<RiverbedException>(() => ScoreThreshold.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overrides_replace_thresholds_by_score_name()
    {
        var policy = DecisionPolicy.Default.With([ScoreThreshold.Parse("fill_compare_min=-0.95")]);
        Assert.True(policy.Decide(Scores(fill: -0.92)).Keep);
        Assert.Equal(3, policy.Thresholds.Count);
    }
}
