using Riverbed.Scoring;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// Checklist D1–D3: the same input and configuration give the same decisions and scores (within 1e-5) whatever the
/// batch budget or the number of sessions, and byte-identical shards for identical settings. The runs use the demo
/// models, so all three scorers and all their request kinds go through the batcher; the tiny budget also shows it
/// never deadlocks when each batch holds a single request and one session serves each role.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DeterminismTests
{
    private const string Limit = "24";

    [Fact]
    public void Batch_budgets_and_session_counts_change_neither_decisions_nor_scores_and_reruns_are_byte_identical()
    {
        using var scratch = new ScratchFolder("determinism");
        var reference = ScoreInto(scratch, "reference", "--batch-tokens", "4096", "--sessions", "1");
        var tiny = ScoreInto(scratch, "tiny", "--batch-tokens", "16", "--sessions", "1");
        var sessions = ScoreInto(scratch, "sessions", "--batch-tokens", "1024", "--sessions", "2", "--threads", "1");
        var again = ScoreInto(scratch, "again", "--batch-tokens", "4096", "--sessions", "1");

        Assert.Equal(Sha256(Path.Combine(reference, "unified_joke_explanations.jsonl")), Sha256(Path.Combine(again, "unified_joke_explanations.jsonl")));
        Assert.Equal(Sha256(Path.Combine(reference, "unified_joke_explanations.stats.json")), Sha256(Path.Combine(again, "unified_joke_explanations.stats.json")));
        var expected = ScoredOutput.Rows(Path.Combine(reference, "unified_joke_explanations.jsonl"));
        Assert.Equal(24, expected.Count);
        Assert.Contains(expected, row => row.GetProperty("riverbed_spans").GetArrayLength() > 0);
        foreach (var other in new[] { tiny, sessions })
        {
            var rows = ScoredOutput.Rows(Path.Combine(other, "unified_joke_explanations.jsonl"));
            Assert.Equal(expected.Count, rows.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                Assert.Equal(expected[i].GetProperty("riverbed_decision").GetString(), rows[i].GetProperty("riverbed_decision").GetString());
                Assert.Equal(Strings(expected[i].GetProperty("riverbed_reasons")), Strings(rows[i].GetProperty("riverbed_reasons")));
                foreach (var name in ScoreNames.All)
                {
                    AssertClose(Score(expected[i], name), Score(rows[i], name), $"row {i} {name}");
                }
                var spans = expected[i].GetProperty("riverbed_spans");
                var otherSpans = rows[i].GetProperty("riverbed_spans");
                Assert.Equal(spans.GetArrayLength(), otherSpans.GetArrayLength());
                for (var s = 0; s < spans.GetArrayLength(); s++)
                {
                    foreach (var field in new[] { "kind", "original", "replacement" })
                    {
                        Assert.Equal(spans[s].GetProperty(field).ToString(), otherSpans[s].GetProperty(field).ToString());
                    }
                    Assert.Equal(spans[s].GetProperty("start").GetInt32(), otherSpans[s].GetProperty("start").GetInt32());
                    AssertClose(spans[s].GetProperty("score").GetDouble(), otherSpans[s].GetProperty("score").GetDouble(), $"row {i} span {s}");
                }
            }
        }
    }

    private static string ScoreInto(ScratchFolder scratch, string name, params string[] settings)
    {
        var output = scratch.File(name);
        var result = Cli.Run(["score", PipelineModels.Jokes, "--models", PipelineModels.Demo, "--output", output, "--limit", Limit, "--format", "jsonl", .. settings]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        return output;
    }

    private static void AssertClose(double? expected, double? actual, string what)
    {
        Assert.True(expected.HasValue == actual.HasValue, $"{what}: {expected} vs {actual}");
        if (expected is { } e && actual is { } a)
        {
            Assert.True(Math.Abs(e - a) <= 1e-5, $"{what}: {e} vs {a}");
        }
    }
}
