using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Riverbed.Runner.Tests.IO;

public sealed class ConvertCommandTests
{
    [Fact]
    public void Every_fixture_converts_with_reconciled_counts_and_a_rerun_skips_them_all()
    {
        using var scratch = new ScratchFolder("convert");
        var output = scratch.File("out");
        string[] inputs = [TestPaths.Fixture("datasets") + "/*/*", TestPaths.Fixture("parquet") + "/*.parquet"];
        var first = Cli.Run(["convert", .. inputs, "--output", output]);
        Assert.True(first.ExitCode == ExitCodes.Success, first.ToString());
        Assert.Contains("done: 18 written, 0 skipped (complete), 0 failed; rows in 21,149, out 21,149, rejected 0", first.StandardOutput, StringComparison.Ordinal);

        using var parquetManifest = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("parquet", "manifest.json")));
        foreach (var file in parquetManifest.RootElement.GetProperty("files").EnumerateObject().Where(f => !f.Name.StartsWith("broken/", StringComparison.Ordinal)))
        {
            var manifest = ReadManifest(output, file.Name[..^".parquet".Length]);
            Assert.Equal(file.Value.GetProperty("rows").GetInt64(), manifest.GetProperty("rows_in").GetInt64());
            Assert.Equal(manifest.GetProperty("rows_in").GetInt64(), manifest.GetProperty("rows_out").GetInt64());
            Assert.Equal(manifest.GetProperty("outputs")[0].GetProperty("rows").GetInt64(), manifest.GetProperty("rows_out").GetInt64());
        }
        Assert.Equal(4507, ReadManifest(output, "halueval/general_data").GetProperty("rows_out").GetInt64());
        Assert.Equal(356, ReadManifest(output, "oig/unified_joke_explanations").GetProperty("rows_out").GetInt64());

        var before = Snapshot(output);
        var second = Cli.Run(["convert", .. inputs, "--output", output]);
        Assert.True(second.ExitCode == ExitCodes.Success, second.ToString());
        Assert.Contains("done: 0 written, 18 skipped (complete), 0 failed", second.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(output));
    }

    [Fact]
    public void A_tampered_or_deleted_output_is_redone_by_the_next_run()
    {
        using var scratch = new ScratchFolder("convert");
        var output = scratch.File("out");
        var input = TestPaths.Fixture("datasets", "oig", "unified_joke_explanations.jsonl");
        Assert.Equal(ExitCodes.Success, Cli.Run("convert", input, "--output", output).ExitCode);
        var shard = Path.Combine(output, "unified_joke_explanations.parquet");
        var original = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, original[..(original.Length / 2)]);
        var rerun = Cli.Run("convert", input, "--output", output);
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("redone (unified_joke_explanations.parquet does not match its manifest", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(shard));
    }

    [Fact]
    public void Malformed_records_go_to_the_rejects_file_with_their_lines_kinds_and_visible_raw_bytes()
    {
        using var scratch = new ScratchFolder("convert");
        var input = scratch.File("bad.jsonl");
        File.WriteAllBytes(input, MalformedDataset.Bytes());
        var result = Cli.Run("convert", input, "--output", scratch.File("out"), "--format", "jsonl", "--max-line-bytes", MaxLine);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var manifest = ReadManifest(scratch.File("out"), "bad");
        Assert.Equal((21L, 3L, 18L, 0L), (manifest.GetProperty("rows_in").GetInt64(), manifest.GetProperty("rows_out").GetInt64(),
            manifest.GetProperty("rows_rejected").GetInt64(), manifest.GetProperty("rows_failed").GetInt64()));
        Assert.Equal(5, manifest.GetProperty("rejects_by_kind").GetProperty("invalid_json").GetInt64());

        var rejects = File.ReadAllLines(scratch.File("out", "bad.rejects.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(MalformedDataset.Rejects, rejects.Select(r => ((int)r.GetProperty("line").GetInt64(), r.GetProperty("kind").GetString()!)).ToList());
        Assert.All(rejects, r => Assert.Equal(input, r.GetProperty("file").GetString()));
        var ff = rejects.Single(r => r.GetProperty("line").GetInt64() == 10);
        Assert.Equal("utf-8+hex-escapes", ff.GetProperty("raw_encoding").GetString());
        Assert.StartsWith("{\"id\":\"r10\",\"note\":\"bad \\xFF\",", ff.GetProperty("raw").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\uFFFD', File.ReadAllText(scratch.File("out", "bad.rejects.jsonl")));
        var tooLong = rejects.Single(r => r.GetProperty("kind").GetString() == "line_too_long");
        Assert.True(tooLong.GetProperty("raw_truncated").GetBoolean());
        Assert.Equal(4096, tooLong.GetProperty("raw").GetString()!.Length);

        var kept = File.ReadAllLines(scratch.File("out", "bad.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["r1", "r13", "r21"], kept.Select(k => k.GetProperty("riverbed_id").GetString()));
        Assert.Equal([0L, 12, 19], kept.Select(k => k.GetProperty("riverbed_row").GetInt64()));
    }

    [Fact]
    public void On_bad_record_fail_stops_at_the_first_one_naming_file_and_line()
    {
        using var scratch = new ScratchFolder("convert");
        var input = scratch.File("bad.jsonl");
        File.WriteAllBytes(input, MalformedDataset.Bytes());
        var result = Cli.Run("convert", input, "--output", scratch.File("out"), "--on-bad-record", "fail");
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains($"riverbed: error: {input}:2: invalid_json:", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.File("out", "bad.parquet")));
        Assert.False(File.Exists(scratch.File("out", "bad.manifest.json")));
    }

    [Theory]
    [InlineData("17", false)]
    [InlineData("18", true)]
    [InlineData("80%", false)]
    [InlineData("90%", true)]
    public void A_shard_over_its_reject_budget_fails_alone(string budget, bool commits)
    {
        using var scratch = new ScratchFolder("convert");
        var bad = scratch.File("bad.jsonl");
        File.WriteAllBytes(bad, MalformedDataset.Bytes());
        var good = TestPaths.Fixture("datasets", "laion-riverbed-llmdq", "test_data.json");
        var result = Cli.Run("convert", bad, good, "--output", scratch.File("out"), "--max-rejects", budget, "--max-line-bytes", MaxLine);
        Assert.True(result.ExitCode == (commits ? ExitCodes.Success : ExitCodes.PartialFailure), result.ToString());
        Assert.Equal(commits, File.Exists(scratch.File("out", "bad.manifest.json")));
        Assert.Equal(commits, File.Exists(scratch.File("out", "bad.parquet")));
        Assert.True(File.Exists(scratch.File("out", "test_data.manifest.json")));
        if (!commits)
        {
            Assert.Contains("over the budget", result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_broken_parquet_input_fails_only_its_own_shard_and_is_named()
    {
        using var scratch = new ScratchFolder("convert");
        var broken = TestPaths.Fixture("parquet", "broken", "truncated_footer.parquet");
        var good = TestPaths.Fixture("parquet", "alpaca_flat.zstd.parquet");
        var result = Cli.Run("convert", broken, good, "--output", scratch.File("out"));
        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        Assert.Contains($"{broken}: FAILED: {broken}: cannot open: cannot read it as Parquet", result.StandardError, StringComparison.Ordinal);
        Assert.True(File.Exists(scratch.File("out", "alpaca_flat.zstd.manifest.json")));
        Assert.False(File.Exists(scratch.File("out", "truncated_footer.parquet")));
    }

    [Fact]
    public void Input_names_that_would_escape_the_output_folder_are_refused()
    {
        using var scratch = new ScratchFolder("convert");
        Directory.CreateDirectory(scratch.File("in"));
        File.WriteAllText(scratch.File("in", "..jsonl"), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
        File.WriteAllText(scratch.File("in", "ok.jsonl"), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
        var result = Cli.Run("convert", scratch.File("in", "..jsonl"), scratch.File("in", "ok.jsonl"), "--output", scratch.File("in", "out"));
        Assert.Equal(ExitCodes.PartialFailure, result.ExitCode);
        Assert.Contains("'.' or '..' segment", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(["..jsonl", "ok.jsonl", "out"], Directory.EnumerateFileSystemEntries(scratch.File("in")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["ok.manifest.json", "ok.parquet"], Directory.EnumerateFiles(scratch.File("in", "out")).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_output_folder_inside_an_input_folder_is_refused_before_anything_is_written()
    {
        using var scratch = new ScratchFolder("convert");
        File.WriteAllText(scratch.File("data.jsonl"), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
        var result = Cli.Run("convert", scratch.Path, "--output", scratch.File("out"));
        Assert.Equal(ExitCodes.Failure, result.ExitCode);
        Assert.Contains("is inside the input folder", result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(scratch.File("out")));
    }

    private static readonly string MaxLine = MalformedDataset.MaxLineBytes.ToString(CultureInfo.InvariantCulture);

    internal static JsonElement ReadManifest(string output, string shard) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, shard + ".manifest.json"))).RootElement;

    internal static Dictionary<string, string> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => !Path.GetFileName(path).StartsWith('.'))
            .ToDictionary(path => Path.GetRelativePath(folder, path), path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))) + File.GetLastWriteTimeUtc(path).Ticks);
}
