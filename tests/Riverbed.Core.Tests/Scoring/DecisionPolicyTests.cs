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

public sealed class ThresholdSettingTests
{
    private static Dictionary<string, double?> Scores(double? fill = null, double? entity = null, double? contradiction = null) => new()
    {
        [ScoreNames.FillCompareMin] = fill,
        [ScoreNames.ReplacedEntityMax] = entity,
        [ScoreNames.ContradictionMax] = contradiction,
    };

    [Fact]
    public void Off_removes_a_score_threshold_so_it_never_triggers()
    {
        var policy = DecisionPolicy.Default.With(ThresholdSetting.ParseAll(["contradiction_max=off"]), null);
        Assert.Equal(["fill_compare_min<0", "replaced_entity_max>0.5"], policy.Thresholds.Select(t => t.Reason));
        Assert.True(policy.Decide(Scores(fill: 0.5, entity: 0.1, contradiction: 0.99)).Keep);
    }

    [Fact]
    public void A_score_given_twice_is_refused_naming_both_settings()
    {
        var error = Assert.Throws<RiverbedException>(() => ThresholdSetting.ParseAll(["fill_compare_min=0.1", "contradiction_max=0.9", "fill_compare_min=off"]));
        Assert.Contains("fill_compare_min is given twice ('fill_compare_min=0.1' and 'fill_compare_min=off')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_combine_subset_keeps_only_the_named_thresholds_in_its_order()
    {
        var policy = DecisionPolicy.Default.With([], CombineRule.Parse("all:contradiction_max,fill_compare_min"));
        Assert.Equal(ThresholdCombination.All, policy.Combination);
        Assert.Equal(["contradiction_max>0.5", "fill_compare_min<0"], policy.Thresholds.Select(t => t.Reason));
        Assert.True(policy.Decide(Scores(fill: -1, entity: 0.99, contradiction: 0.1)).Keep);
        Assert.False(policy.Decide(Scores(fill: -1, entity: 0.1, contradiction: 0.9)).Keep);
    }

    [Theory]
    [InlineData("some", "must be any, all")]
    [InlineData("any:", "names no score")]
    [InlineData("any:fluency", "unknown score 'fluency'")]
    [InlineData("all:contradiction_max,contradiction_max", "names a score twice")]
    public void Bad_combine_rules_are_refused(string text, string message)
    {
        var error = Assert.Throws<RiverbedException>(() => CombineRule.Parse(text));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subset_naming_a_score_without_a_threshold_is_refused()
    {
        var error = Assert.Throws<RiverbedException>(() =>
            DecisionPolicy.Default.With(ThresholdSetting.ParseAll(["contradiction_max=off"]), CombineRule.Parse("any:contradiction_max")));
        Assert.Contains("names contradiction_max, which has no threshold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_settings_from_one_policy_to_another_reproduce_it()
    {
        var target = DecisionPolicy.Default.With(ThresholdSetting.ParseAll(["fill_compare_min=-0.25", "replaced_entity_max=off", "fill_compare_mean<0.3"]),
            CombineRule.Parse("all"));
        var (thresholds, combine) = target.SettingsFrom(DecisionPolicy.Default);
        Assert.Equal(["fill_compare_min<-0.25", "fill_compare_mean<0.3", "replaced_entity_max=off"], thresholds);
        Assert.Equal("all", combine);
        var rebuilt = DecisionPolicy.Default.With(ThresholdSetting.ParseAll(thresholds), CombineRule.Parse(combine!));
        Assert.Equal(target.Combination, rebuilt.Combination);
        Assert.Equal(target.Thresholds.OrderBy(t => t.Score, StringComparer.Ordinal), rebuilt.Thresholds.OrderBy(t => t.Score, StringComparer.Ordinal));
    }
}
