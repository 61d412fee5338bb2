using System.Text.Json;
using Riverbed.Runner.Report;
using Riverbed.Scoring;

namespace Riverbed.Runner.Tests.Report;

/// <summary>Reading the decision policy from run.json, in each form it may take.</summary>
public sealed class ReportInputsTests
{
    [Theory]
    [InlineData("""{ "policy": { "combine": "any", "thresholds": ["fill_compare_min<0", "contradiction_max>0.5"] } }""")]
    [InlineData("""{ "policy": "any(fill_compare_min<0, contradiction_max>0.5)" }""")]
    [InlineData("""{ "scoring": { "decision": [{ "score": "fill_compare_min", "direction": "below", "value": 0 }, { "score": "contradiction_max", "value": 0.5 }] } }""")]
    public void The_policy_is_found_in_each_form_run_json_may_record_it(string config)
    {
        using var document = JsonDocument.Parse(config);
        var thresholds = RunRecord.FindThresholds(document.RootElement);
        Assert.Equal(
            [new ScoreThreshold("fill_compare_min", ThresholdDirection.Below, 0), new ScoreThreshold("contradiction_max", ThresholdDirection.Above, 0.5)],
            thresholds);
    }

    [Fact]
    public void A_policy_the_report_cannot_read_gives_no_thresholds_rather_than_wrong_ones()
    {
        using var document = JsonDocument.Parse("""{ "policy": { "thresholds": ["perplexity<3"] } }""");
        Assert.Null(RunRecord.FindThresholds(document.RootElement));
    }
}
