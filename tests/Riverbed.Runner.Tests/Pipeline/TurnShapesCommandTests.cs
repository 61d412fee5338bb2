using System.Text.Json;
using Riverbed.Scoring;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.Pipeline;

/// <summary>
/// <c>riverbed score</c> on the turn shapes curators have today (tests/fixtures/turns): OpenAI tool calls and tool
/// outputs, preference pairs, every branch of an oasst tree, and evidence that leaves code and other languages alone.
/// Scored with the demo models, whose scores are random: the tests check which turns are scored and how, not values.
/// </summary>
public sealed class TurnShapesCommandTests
{
    private static string Fixture(string name) => Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "turns", name);

    private static List<JsonElement> Score(ScratchFolder scratch, string fixture, params string[] options)
    {
        var output = scratch.File("out-" + Guid.NewGuid().ToString("N")[..8]);
        var result = Cli.Run(["score", Fixture(fixture), "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", .. options]);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.False(File.Exists(Path.Combine(output, Path.ChangeExtension(fixture, ".rejects.jsonl"))), "no record is rejected");
        return Rows(Path.Combine(output, Path.ChangeExtension(fixture, ".jsonl")));
    }

    private static string[] Speakers(JsonElement row) => [.. row.GetProperty("riverbed_turns").EnumerateArray().Select(t => t.GetProperty("speaker").GetString()!)];

    private static IEnumerable<JsonElement> Spans(JsonElement row, string? kind = null) =>
        row.GetProperty("riverbed_spans").EnumerateArray().Where(s => kind is null || s.GetProperty("kind").GetString() == kind);

    private static int? Int(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    [Fact]
    public void Tool_calls_and_tool_outputs_are_context_and_only_assistant_prose_is_scored()
    {
        using var scratch = new ScratchFolder("turns-tools");
        var rows = Score(scratch, "openai-tools.jsonl");
        Assert.Equal(3, rows.Count);
        Assert.Equal(["system", "user", "tool_call", "tool", "assistant"], Speakers(rows[0]));
        Assert.Equal(["user", "tool_call", "tool", "assistant"], Speakers(rows[1]));
        // A message with prose and tool calls is two turns: the prose (scored) and its calls (context).
        Assert.Equal(["user", "assistant", "tool_call", "tool", "tool", "assistant"], Speakers(rows[2]));
        var turns = rows[0].GetProperty("riverbed_turns");
        Assert.Equal("get_weather({\"city\": \"Paris\", \"unit\": \"celsius\"})", turns[2].GetProperty("text").GetString());
        Assert.Equal("lookup_population({\"city\": \"Tokyo\"})", rows[1].GetProperty("riverbed_turns")[1].GetProperty("text").GetString());
        Assert.Equal("exchange_rate({\"from\": \"USD\", \"to\": \"EUR\"})\nconvert({\"amount\": 100})", rows[2].GetProperty("riverbed_turns")[2].GetProperty("text").GetString());
        foreach (var row in rows)
        {
            var speakers = Speakers(row);
            Assert.NotEmpty(Spans(row));
            Assert.All(Spans(row), span => Assert.Equal("assistant", speakers[span.GetProperty("turn").GetInt32()]));
            foreach (var turn in row.GetProperty("riverbed_turns").EnumerateArray().Where(t => t.GetProperty("speaker").GetString()!.StartsWith("tool", StringComparison.Ordinal)))
            {
                Assert.Equal(JsonValueKind.Null, turn.GetProperty("masked").ValueKind);
                Assert.Equal(JsonValueKind.Null, turn.GetProperty("replaced_token_max").ValueKind);
            }
        }

        // Asked to, the tool turns are scored like assistant turns.
        var withTools = Score(scratch, "openai-tools.jsonl", "--score-tool-turns");
        var toolSpans = withTools.SelectMany(row => Spans(row).Where(span => Speakers(row)[span.GetProperty("turn").GetInt32()].StartsWith("tool", StringComparison.Ordinal))).ToList();
        Assert.Contains(toolSpans, span => span.GetProperty("kind").GetString() == SpanKinds.Fill);
        Assert.Equal(JsonValueKind.Number, withTools[0].GetProperty("riverbed_turns")[3].GetProperty("replaced_token_max").ValueKind);
    }

    [Fact]
    public void A_preference_pair_is_one_row_whose_chosen_and_rejected_answers_are_scored_on_their_own_branches_and_filtered_together()
    {
        using var scratch = new ScratchFolder("turns-preference");
        var output = scratch.File("scored");
        var run = Cli.Run("score", Fixture("preference.jsonl"), "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl");
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Equal("preference", Json(Path.Combine(output, "preference.manifest.json")).GetProperty("schema").GetProperty("name").GetString());
        var rows = Rows(Path.Combine(output, "preference.jsonl"));
        Assert.Equal(["strings", "hh", "ultra-1", "multi"], rows.Select(r => r.GetProperty("riverbed_id").GetString()));

        // (speaker, branch, parent) of every turn: the shared prompt, then the chosen branch, then the rejected one,
        // whose first turn follows the prompt, not the chosen answer.
        (string, string?, int?)[] Layout(JsonElement row) => [.. row.GetProperty("riverbed_turns").EnumerateArray().Select(t =>
            (t.GetProperty("speaker").GetString()!, t.GetProperty("branch").GetString(), Int(t.GetProperty("parent"))))];
        (string, string?, int?)[] single = [("user", null, -1), ("assistant", "chosen", 0), ("assistant", "rejected", 0)];
        Assert.Equal(single, Layout(rows[0]));
        Assert.Equal(single, Layout(rows[1]));
        Assert.Equal(single, Layout(rows[2]));
        Assert.Equal([("user", null, -1), ("assistant", null, 0), ("user", null, 1), ("assistant", "chosen", 2), ("assistant", "rejected", 2)], Layout(rows[3]));
        Assert.Equal("Who wrote Pride and Prejudice?", rows[1].GetProperty("riverbed_turns")[0].GetProperty("text").GetString());
        Assert.Equal("Charles Dickens wrote it in 1900.", rows[1].GetProperty("riverbed_turns")[2].GetProperty("text").GetString());

        foreach (var row in rows)
        {
            var branches = row.GetProperty("riverbed_turns").EnumerateArray().Select(t => t.GetProperty("branch").GetString()).ToArray();
            var fillTurns = Spans(row, SpanKinds.Fill).Select(s => branches[s.GetProperty("turn").GetInt32()]).ToHashSet();
            Assert.Contains("chosen", fillTurns);
            Assert.Contains("rejected", fillTurns);
            // The two answers are alternatives: no sentence of one is compared with a sentence of the other.
            foreach (var pair in Spans(row, SpanKinds.Contradiction).GroupBy(s => s.GetProperty("pair").GetInt32()))
            {
                var sides = pair.Select(s => branches[s.GetProperty("turn").GetInt32()]).Where(b => b is not null).Distinct().Count();
                Assert.True(sides <= 1, $"pair {pair.Key} of {row.GetProperty("riverbed_id")} compares the chosen and the rejected answer");
            }
        }

        // filter keeps or removes a pair as one row: every row comes out once, with both its answers.
        var filtered = scratch.File("filtered");
        var filter = Cli.Run("filter", output, "--output", filtered, "--format", "jsonl", "--threshold", "replaced_entity_max=0.3");
        Assert.True(filter.ExitCode == ExitCodes.Success, filter.ToString());
        var out_ = Directory.GetFiles(filtered, "preference.jsonl", SearchOption.AllDirectories).SelectMany(Rows).ToList();
        Assert.Equal(rows.Select(r => r.GetProperty("riverbed_id").GetString()).Order(), out_.Select(r => r.GetProperty("riverbed_id").GetString()).Order());
        Assert.All(out_, row => Assert.Equal(["chosen", "rejected"], row.GetProperty("riverbed_turns").EnumerateArray()
            .Select(t => t.GetProperty("branch").GetString()).OfType<string>().Distinct()));

        // The report labels each answer with its branch, and says the rejected one answers the prompt, not the chosen answer.
        var page = scratch.File("report.html");
        var report = Cli.Run("report", output, "-o", page);
        Assert.True(report.ExitCode == ExitCodes.Success, report.ToString());
        var html = File.ReadAllText(page);
        Assert.Contains("<div class=\"branch\">branch chosen</div>", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"branch\">branch rejected, follows turn 0</div>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_branch_of_an_oasst_tree_is_scored_when_asked_each_with_its_own_path_as_context()
    {
        using var scratch = new ScratchFolder("turns-oasst");
        var best = Score(scratch, "oasst-trees.jsonl");
        Assert.Equal(["user", "assistant"], Speakers(best[0]));
        Assert.StartsWith("Seasons happen", best[0].GetProperty("riverbed_turns")[1].GetProperty("text").GetString(), StringComparison.Ordinal);

        var all = Score(scratch, "oasst-trees.jsonl", "--oasst-branches", "all");
        Assert.Equal(2, all.Count);
        var turns = all[0].GetProperty("riverbed_turns").EnumerateArray().ToList();
        // Depth first in file order; the deleted reply and the unanswered prompter message are left out.
        Assert.Equal([("user", null, -1), ("assistant", "0", 0), ("user", "0.0", 1), ("assistant", "0.0.0", 2), ("assistant", "1", 0)],
            turns.Select(t => (t.GetProperty("speaker").GetString()!, t.GetProperty("branch").GetString(), Int(t.GetProperty("parent")))));
        var masked = Spans(all[0], SpanKinds.Fill).Select(s => s.GetProperty("turn").GetInt32()).ToHashSet();
        Assert.Superset(new HashSet<int> { 1, 3, 4 }, masked);
        Assert.Equal(3, masked.Count);
        // Sibling answers (turn 4 against turns 1 and 3) are never compared with each other.
        foreach (var pair in Spans(all[0], SpanKinds.Contradiction).GroupBy(s => s.GetProperty("pair").GetInt32()))
        {
            var sides = pair.Select(s => s.GetProperty("turn").GetInt32()).ToHashSet();
            Assert.False(sides.Contains(4) && sides.Count > 1, $"pair {pair.Key} compares sibling branches");
        }
        Assert.Equal(["user", "assistant"], Speakers(all[1]));
    }

    [Fact]
    public void Text_in_another_language_is_noted_and_skipped_or_flagged_and_code_is_neither_masked_nor_an_entity()
    {
        using var scratch = new ScratchFolder("turns-evidence");
        var rows = Score(scratch, "evidence.jsonl");
        var byId = rows.ToDictionary(r => r.GetProperty("riverbed_id").GetString()!);
        Assert.DoesNotContain(Strings(byId["english"].GetProperty("riverbed_skipped")), note => note.StartsWith("language:", StringComparison.Ordinal));
        Assert.NotEmpty(Spans(byId["english"]));
        foreach (var id in new[] { "spanish", "chinese" })
        {
            var notes = Strings(byId[id].GetProperty("riverbed_skipped"));
            Assert.Contains(notes, note => note.StartsWith("language: turn 1 not scored, not English (", StringComparison.Ordinal));
            Assert.Empty(Spans(byId[id]));
            Assert.Equal(JsonValueKind.Null, byId[id].GetProperty("riverbed_turns")[1].GetProperty("masked").ValueKind);
            Assert.Equal("keep", byId[id].GetProperty("riverbed_decision").GetString());
        }

        var code = byId["code"];
        var text = code.GetProperty("riverbed_turns")[1].GetProperty("text").GetString()!;
        var regions = CodeSpans.Find(text);
        Assert.Equal(7, regions.Count); // `open`, `with`, the fenced block, `encoding`, <pre><code>…</code></pre>, <div …>, the indented block
        Assert.NotEmpty(Spans(code, SpanKinds.Fill));
        foreach (var span in Spans(code).Where(s => s.GetProperty("kind").GetString() is SpanKinds.Fill or SpanKinds.Entity))
        {
            Assert.False(CodeSpans.Overlaps(regions, span.GetProperty("start").GetInt32(), span.GetProperty("end").GetInt32()),
                $"{span.GetProperty("kind")} span '{span.GetProperty("original")}' lies in code");
        }
        Assert.Contains(Spans(code, SpanKinds.Entity), s => s.GetProperty("original").GetString() == "Windows");

        var flagged = Score(scratch, "evidence.jsonl", "--other-language", "flag").ToDictionary(r => r.GetProperty("riverbed_id").GetString()!);
        Assert.Contains(Strings(flagged["spanish"].GetProperty("riverbed_skipped")), note => note.StartsWith("language: turn 1 may not be English (", StringComparison.Ordinal)
            && note.EndsWith("scored anyway", StringComparison.Ordinal));
        Assert.NotEmpty(Spans(flagged["spanish"]));
    }
}
