using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>Every shared dataset and Parquet fixture reads with exact row and turn counts (SOURCES.md, manifest.json).</summary>
public sealed class FixtureReadingTests
{
    public static TheoryData<string, string, string, long, long, long> Datasets => new()
    {
        // path under fixtures/datasets, layout, schema, rows, user turns, assistant turns
        { "halueval/general_data.json", "JSON Lines (detected from content)", "generic", 4507, 4507, 4507 },
        { "fastchat-sharegpt/dummy_conversation.json", "JSON array", "sharegpt", 500, 1000, 1000 },
        { "alpaca/alpaca_data_first2000.json", "JSON array", "alpaca", 2000, 2000, 2000 },
        { "oig/unified_joke_explanations.jsonl", "JSON Lines", "oig", 356, 356, 356 },
        { "oasst/en_100_message.jsonl", "JSON Lines", "oasst", 100, 142, 142 },
        { "oasst/en_100_tree.jsonl", "JSON Lines", "oasst", 100, 142, 142 },
        { "laion-riverbed-llmdq/test_data.json", "JSON array", "generic", 11, 11, 11 },
    };

    public static TheoryData<string, string, long, long> ParquetFiles => new()
    {
        // file under fixtures/parquet, schema, user turns, assistant turns (rows come from manifest.json)
        { "oig_flat.snappy.parquet", "oig", 356, 356 },
        { "oig_flat.zstd.parquet", "oig", 356, 356 },
        { "oig_flat_metadata_json.snappy.parquet", "oig", 356, 356 },
        { "sharegpt_nested.snappy.parquet", "sharegpt", 1000, 1000 },
        { "sharegpt_nested.zstd.parquet", "sharegpt", 1000, 1000 },
        { "alpaca_flat.snappy.parquet", "alpaca", 2000, 2000 },
        { "alpaca_flat.zstd.parquet", "alpaca", 2000, 2000 },
        { "alpaca_flat_8rowgroups.snappy.parquet", "alpaca", 2000, 2000 },
        { "messages_openai.snappy.parquet", "messages", 1000, 1000 },
        { "messages_openai.zstd.parquet", "messages", 1000, 1000 },
        { "halueval_labels.zstd.parquet", "generic", 4507, 4507 },
    };

    [Theory]
    [MemberData(nameof(Datasets))]
    public void Each_dataset_sample_reads_with_exact_row_and_turn_counts(string path, string layout, string schema, long rows, long userTurns, long assistantTurns)
    {
        var (reader, examples) = ReadAll(ShardInput.FromFile(TestPaths.Fixture("datasets", path)));
        using (reader)
        {
            Assert.Equal(layout, reader.Layout);
            Assert.Equal(schema, reader.Schema!.Schema);
            Assert.Equal(rows, examples.Count);
            Assert.Equal(0, reader.Statistics.Rejected);
            Assert.Equal(userTurns, reader.Statistics.UserTurns);
            Assert.Equal(assistantTurns, reader.Statistics.AssistantTurns);
            Assert.Equal(Enumerable.Range(0, (int)rows).Select(i => (long)i), examples.Select(example => example.Row));
        }
    }

