using System.Text.Json;
using Riverbed.IO.Writing;

namespace Riverbed.Core.Tests.IO;

/// <summary>
/// The Parquet writer merges the shape the reader observed for each record instead of parsing the record again; a
/// merge must give exactly the column types that observing every record in order gives.
/// </summary>
public sealed class JsonShapeMergeTests
{
    /// <summary>Record sequences, one record per line.</summary>
    public static TheoryData<string> Sequences => new()
    {
        """{"a": 1}""" + "\n" + """{"a": 2.5}""",
        """{"a": 9007199254740993}""" + "\n" + """{"a": 0.5}""",
        """{"a": 0.5}""" + "\n" + """{"a": 9007199254740993}""",
        """{"a": 0.1234567890123456789}""",
        """{"a": "x"}""" + "\n" + """{"a": {"b": 1}}""" + "\n" + """{"a": {"b": 2}}""",
        """{"a": null}""" + "\n" + """{"a": null}""",
        """{"a": []}""" + "\n" + """{"a": [1, 2.5]}""" + "\n" + """{"a": [[]]}""",
        """{"a": [{"x": 1}, {"y": "s"}]}""" + "\n" + """{"a": [{"X": true}]}""",
        """{"a": {}}""" + "\n" + """{"b": [null, 1]}""" + "\n" + """{"a": {"c": [1e400]}}""",
        """{"a": [1, "x"]}""" + "\n" + """{"a": [2]}""",
        """{"n": -0}""" + "\n" + """{"n": 1E2}""" + "\n" + """{"n": true}""",
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Merging_each_records_shape_gives_the_types_observing_them_in_order_gives(string lines)
    {
        var records = lines.Split('\n');
        Assert.Equal(Observed(records), Merged(records));
    }

    [Fact]
    public void Merging_agrees_with_observing_on_a_thousand_seeded_random_record_sequences()
    {
        var random = new Random(20261205);
        for (var sequence = 0; sequence < 1000; sequence++)
        {
            var records = Enumerable.Range(0, random.Next(1, 6)).Select(_ => "{" + string.Join(", ",
                Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"\"{(char)('a' + random.Next(3))}\": {Value(random, 2)}").Distinct()) + "}").ToArray();
            records = [.. records.Where(IsValid)];
            Assert.True(Observed(records) == Merged(records), string.Join(" | ", records));
        }
    }

    [Fact]
    public void The_reader_gives_each_record_its_shape_only_when_the_output_needs_it()
    {
        var input = Riverbed.IO.ShardInput.FromFile(TestPaths.Fixture("datasets", "oig", "unified_joke_explanations.jsonl"));
        using (var plain = Riverbed.IO.ShardReader.Open(input))
        {
            Assert.All(plain.ReadRecords().Take(20).Select(r => r.Example).OfType<Riverbed.IO.Example>(), example => Assert.Null(example.Shape));
        }
        using var reader = Riverbed.IO.ShardReader.Open(input, observeShapes: true);
        var examples = reader.ReadRecords().Take(20).Select(r => r.Example).OfType<Riverbed.IO.Example>().ToList();
        Assert.NotEmpty(examples);
        var merged = new JsonShape();
        foreach (var example in examples)
        {
            merged.Merge(example.Shape!);
        }
        Assert.Equal(Observed(examples.Select(example => System.Text.Encoding.UTF8.GetString(example.Record.Span))), merged.ToSql());
    }

    private static string Value(Random random, int depth) => random.Next(depth > 0 ? 9 : 7) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => random.Next(-5, 5).ToString(System.Globalization.CultureInfo.InvariantCulture),
        3 => random.Next(3) switch { 0 => "0.5", 1 => "0.1234567890123456789", _ => "2.5e3" },
        4 => "9007199254740993",
        5 => "\"s\"",
        6 => random.Next(2) == 0 ? "{}" : "[]",
        7 => "[" + string.Join(", ", Enumerable.Range(0, random.Next(0, 3)).Select(_ => Value(random, depth - 1))) + "]",
        _ => "{" + string.Join(", ", Enumerable.Range(0, random.Next(0, 3)).Select(i => $"\"{(char)('x' + i)}\": {Value(random, depth - 1)}")) + "}",
    };

    private static bool IsValid(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Observed(IEnumerable<string> records)
    {
        var shape = new JsonShape();
        foreach (var record in records)
        {
            using var document = JsonDocument.Parse(record);
            shape.Observe(document.RootElement);
        }
        return shape.ToSql();
    }

    private static string Merged(IEnumerable<string> records)
    {
        var shape = new JsonShape();
        foreach (var record in records)
        {
            using var document = JsonDocument.Parse(record);
            var one = new JsonShape();
            one.Observe(document.RootElement);
            shape.Merge(one);
        }
        return shape.ToSql();
    }
}
