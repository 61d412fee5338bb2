using System.Text.Json;

namespace Riverbed.Runner.Tests.IO;

public sealed class InspectCommandTests
{
    [Fact]
    public void Inspect_reports_the_schema_and_exact_counts_of_every_dataset_sample()
    {
        var result = Cli.Run("inspect", TestPaths.Fixture("datasets") + "/*/*", "--json", "--limit", "1");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var reports = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(report => report.GetProperty("name").GetString()!);
        var expected = new Dictionary<string, (string Schema, long Records, long Turns)>
        {
            ["alpaca/alpaca_data_first2000.json"] = ("alpaca", 2000, 4000),
            ["fastchat-sharegpt/dummy_conversation.json"] = ("sharegpt", 500, 2000),
            ["halueval/general_data.json"] = ("generic", 4507, 9014),
            ["laion-riverbed-llmdq/test_data.json"] = ("generic", 11, 22),
            ["oasst/en_100_message.jsonl"] = ("oasst", 100, 284),
            ["oasst/en_100_tree.jsonl"] = ("oasst", 100, 284),
            ["oig/unified_joke_explanations.jsonl"] = ("oig", 356, 712),
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), reports.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (schema, records, turns)) in expected)
        {
            var report = reports[name];
            Assert.Equal(schema, report.GetProperty("schema").GetString());
            Assert.Equal(records, report.GetProperty("records").GetInt64());
            Assert.Equal(records, report.GetProperty("examples").GetInt64());
            Assert.Equal(turns, report.GetProperty("turns").GetInt64());
            Assert.Equal(1, report.GetProperty("sample_examples").GetArrayLength());
        }
        Assert.Contains("user_query", reports["halueval/general_data.json"].GetProperty("schema_reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_shows_the_detected_schema_and_normalized_turns_as_text()
    {
        var result = Cli.Run("inspect", TestPaths.Fixture("parquet", "sharegpt_nested.zstd.parquet"), "--limit", "2");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("layout:  Parquet", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("schema:  sharegpt (field 'conversations' is a list of {from, value} turns", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("records: 500 (500 examples, 0 rejected)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("example identity_1 (row 1, 2 turns)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("assistant My name is Vicuna", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_lists_rejects_by_kind_with_their_lines()
    {
        using var scratch = new ScratchFolder("inspect");
        var path = scratch.File("bad.jsonl");
        File.WriteAllBytes(path, MalformedDataset.Bytes());
        var result = Cli.Run("inspect", path, "--max-line-bytes", MalformedDataset.MaxLineBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("records: 21 (3 examples, 18 rejected, 1 blank lines skipped)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("rejects: duplicate_key 1, invalid_json 5, invalid_utf8 4, line_too_long 1, missing_field 1, no_bot_turn 1, not_an_object 1, too_deep 1, unexpected_bom 1, unknown_role 1, wrong_type 1", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{path}:2: invalid_json:", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_names_each_broken_parquet_file_and_exits_nonzero()
    {
        var broken = TestPaths.Fixture("parquet", "broken");
        var result = Cli.Run("inspect", broken);
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        foreach (var name in new[] { "truncated_footer.parquet", "truncated_midfile.parquet", "zero_bytes.parquet", "footer_body_cut_tail_intact.parquet" })
        {
            Assert.Contains($"error: {Path.Combine(broken, name)}: cannot open: cannot read it as Parquet", result.StandardOutput, StringComparison.Ordinal);
        }
        Assert.Contains("4 of 4 files could not be read", result.StandardError, StringComparison.Ordinal);
    }
}