    [Theory]
    [MemberData(nameof(ParquetFiles))]
    public void Each_parquet_fixture_reads_with_the_manifest_row_count(string file, string schema, long userTurns, long assistantTurns)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("parquet", "manifest.json")));
        var rows = manifest.RootElement.GetProperty("files").GetProperty(file).GetProperty("rows").GetInt64();
        var (reader, examples) = ReadAll(ShardInput.FromFile(TestPaths.Fixture("parquet", file)));
        using (reader)
        {
            Assert.Equal("Parquet", reader.Layout);
            Assert.Equal(schema, reader.Schema!.Schema);
            Assert.Equal(rows, examples.Count);
            Assert.Equal(0, reader.Statistics.Rejected);
            Assert.Equal(userTurns, reader.Statistics.UserTurns);
            Assert.Equal(assistantTurns, reader.Statistics.AssistantTurns);
        }
    }

    [Fact]
    public void Parquet_and_json_copies_of_a_dataset_give_the_same_turns()
    {
        var fromJson = Read(TestPaths.Fixture("datasets", "fastchat-sharegpt", "dummy_conversation.json"));
        var fromParquet = Read(TestPaths.Fixture("parquet", "sharegpt_nested.zstd.parquet"));
        Assert.Equal(fromJson.Count, fromParquet.Count);
        for (var i = 0; i < fromJson.Count; i++)
        {
            Assert.Equal(fromJson[i].Id, fromParquet[i].Id);
            Assert.Equal(fromJson[i].Turns, fromParquet[i].Turns);
        }
        var halu = Read(TestPaths.Fixture("datasets", "halueval", "general_data.json"));
        var haluParquet = Read(TestPaths.Fixture("parquet", "halueval_labels.zstd.parquet"));
        Assert.Equal(halu.Select(e => (e.Id, e.Turns[1].Text)), haluParquet.Select(e => (e.Id, e.Turns[1].Text)));
    }

    [Fact]
    public void Nested_parquet_columns_are_rendered_into_the_original_record()
    {
        var first = Read(TestPaths.Fixture("parquet", "halueval_labels.zstd.parquet"))[0];
        using var record = JsonDocument.Parse(first.Record);
        Assert.Equal("1", record.RootElement.GetProperty("ID").GetString());
        Assert.Equal(JsonValueKind.Array, record.RootElement.GetProperty("hallucination_spans").ValueKind);
        var oig = Read(TestPaths.Fixture("parquet", "oig_flat.zstd.parquet"))[0];
        using var oigRecord = JsonDocument.Parse(oig.Record);
        Assert.Equal("unified_joke_explanations", oigRecord.RootElement.GetProperty("metadata").GetProperty("source").GetString());
    }

    [Fact]
    public void Oig_turns_are_split_at_human_and_rosey_labels_only()
    {
        var first = Read(TestPaths.Fixture("datasets", "oig", "unified_joke_explanations.jsonl"))[0];
        Assert.Equal(2, first.Turns.Count);
        Assert.Equal(TurnRole.User, first.Turns[0].Role);
        Assert.StartsWith("Why is this joke funny? Q: What does a computer do", first.Turns[0].Text, StringComparison.Ordinal);
        Assert.Equal(TurnRole.Assistant, first.Turns[1].Role);
        Assert.StartsWith("Did your computer ever stop working", first.Turns[1].Text, StringComparison.Ordinal);
        Assert.Equal("unified_joke_explanations.jsonl#0", first.Id);
    }

    [Fact]
    public void Ids_come_from_the_records_own_id_fields_when_present()
    {
        Assert.Equal("identity_0", Read(TestPaths.Fixture("datasets", "fastchat-sharegpt", "dummy_conversation.json"))[0].Id);
        Assert.Equal("1", Read(TestPaths.Fixture("datasets", "halueval", "general_data.json"))[0].Id);
        var tree = Read(TestPaths.Fixture("datasets", "oasst", "en_100_tree.jsonl"))[0];
        Assert.Equal("054e1df3-35e0-4bb8-a585-607dbdcd24e0", tree.Id);
    }

    [Fact]
    public void Alpaca_input_is_appended_to_the_instruction_after_a_blank_line()
    {
        var first = Read(TestPaths.Fixture("datasets", "alpaca", "alpaca_data_first2000.json"))[0];
        Assert.Equal("Are the two sentences below grammatically correct? Output yes or no.\n\nSentence 1: I am going to the store.\nSentence 2: I goes to the store.", first.Turns[0].Text);
        Assert.Equal("No", first.Turns[1].Text);
        Assert.Equal(2, first.Line);
    }

    private static List<Example> Read(string path)
    {
        var (reader, examples) = ReadAll(ShardInput.FromFile(path));
        reader.Dispose();
        return examples;
    }

    private static (ShardReader Reader, List<Example> Examples) ReadAll(ShardInput input)
    {
        var reader = ShardReader.Open(input);
        var examples = reader.ReadRecords().Select(record => record.Example ?? throw new InvalidOperationException(record.Reject!.ToString())).ToList();
        return (reader, examples);
    }
}
