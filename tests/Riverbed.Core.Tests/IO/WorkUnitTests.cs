using System.Text;
using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>
/// Work units inside files: where the planner cuts (JSON Lines at line ends, JSON arrays between elements, Parquet at
/// row groups), and that reading a file's units one after another gives exactly the records of reading it whole, with
/// the same rows, lines, byte offsets, ids and rejects.
/// </summary>
public sealed class WorkUnitTests
{
    private const long Small = UnitPlanner.MinimumUnitSize;

    [Fact]
    public void JSON_Lines_are_cut_just_after_a_line_end_with_CRLF_blank_lines_rejects_and_a_last_line_without_newline()
    {
        using var scratch = new ScratchFolder("units");
        var text = new StringBuilder("\uFEFF");
        for (var i = 0; i < 400; i++)
        {
            text.Append(i % 50 == 7 ? "{broken\r\n" : i % 30 == 3 ? "  \r\n" : $"{{\"instruction\":\"question {i} {new string('x', i % 40)}\",\"output\":\"answer {i}\"}}\r\n");
        }
        text.Append("{\"instruction\":\"the last one\",\"output\":\"no newline after it\"}");
        var path = scratch.File("mixed.jsonl");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
        var file = ShardInput.FromFile(path);

        var units = UnitPlanner.PlanFile(file, Small);

        Assert.True(units.Count >= 5, $"{units.Count} unit(s)");
        var bytes = File.ReadAllBytes(path);
        Assert.All(units.Skip(1), unit => Assert.Equal((byte)'\n', bytes[unit.Unit!.Start - 1]));
        Assert.Equal(0, units[0].Unit!.Start);
        Assert.Equal(bytes.Length, units[^1].Unit!.End);
        Assert.All(units.Zip(units.Skip(1)), pair => Assert.Equal(pair.First.Unit!.End, pair.Second.Unit!.Start));
        Assert.Equal(
            units.Select((_, i) => $"mixed.u{i:D5}-of-{units.Count:D5}.jsonl"),
            units.Select(unit => unit.Name));
        Assert.All(units, unit => Assert.Equal("mixed.jsonl", unit.SourceName));
        AssertSameRecords(file, units);
    }

    [Fact]
    public void A_JSON_array_is_cut_between_elements_and_reads_as_the_whole_array_does()
    {
        var file = ShardInput.FromFile(TestPaths.Fixture("datasets", "alpaca", "alpaca_data_first2000.json"));

        var units = UnitPlanner.PlanFile(file, 64 << 10);

        Assert.True(units.Count >= 10, $"{units.Count} unit(s)");
        Assert.All(units, unit => Assert.Equal(UnitKind.ArrayElements, unit.Unit!.Kind));
        var bytes = File.ReadAllBytes(file.Path);
        Assert.All(units.Skip(1), unit => Assert.Equal((byte)'{', bytes[unit.Unit!.Start]));
        AssertSameRecords(file, units);
    }

    [Fact]
    public void A_JSON_array_with_broken_elements_keeps_its_rejects_and_their_places()
    {
        using var scratch = new ScratchFolder("units");
        var text = new StringBuilder("[\n");
        for (var i = 0; i < 300; i++)
        {
            text.Append(i % 40 == 9 ? "  {\"instruction\": not json, \"output\": 1},\n" : i % 70 == 20 ? "  ,\n" : $"  {{\"instruction\": \"q{i} {new string('y', i % 60)}\", \"output\": \"a{i}\"}},\n");
        }
        text.Append("  {\"instruction\": \"last\", \"output\": \"one\"}\n]\n");
        var path = scratch.File("broken.json");
        File.WriteAllText(path, text.ToString());
        var file = ShardInput.FromFile(path);

        var units = UnitPlanner.PlanFile(file, Small);

        Assert.True(units.Count >= 3, $"{units.Count} unit(s)");
        AssertSameRecords(file, units);
    }

    [Fact]
    public void Parquet_is_cut_at_row_groups_and_reads_the_same_rows_in_order()
    {
        var file = ShardInput.FromFile(TestPaths.Fixture("parquet", "alpaca_flat_8rowgroups.snappy.parquet"));

        var units = UnitPlanner.PlanFile(file, Small);

        Assert.Equal(8, units.Count);
        Assert.All(units, unit => Assert.Equal(UnitKind.RowGroups, unit.Unit!.Kind));
        Assert.Equal(2000, units[^1].Unit!.End);
        AssertSameRecords(file, units);
    }

    [Fact]
    public void Compressed_files_and_files_no_larger_than_the_unit_are_one_unit_under_their_own_name()
    {
        using var scratch = new ScratchFolder("units");
        var gz = scratch.File("big.jsonl.gz");
        using (var stream = new System.IO.Compression.GZipStream(File.Create(gz), System.IO.Compression.CompressionLevel.NoCompression))
        {
            var line = Encoding.UTF8.GetBytes("{\"instruction\":\"q\",\"output\":\"a\"}\n");
            for (var i = 0; i < 2000; i++)
            {
                stream.Write(line);
            }
        }
        var jokes = ShardInput.FromFile(TestPaths.Fixture("datasets", "oig", "unified_joke_explanations.jsonl"));

        Assert.True(new FileInfo(gz).Length > Small);
        Assert.Equal(["big.jsonl.gz"], UnitPlanner.PlanFile(ShardInput.FromFile(gz), Small).Select(unit => unit.Name));
        var whole = Assert.Single(UnitPlanner.PlanFile(jokes, UnitPlanner.DefaultUnitSize));
        Assert.Null(whole.Unit);
        Assert.Equal("unified_joke_explanations", whole.BaseName);
    }

    [Theory]
    [InlineData("64MB", 64L << 20)]
    [InlineData("256MiB", 256L << 20)]
    [InlineData("1GB", 1L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("500k", 500L << 10)]
    [InlineData("123456", 123456L)]
    public void Unit_sizes_read_as_powers_of_two(string text, long bytes)
    {
        Assert.True(UnitPlanner.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MB")]
    [InlineData("64 parsecs")]
    [InlineData("-5MB")]
    public void Sizes_that_mean_nothing_are_refused(string text) => Assert.False(UnitPlanner.TryParseSize(text, out _));

    /// <summary>Reading the units in order gives the whole file's examples and rejects, field by field.</summary>
    private static void AssertSameRecords(ShardInput file, IReadOnlyList<ShardInput> units)
    {
        var whole = Read(file);
        var pieces = units.SelectMany(Read).ToList();
        Assert.Equal(whole.Count, pieces.Count);
        Assert.Equal(whole, pieces);
    }

    private static List<string> Read(ShardInput input)
    {
        using var reader = ShardReader.Open(input);
        return reader.ReadRecords().Select(record => record.Example is { } example
                ? $"example {example.Id} {example.Source} row {example.Row} line {example.Line} at {example.ByteOffset}: {Encoding.UTF8.GetString(example.Record.Span)}"
                : $"reject {record.Reject!.File} row {record.Reject.Row} line {record.Reject.Line} at {record.Reject.ByteOffset} {record.Reject.Kind}: {record.Reject.Message}")
            .ToList();
    }
}
