using System.Globalization;
using System.Text.Json;
using Riverbed.Runner.Tests.Pipeline;
using ZstdSharp;
using static Riverbed.Runner.Tests.Pipeline.ScoredOutput;

namespace Riverbed.Runner.Tests.IO;

/// <summary>
/// Inputs as curators get them: .jsonl.zst, .jsonl.xz and .json.zst scored as streams with every count and reject
/// line kept; cut-off compressed files fail their own shard by name; folders without a readable file are errors that
/// say what they hold; skipped files are listed with their reasons.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CompressedInputTests
{
    private static readonly string MaxLine = MalformedDataset.MaxLineBytes.ToString(CultureInfo.InvariantCulture);

    private static byte[] Zstd(byte[] data)
    {
        using var compressed = new MemoryStream();
        using (var zstd = new CompressionStream(compressed, 3))
        {
            zstd.Write(data);
        }
        return compressed.ToArray();
    }

    private static byte[] Compress(string extension, byte[] data) => extension.EndsWith(".zst", StringComparison.Ordinal) ? Zstd(data) : XzFile.Compress(data);

    [Theory]
    [InlineData(".jsonl.zst")]
    [InlineData(".jsonl.xz")]
    public void A_compressed_json_lines_file_scores_like_the_plain_one_with_its_rejects_on_their_lines(string extension)
    {
        using var scratch = new ScratchFolder("compressed");
        var folder = scratch.File("in");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "chats" + extension), Compress(extension, MalformedDataset.Bytes()));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "where the data came from");
        var output = scratch.File("out");

        var result = Cli.Run("score", folder, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", "--max-line-bytes", MaxLine);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains($"skipped {folder}/notes.txt: unsupported file type .txt", result.StandardOutput, StringComparison.Ordinal);
        var manifest = Json(Path.Combine(output, "chats.manifest.json"));
        Assert.Equal((21, 3, 18), (manifest.GetProperty("rows_in").GetInt32(), manifest.GetProperty("rows_out").GetInt32(), manifest.GetProperty("rows_rejected").GetInt32()));
        Assert.Equal(MalformedDataset.GoodLines.Count, Rows(Path.Combine(output, "chats.jsonl")).Count);
        var rejects = Rows(Path.Combine(output, "chats.rejects.jsonl"));
        Assert.Equal(MalformedDataset.Rejects, rejects.Select(r => ((int)r.GetProperty("line").GetInt64(), r.GetProperty("kind").GetString()!)).ToList());
        Assert.All(rejects, r => Assert.Equal($"{folder}/chats{extension}", r.GetProperty("file").GetString()));
    }

    [Fact]
    public void A_zstd_json_array_is_streamed_element_by_element_and_scored()
    {
        using var scratch = new ScratchFolder("compressed");
        var sample = TestPaths.Fixture("datasets", "laion-riverbed-llmdq", "test_data.json");
        var input = scratch.File("test_data.json.zst");
        File.WriteAllBytes(input, Zstd(File.ReadAllBytes(sample)));
        var records = JsonDocument.Parse(File.ReadAllBytes(sample)).RootElement.GetArrayLength();

        var inspect = Cli.Run("inspect", input);
        Assert.True(inspect.ExitCode == ExitCodes.Success, inspect.ToString());
        Assert.Contains("layout:  JSON array (zstd)", inspect.StandardOutput, StringComparison.Ordinal);

        var output = scratch.File("out");
        var result = Cli.Run("score", input, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl");
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var manifest = Json(Path.Combine(output, "test_data.manifest.json"));
        Assert.Equal((records, records, 0), (manifest.GetProperty("rows_in").GetInt32(), manifest.GetProperty("rows_out").GetInt32(), manifest.GetProperty("rows_rejected").GetInt32()));
        Assert.Equal(Enumerable.Range(0, records).Select(i => (long)i), Rows(Path.Combine(output, "test_data.jsonl")).Select(r => r.GetProperty("riverbed_row").GetInt64()));
    }

    [Fact]
    public void A_cut_off_compressed_file_fails_its_own_shard_by_name_and_line_and_the_others_commit()
    {
        const int Rows = 20_000;
        using var scratch = new ScratchFolder("compressed");
        var folder = scratch.File("in");
        Directory.CreateDirectory(folder);
        // Random text, so the compressed data spans many blocks and a cut falls after some lines were read.
        var data = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, Rows).Select(i =>
            JsonSerializer.Serialize(new { instruction = $"Repeat {i}.", output = $"Here it is: {Guid.NewGuid():N} {Guid.NewGuid():N}." }) + "\n")));
        var zst = Zstd(data);
        var xz = XzFile.Compress(data);
        File.WriteAllBytes(Path.Combine(folder, "cut-zst.jsonl.zst"), zst[..(zst.Length / 2)]);
        File.WriteAllBytes(Path.Combine(folder, "cut-xz.jsonl.xz"), xz[..(xz.Length / 2)]);
        File.WriteAllBytes(Path.Combine(folder, "whole.jsonl.zst"), zst);
        var output = scratch.File("out");

        var result = Cli.Run("convert", folder, "--output", output, "--format", "jsonl");

        Assert.True(result.ExitCode == ExitCodes.PartialFailure, result.ToString());
        Assert.Contains($"{folder}/cut-zst.jsonl.zst: failed at line ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("corrupt or truncated zstd data", result.StandardError, StringComparison.Ordinal);
        Assert.Contains($"{folder}/cut-xz.jsonl.xz: failed at line ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("corrupt or truncated xz data", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "cut-zst.manifest.json")));
        Assert.False(File.Exists(Path.Combine(output, "cut-xz.manifest.json")));
        Assert.Equal(Rows, Json(Path.Combine(output, "whole.manifest.json")).GetProperty("rows_out").GetInt32());
    }

    [Fact]
    public void A_folder_without_a_readable_file_is_an_error_that_names_what_it_holds()
    {
        using var scratch = new ScratchFolder("unsupported");
        var folder = scratch.File("data");
        Directory.CreateDirectory(folder);
        foreach (var name in new[] { "a.txt", "b.csv", "c.xz.part" })
        {
            File.WriteAllText(Path.Combine(folder, name), "not a dataset");
        }

        var score = Cli.Run("score", folder, "--output", scratch.File("out"));
        Assert.True(score.ExitCode == ExitCodes.Failure, score.ToString());
        Assert.Contains($"no dataset files in {folder}: found 3 entries that Riverbed does not read (a.txt: unsupported file type .txt; " +
            "b.csv: unsupported file type .csv; c.xz.part: unsupported file type .part); Riverbed reads .jsonl, .ndjson, .json (each also as .gz, .zst or .xz) and .parquet",
            score.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(scratch.File("out")));

        var empty = scratch.File("empty");
        Directory.CreateDirectory(empty);
        var inspect = Cli.Run("inspect", empty);
        Assert.True(inspect.ExitCode == ExitCodes.Failure, inspect.ToString());
        Assert.Contains($"no dataset files in {empty}: it is empty", inspect.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_lists_every_skipped_file_with_its_reason()
    {
        using var scratch = new ScratchFolder("skipped");
        var folder = scratch.File("data");
        Directory.CreateDirectory(Path.Combine(folder, ".cache"));
        File.WriteAllBytes(Path.Combine(folder, "chats.jsonl.zst"), Zstd(MalformedDataset.Bytes()));
        File.WriteAllText(Path.Combine(folder, "dump.jsonl.bz2"), "x");
        File.WriteAllText(Path.Combine(folder, "chats.rejects.jsonl"), "{}");

        var result = Cli.Run("inspect", folder, "--max-line-bytes", MaxLine);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains($"== {folder}/.cache/: skipped, a hidden folder, not searched", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"== {folder}/chats.rejects.jsonl: skipped, one of Riverbed's own output files", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"== {folder}/dump.jsonl.bz2: skipped, .bz2 compression, which Riverbed does not read: recompress as .gz, .zst or .xz", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("records: 21 (3 examples, 18 rejected, 1 blank lines skipped)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("layout:  JSON Lines (zstd)", result.StandardOutput, StringComparison.Ordinal);
    }
}
