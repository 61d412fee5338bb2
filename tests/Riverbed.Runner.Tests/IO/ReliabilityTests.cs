using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Riverbed.Runner.Tests.Pipeline;

namespace Riverbed.Runner.Tests.IO;

/// <summary>
/// Issue 14's broken promises, each reproduced through the real CLI as a hostile user found it: links that make the
/// output the input or lead the control folder elsewhere, links fingerprinted instead of their data. Every manifest a
/// test leaves must reconcile (rows in = out + rejected + failed).
/// </summary>
public sealed class ReliabilityTests
{
    private static string[] Score(string input, string output, params string[] more) =>
        ["score", input, "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", .. more];

    [Fact]
    public void An_output_folder_that_is_a_link_to_the_input_folder_is_refused_and_the_inputs_are_untouched()
    {
        using var scratch = new ScratchFolder("rel-outlink");
        var inputs = WriteJokes(scratch.File("in"), shards: 2, rows: 4);
        var before = Hashes(inputs);
        var output = scratch.File("out");
        File.CreateSymbolicLink(output, inputs);

        var score = Cli.Run(Score(inputs, output));
        Assert.True(score.ExitCode == ExitCodes.Failure, score.ToString());
        Assert.Contains("is the input folder", score.StandardError, StringComparison.Ordinal);
        Assert.Contains("after following symbolic links", score.StandardError, StringComparison.Ordinal);
        var convert = Cli.Run("convert", inputs, "--output", output, "--format", "jsonl");
        Assert.True(convert.ExitCode == ExitCodes.Failure, convert.ToString());
        Assert.DoesNotContain("   at ", convert.StandardError, StringComparison.Ordinal);

        // A link to a folder inside the inputs is the same hole one level down.
        Directory.CreateDirectory(Path.Combine(inputs, "deeper"));
        var nested = scratch.File("nested");
        File.CreateSymbolicLink(nested, Path.Combine(inputs, "deeper"));
        var inside = Cli.Run(Score(inputs, nested));
        Assert.True(inside.ExitCode == ExitCodes.Failure, inside.ToString());
        Assert.Contains("is inside the input folder", inside.StandardError, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(inputs, "deeper"));
        Assert.Equal(before, Hashes(inputs));
    }

    [Fact]
    public void A_control_folder_that_is_a_link_out_of_the_output_folder_is_refused_and_nothing_is_written_there()
    {
        using var scratch = new ScratchFolder("rel-ctllink");
        var inputs = WriteJokes(scratch.File("in"), shards: 1, rows: 3);
        var elsewhere = scratch.File("elsewhere");
        Directory.CreateDirectory(elsewhere);
        var output = scratch.File("out");
        Directory.CreateDirectory(output);
        File.CreateSymbolicLink(Path.Combine(output, ".riverbed"), elsewhere);

        var score = Cli.Run(Score(inputs, output));
        Assert.True(score.ExitCode == ExitCodes.Failure, score.ToString());
        Assert.Contains(".riverbed leads outside the output folder", score.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", score.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));

        // A lock owner note that is a link is replaced, never written through.
        File.Delete(Path.Combine(output, ".riverbed"));
        var victim = scratch.File("victim.txt");
        File.WriteAllText(victim, "keep me");
        File.CreateSymbolicLink(Path.Combine(output, ".part-0.lock.owner"), victim);
        var rerun = Cli.Run(Score(inputs, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Equal("keep me", File.ReadAllText(victim));
        AssertCountsReconcile(output);
    }

    [Fact]
    public void A_linked_input_is_fingerprinted_by_its_target_so_a_grown_target_is_scored_again_and_inspect_shows_its_size()
    {
        using var scratch = new ScratchFolder("rel-inlink");
        // The HuggingFace cache layout: snapshots/<rev>/data.jsonl is a link to blobs/<hash>.
        var blob = scratch.File("blobs", "3f2a9c");
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var lines = File.ReadLines(PipelineModels.Jokes).Take(8).ToList();
        File.WriteAllLines(blob, lines.Take(5));
        var snapshot = scratch.File("snapshots", "main");
        Directory.CreateDirectory(snapshot);
        var link = Path.Combine(snapshot, "data.jsonl");
        File.CreateSymbolicLink(link, blob);
        var output = scratch.File("out");

        var first = Cli.Run(Score(snapshot, output));
        Assert.True(first.ExitCode == ExitCodes.Success, first.ToString());
        Assert.Contains("data.jsonl: 5 in,", first.StandardOutput, StringComparison.Ordinal);
        var manifest = ReadManifest(output, "data");
        Assert.Equal(new FileInfo(blob).Length, manifest.GetProperty("input").GetProperty("bytes").GetInt64());
        Assert.Equal(blob, manifest.GetProperty("input").GetProperty("resolved_path").GetString());

        File.AppendAllLines(blob, lines.Skip(5));
        File.SetLastWriteTimeUtc(blob, File.GetLastWriteTimeUtc(blob).AddSeconds(5));
        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Incomplete, status.ToString());
        Assert.Contains("input changed since the commit", status.StandardOutput, StringComparison.Ordinal);
        var rerun = Cli.Run(Score(snapshot, output));
        Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
        Assert.Contains("data.jsonl: 8 in,", rerun.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(output, "data.jsonl")).Length);
        AssertCountsReconcile(output);

        var inspect = Cli.Run("inspect", link);
        Assert.True(inspect.ExitCode == ExitCodes.Success, inspect.ToString());
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"({new FileInfo(blob).Length:N0} bytes, a link to {blob})"), inspect.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>Writes <paramref name="shards"/> JSON Lines shards of OIG joke dialogues named part-0, part-1, ….</summary>
    internal static string WriteJokes(string folder, int shards, int rows)
    {
        Directory.CreateDirectory(folder);
        var lines = File.ReadLines(PipelineModels.Jokes).Take(shards * rows).ToList();
        for (var i = 0; i < shards; i++)
        {
            File.WriteAllLines(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"part-{i}.jsonl")), lines.Skip(i * rows).Take(rows));
        }
        return folder;
    }

    internal static Dictionary<string, string> Hashes(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(path => Path.GetRelativePath(folder, path), path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))), StringComparer.Ordinal);

    internal static JsonElement ReadManifest(string output, string baseName) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, baseName + ".manifest.json"))).RootElement;

    /// <summary>Every manifest under <paramref name="output"/>: rows in = out + rejected + failed, and at least one exists.</summary>
    internal static void AssertCountsReconcile(string output)
    {
        var manifests = Directory.EnumerateFiles(output, "*.manifest.json", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(manifests);
        foreach (var path in manifests)
        {
            var manifest = JsonDocument.Parse(File.ReadAllBytes(path)).RootElement;
            var rowsIn = manifest.GetProperty("rows_in").GetInt64();
            var accounted = manifest.GetProperty("rows_out").GetInt64() + manifest.GetProperty("rows_rejected").GetInt64() + manifest.GetProperty("rows_failed").GetInt64();
            Assert.True(rowsIn == accounted, $"{path}: {rowsIn} in, {accounted} out + rejected + failed");
        }
    }
}
