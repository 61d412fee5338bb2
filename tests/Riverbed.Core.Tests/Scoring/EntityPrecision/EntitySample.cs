using System.Text.Json;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring.EntityPrecision;

/// <summary>One assistant turn of the labelled sample and the labels of every span either heuristic tags in it.</summary>
internal sealed record LabelledTurn(string Dataset, int Index, string Text, IReadOnlyList<LabelledSpan> Spans);

/// <summary>
/// A tagged span and its hand label: <c>Entity</c> is true when the span, as a whole, is a named entity (a person,
/// place, organisation, product, work, event, language, …) or a factual value (a number, date or quantity), and false
/// otherwise (a word capitalised because it starts a sentence, line or list item, a heading word, a pronoun, a code
/// identifier, or a run that includes such a word). <c>Before</c> is true when the heuristic as it was before issue 17
/// (commit fb8be9a) tagged the span: recorded from that code when the labels were made, so that its precision stays
/// measurable without keeping a frozen copy of it.
/// </summary>
internal sealed record LabelledSpan(int Start, int End, string Text, bool Entity, bool Before);

/// <summary>
/// The seeded sample of assistant turns the entity heuristic's precision is measured on: from each of the shared
/// datasets, the assistant turns of 100–1500 characters, shuffled with <see cref="DeterministicRandom"/> (seed 17),
/// the first <see cref="PerDataset"/> of them. The labels live in tests/fixtures/entity-labels.jsonl.
/// </summary>
internal static class EntitySample
{
    public const int PerDataset = 10;

    public static string LabelsFile => Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "entity-labels.jsonl");

    public static IReadOnlyList<(string Dataset, int Index, string Text)> Draw()
    {
        var sample = new List<(string, int, string)>();
        foreach (var (dataset, turns) in Datasets())
        {
            var eligible = turns.Select((text, index) => (Text: text, Index: index)).Where(t => t.Text.Length is >= 100 and <= 1500).ToList();
            DeterministicRandom.For(17, dataset, 0, "entity-sample").Shuffle(eligible);
            sample.AddRange(eligible.Take(PerDataset).OrderBy(t => t.Index).Select(t => (dataset, t.Index, t.Text)));
        }
        return sample;
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IReadOnlyList<LabelledTurn> Labels() =>
        [.. File.ReadLines(LabelsFile).Where(line => line.Length > 0).Select(line => JsonSerializer.Deserialize<LabelledTurn>(line, Json)!)];

    /// <summary>Precision of <paramref name="find"/> over the labelled turns: labelled-true spans / tagged spans.</summary>
    public static (int Tagged, int True, IReadOnlyList<(string Text, LabelledSpan? Label)> Unlabelled) Measure(
        IReadOnlyList<LabelledTurn> turns, Func<string, IReadOnlyList<EntitySpan>> find)
    {
        var tagged = 0;
        var correct = 0;
        var unlabelled = new List<(string, LabelledSpan?)>();
        foreach (var turn in turns)
        {
            foreach (var span in find(turn.Text))
            {
                var (start, length) = span.Range.GetOffsetAndLength(turn.Text.Length);
                var label = turn.Spans.FirstOrDefault(s => s.Start == start && s.End == start + length);
                tagged++;
                if (label is null)
                {
                    unlabelled.Add((turn.Text, new LabelledSpan(start, start + length, turn.Text.Substring(start, length), false, false)));
                }
                else if (label.Entity)
                {
                    correct++;
                }
            }
        }
        return (tagged, correct, unlabelled);
    }

    /// <summary>Every assistant turn of the shared English datasets, by dataset.</summary>
    public static IEnumerable<(string Dataset, List<string> Turns)> Datasets()
    {
        yield return ("halueval", [.. File.ReadLines(TestPaths.Fixture("datasets", "halueval", "general_data.json"))
            .Where(line => line.Length > 0).Select(line => Field(JsonDocument.Parse(line).RootElement, "chatgpt_response"))]);
        yield return ("alpaca", [.. Array(TestPaths.Fixture("datasets", "alpaca", "alpaca_data_first2000.json")).Select(r => Field(r, "output"))]);
        yield return ("sharegpt", [.. Array(TestPaths.Fixture("datasets", "fastchat-sharegpt", "dummy_conversation.json"))
            .SelectMany(r => r.GetProperty("conversations").EnumerateArray())
            .Where(t => t.GetProperty("from").GetString() == "gpt").Select(t => Field(t, "value"))]);
        yield return ("oasst", [.. File.ReadLines(TestPaths.Fixture("datasets", "oasst", "en_100_tree.jsonl"))
            .Where(line => line.Length > 0).SelectMany(line => Assistant(JsonDocument.Parse(line).RootElement.GetProperty("prompt")))]);
        yield return ("laion", [.. Array(TestPaths.Fixture("datasets", "laion-riverbed-llmdq", "test_data.json")).Select(r => Field(r, "answer"))]);
    }

    private static JsonElement.ArrayEnumerator Array(string path) => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.EnumerateArray();

    private static string Field(JsonElement record, string name) => record.GetProperty(name).GetString() ?? string.Empty;

    /// <summary>Every assistant message of an oasst tree, depth first in file order.</summary>
    private static IEnumerable<string> Assistant(JsonElement node)
    {
        if (node.GetProperty("role").GetString() == "assistant")
        {
            yield return Field(node, "text");
        }
        if (node.TryGetProperty("replies", out var replies) && replies.ValueKind == JsonValueKind.Array)
        {
            foreach (var reply in replies.EnumerateArray())
            {
                foreach (var text in Assistant(reply))
                {
                    yield return text;
                }
            }
        }
    }
}
