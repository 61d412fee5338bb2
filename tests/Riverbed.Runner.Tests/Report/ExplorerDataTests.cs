using System.Buffers.Binary;
using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Runner.Tests.Report;

/// <summary>
/// What the explorer embeds: every row's scores bit for bit (the page must decide on the values filter reads), each
/// row's source, and above the row limit a seeded sample that the page names as such.
/// </summary>
public sealed class ExplorerDataTests(GeneratedReportFixture fixture) : IClassFixture<GeneratedReportFixture>
{
    private static readonly string[] Scores = ["fill_compare_min", "fill_compare_mean", "replaced_entity_max", "contradiction_max"];

    [Fact]
    public void Every_rows_scores_are_embedded_exactly_with_its_source()
    {
        Assert.True(fixture.Result.ExitCode == 0, fixture.Result.ToString());
        using var data = EmbeddedData(fixture.Document!);
        var root = data.RootElement;
        var shards = Directory.EnumerateFiles(fixture.Run.OutputFolder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var recorded = new Dictionary<string, List<long>>();
        var perSource = new Dictionary<string, long>();
        using (var query = ShardQuery.Open())
        using (var result = query.Run($"SELECT riverbed_source, {string.Join(", ", Scores.Select(s => "riverbed_" + s))} FROM {ShardQuery.ParquetScan(shards)}"))
        {
            foreach (var row in result.Rows())
            {
                perSource[row[0].AsString()] = perSource.GetValueOrDefault(row[0].AsString()) + 1;
                for (var i = 0; i < Scores.Length; i++)
                {
                    var value = row[1 + i].IsNull ? double.NaN : row[1 + i].AsDouble();
                    (recorded.TryGetValue(Scores[i], out var list) ? list : recorded[Scores[i]] = []).Add(BitConverter.DoubleToInt64Bits(value));
                }
            }
        }
        Assert.Equal(perSource.Values.Sum(), root.GetProperty("rows").GetInt64());
        Assert.Equal(perSource.Values.Sum(), root.GetProperty("total").GetInt64());
        Assert.False(root.GetProperty("sampled").GetBoolean());
        foreach (var score in root.GetProperty("scores").EnumerateArray())
        {
            var embedded = Doubles(score.GetProperty("values").GetString()!).Select(BitConverter.DoubleToInt64Bits).Order().ToList();
            Assert.Equal(recorded[score.GetProperty("name").GetString()!].Order(), embedded);
        }
        var sources = root.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
        var index = Indices(root.GetProperty("sourceIndex").GetString()!);
        Assert.Equal(perSource.OrderBy(p => p.Key, StringComparer.Ordinal),
            index.GroupBy(i => sources[i]).Select(g => KeyValuePair.Create(g.Key, (long)g.Count())).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(perSource.OrderBy(p => p.Key, StringComparer.Ordinal),
            root.GetProperty("sources").EnumerateArray().Select(s => KeyValuePair.Create(s.GetProperty("name").GetString()!, s.GetProperty("total").GetInt64())));
        // The starting point is the run's policy, so the page's first command changes nothing.
        Assert.True(root.GetProperty("baseKnown").GetBoolean());
        Assert.Equal("<", root.GetProperty("scores")[0].GetProperty("start").GetProperty("dir").GetString());
    }

    [Fact]
    public void Above_the_row_limit_a_seeded_sample_is_embedded_and_the_page_says_so()
    {
        var path = Path.Combine(fixture.Scratch, "sampled.html");
        var again = Path.Combine(fixture.Scratch, "sampled-again.html");
        var result = Cli.Run("report", fixture.Run.OutputFolder, "-o", path, "--explorer-rows", "100", "--seed", "s1");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, Cli.Run("report", fixture.Run.OutputFolder, "-o", again, "--explorer-rows", "100", "--seed", "s1").ExitCode);
        var document = ReportDocument.Load(path);
        using var data = EmbeddedData(document);
        Assert.Equal(100, data.RootElement.GetProperty("rows").GetInt32());
        Assert.True(data.RootElement.GetProperty("sampled").GetBoolean());
        Assert.True(data.RootElement.GetProperty("total").GetInt64() > 100);
        Assert.Equal(100, Indices(data.RootElement.GetProperty("sourceIndex").GetString()!).Length);
        var basis = document.All("p").Single(p => (string?)p.Attribute("id") == "x-basis").Value;
        Assert.Contains("A seeded sample of 100 of the ", basis, StringComparison.Ordinal);
        Assert.Contains("seed 's1'", basis, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void A_group_by_column_the_shards_lack_is_refused_naming_the_columns_they_have()
    {
        var result = Cli.Run("report", fixture.Run.OutputFolder, "-o", Path.Combine(fixture.Scratch, "nope.html"), "--group-by", "no_such_column");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--group-by no_such_column: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("has no such column; its columns: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("riverbed_source", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(fixture.Scratch, "nope.html")));
    }

    [Fact]
    public void A_group_by_column_is_counted_per_value()
    {
        var path = Path.Combine(fixture.Scratch, "grouped.html");
        var result = Cli.Run("report", fixture.Run.OutputFolder, "-o", path, "--group-by", "riverbed_source");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var data = EmbeddedData(ReportDocument.Load(path));
        var root = data.RootElement;
        Assert.Equal("riverbed_source", root.GetProperty("groupColumn").GetString());
        // Grouping by the source column gives the sources again, row for row.
        var groups = root.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!).ToList();
        var sources = root.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
        Assert.Equal(Indices(root.GetProperty("sourceIndex").GetString()!).Select(i => sources[i]),
            Indices(root.GetProperty("groupIndex").GetString()!).Select(i => groups[i]));
    }

    [Fact]
    public void Json_lines_shards_group_by_any_column_the_most_frequent_values_one_by_one_and_the_rest_together()
    {
        using var scratch = new ScratchFolder("explorer-jsonl");
        var run = ScoredRunGenerator.Create(scratch.Path, new ScoredRunSpec { Rows = 120, Format = OutputFormat.JsonLines });
        foreach (var column in (string[])["id", "messages"])
        {
            var path = scratch.File(column + ".html");
            var result = Cli.Run("report", run.OutputFolder, "-o", path, "--group-by", column);
            Assert.True(result.ExitCode == 0, result.ToString());
            using var data = EmbeddedData(ReportDocument.Load(path));
            var root = data.RootElement;
            var groups = root.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!).ToList();
            var index = Indices(root.GetProperty("groupIndex").GetString()!);
            Assert.Equal(root.GetProperty("rows").GetInt32(), index.Length);
            // Every row has its own id and its own dialogue: 60 values shown, the other rows counted together.
            Assert.Equal(61, groups.Count);
            Assert.Equal("(other values)", groups[^1]);
            Assert.Equal(index.Length - 60, index.Count(i => i == 60));
            if (column == "messages")
            {
                Assert.StartsWith("[{", groups[0], StringComparison.Ordinal);
            }
        }

        // A field inside a column by a dotted name; where the column holds no object (messages is a list), no value.
        var nested = scratch.File("nested.html");
        var inside = Cli.Run("report", run.OutputFolder, "-o", nested, "--group-by", "messages.role");
        Assert.True(inside.ExitCode == 0, inside.ToString());
        using var nestedData = EmbeddedData(ReportDocument.Load(nested));
        Assert.Equal(["(null)"], nestedData.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!));
        var bad = Cli.Run("report", run.OutputFolder, "-o", nested, "--group-by", "messages..role");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--group-by messages..role: give a column, or a column and the fields inside it joined by dots", bad.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_threshold_and_combine_set_the_starting_point_and_the_runs_policy_stays_the_base_of_the_command()
    {
        var path = Path.Combine(fixture.Scratch, "start.html");
        var result = Cli.Run("report", fixture.Run.OutputFolder, "-o", path,
            "--threshold", "fill_compare_min=0.2", "--threshold", "contradiction_max=off", "--combine", "all");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var data = EmbeddedData(ReportDocument.Load(path));
        var root = data.RootElement;
        var scores = root.GetProperty("scores").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(0.2, scores["fill_compare_min"].GetProperty("start").GetProperty("value").GetDouble());
        Assert.Equal(0.0, scores["fill_compare_min"].GetProperty("base").GetProperty("value").GetDouble());
        Assert.Equal(JsonValueKind.Null, scores["contradiction_max"].GetProperty("start").ValueKind);
        Assert.Equal(">", scores["contradiction_max"].GetProperty("base").GetProperty("dir").GetString());
        Assert.Equal("all", root.GetProperty("startCombine").GetString());
        Assert.Equal("any", root.GetProperty("baseCombine").GetString());
    }

    private static JsonDocument EmbeddedData(ReportDocument document) =>
        JsonDocument.Parse((string)document.All("div").Single(d => (string?)d.Attribute("id") == "x-data").Attribute("data-explorer")!);

    private static double[] Doubles(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        return Enumerable.Range(0, bytes.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8))).ToArray();
    }

    private static int[] Indices(string text)
    {
        var bytes = Convert.FromBase64String(text[4..]);
        return text.StartsWith("u16:", StringComparison.Ordinal)
            ? Enumerable.Range(0, bytes.Length / 2).Select(i => (int)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))).ToArray()
            : Enumerable.Range(0, bytes.Length / 4).Select(i => (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4))).ToArray();
    }
}
