using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Parquet;
using Parquet.Schema;
using Riverbed.Runner.Tests.Pipeline;

namespace Riverbed.Runner.Tests.IO;

/// <summary>
/// Issue 14's broken promises, each reproduced through the real CLI as a hostile user found it: links that make the
/// output the input or lead the control folder elsewhere, links fingerprinted instead of their data. Every manifest a
/// test leaves must reconcile (rows in = out + rejected + failed).
/// </summary>
[Trait("Category", "Slow")]
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

    [Fact]
    public void A_record_nested_deeper_than_64_but_within_max_depth_is_scored_into_parquet_and_filtered_and_one_past_the_limit_is_rejected()
    {
        using var scratch = new ScratchFolder("rel-depth");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "deep.jsonl"),
        [
            """{"instruction":"What is a river?","output":"A river is a natural stream of water flowing to the sea."}""",
            $$"""{"instruction":"Describe a lake.","output":"A lake is a large body of still water.","meta":{{Nested(100)}}}""",
            $$"""{"instruction":"Describe a pond.","output":"A pond is a small body of still water.","meta":{{Nested(128)}}}""",
            $$"""{"instruction":"Describe a sea.","output":"A sea is a large body of salt water.","meta":{{Nested(129)}}}""",
        ]);
        var output = scratch.File("out");
        var score = Cli.Run(["score", inputs, "--models", PipelineModels.Demo, "--output", output]);
        Assert.True(score.ExitCode == ExitCodes.Success, score.ToString());
        Assert.DoesNotContain("   at ", score.AllOutput, StringComparison.Ordinal);
        var manifest = ReadManifest(output, "deep");
        Assert.Equal(4, manifest.GetProperty("rows_in").GetInt64());
        Assert.Equal(3, manifest.GetProperty("rows_out").GetInt64());
        Assert.Equal(1, manifest.GetProperty("rejects_by_kind").GetProperty("too_deep").GetInt64());
        AssertCountsReconcile(output);

        var convert = Cli.Run("convert", inputs, "--output", scratch.File("converted"));
        Assert.True(convert.ExitCode == ExitCodes.Success, convert.ToString());
        AssertCountsReconcile(scratch.File("converted"));
        var filter = Cli.Run("filter", output, "--output", scratch.File("filtered"), "--format", "jsonl");
        Assert.True(filter.ExitCode == ExitCodes.Success, filter.ToString());

        var tooHigh = Cli.Run("convert", inputs, "--output", scratch.File("never"), "--max-depth", "1001");
        Assert.True(tooHigh.ExitCode != ExitCodes.Success, tooHigh.ToString());
        Assert.Contains("--max-depth must be between 1 and 1000", tooHigh.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A JSON value nesting objects <paramref name="depth"/> levels deep (the record around it adds one more).</summary>
    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth - 1)) + "1" + new string('}', depth - 1);

    [Fact]
    public void A_full_disk_fails_only_the_shard_it_hits_names_it_and_a_rerun_after_freeing_space_matches_a_clean_run()
    {
        using var scratch = new ScratchFolder("rel-diskfull");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        var lines = File.ReadLines(PipelineModels.Jokes).Take(52).ToList();
        int[] rows = [3, 3, 40, 3, 3];
        for (int i = 0, taken = 0; i < rows.Length; taken += rows[i], i++)
        {
            File.WriteAllLines(Path.Combine(inputs, string.Create(CultureInfo.InvariantCulture, $"part-{i}.jsonl")), lines.Skip(taken).Take(rows[i]));
        }
        var reference = scratch.File("reference");
        var clean = Cli.Run(Score(inputs, reference));
        Assert.True(clean.ExitCode == ExitCodes.Success, clean.ToString());

        // A filesystem with room for every small shard (and the run's own files) but not for the big one: filled for
        // real where the test may mount one, else the same ENOSPC raised by the test hook at the big shard's commit.
        var output = scratch.File("out");
        Directory.CreateDirectory(output);
        const long Page = 4096;
        long Pages(string path) => (new FileInfo(path).Length + Page - 1) / Page * Page;
        var small = Directory.EnumerateFiles(reference, "*", SearchOption.AllDirectories)
            .Where(path => !Path.GetFileName(path).StartsWith("part-2.", StringComparison.Ordinal)).Sum(Pages);
        var big = new FileInfo(Path.Combine(reference, "part-2.jsonl")).Length;
        var size = small + (8 * Page) + (big / 2);
        var mounted = Mount(output, size);
        try
        {
            var environment = mounted ? null : new Dictionary<string, string?> { ["RIVERBED_FAULT_DISK_FULL"] = "part-2" };
            var full = Cli.Run(Score(inputs, output), environment: environment);
            Assert.True(full.ExitCode == ExitCodes.PartialFailure, $"mounted: {mounted}, {size} bytes\n{full}");
            Assert.Contains("riverbed: the disk is full: 1 shard(s) failed: " + Path.Combine(inputs, "part-2.jsonl"), full.StandardError, StringComparison.Ordinal);
            Assert.Contains("No space left on device", full.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", full.AllOutput, StringComparison.Ordinal);
            foreach (var shard in new[] { 0, 1, 3, 4 })
            {
                Assert.True(File.Exists(Path.Combine(output, string.Create(CultureInfo.InvariantCulture, $"part-{shard}.manifest.json"))), full.ToString());
            }
            Assert.False(File.Exists(Path.Combine(output, "part-2.manifest.json")));
            Assert.False(File.Exists(Path.Combine(output, "part-2.jsonl")));
            Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
            Assert.Empty(Directory.EnumerateFiles(output, "*.owner", SearchOption.AllDirectories));
            Assert.Contains("the disk is full", File.ReadAllText(Path.Combine(output, ".riverbed", "failed", "part-2.json")), StringComparison.Ordinal);
            var status = Cli.Run("status", output);
            Assert.Contains(status.StandardOutput.Split('\n'), line => line.Contains("failed", StringComparison.Ordinal)
                && line.Contains("part-2.jsonl", StringComparison.Ordinal) && line.Contains("the disk is full", StringComparison.Ordinal));

            if (mounted)
            {
                Assert.True(Command("mount", "-o", "remount,size=64m", output), "could not grow the test filesystem");
            }
            var rerun = Cli.Run(Score(inputs, output));
            Assert.True(rerun.ExitCode == ExitCodes.Success, rerun.ToString());
            Assert.Equal(4, rerun.StandardOutput.Split('\n').Count(line => line.Contains("skipped, already complete", StringComparison.Ordinal)));
            Assert.Equal(DataFiles(reference), DataFiles(output));
            Assert.False(Directory.Exists(Path.Combine(output, ".riverbed", "failed")) && Directory.EnumerateFiles(Path.Combine(output, ".riverbed", "failed")).Any());
            AssertCountsReconcile(output);
        }
        finally
        {
            if (mounted)
            {
                Command("umount", output);
            }
        }
    }

    /// <summary>SHA-256 of every shard's data, rejects, failures and stats file, and of stats.json.</summary>
    private static Dictionary<string, string> DataFiles(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(path => Path.GetFileName(path) == "stats.json"
                || (Path.GetFileName(path).StartsWith("part-", StringComparison.Ordinal) && !path.EndsWith(".manifest.json", StringComparison.Ordinal)))
            .ToDictionary(path => Path.GetFileName(path), ScoredOutput.Sha256, StringComparer.Ordinal);

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on <paramref name="folder"/>; false where this user may not.</summary>
    private static bool Mount(string folder, long bytes) =>
        OperatingSystem.IsLinux() && Command("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={bytes}"), "tmpfs", folder);

    private static bool Command(string program, params string[] arguments)
    {
        try
        {
            var info = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }
            using var process = System.Diagnostics.Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [Fact]
    public void A_stray_closer_inside_one_array_element_costs_that_element_only_and_the_thousand_after_it_are_kept()
    {
        using var scratch = new ScratchFolder("rel-array");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        static string Record(int i) => string.Create(CultureInfo.InvariantCulture, $$"""{"instruction":"question {{i}}","output":"answer {{i}}"}""");
        var good = Enumerable.Range(0, 1000).Select(Record).ToList();
        // One line per element, and minified: a ']' where '}' belongs, and a ']' with no opener before the real '}'.
        File.WriteAllText(Path.Combine(inputs, "lines.json"),
            "[\n" + string.Join(",\n", good.Take(3).Append("""{"instruction":"broken","output":"x"]""").Concat(good.Skip(3))) + "\n]\n");
        File.WriteAllText(Path.Combine(inputs, "minified.json"),
            "[" + string.Join(",", good.Take(10).Append("""{"instruction":"broken","output":[1]]}""").Concat(good.Skip(10))) + "]");
        // An unclosed string, one element per line: it costs its own element; the file is not called truncated.
        File.WriteAllText(Path.Combine(inputs, "unclosed.json"),
            "[\n" + string.Join(",\n", good.Take(2).Append("""{"instruction":"never closed,"output":"y"}""").Concat(good.Skip(2).Take(5))) + "\n]\n");
        // An unclosed string at the end of a minified array: what can be kept is kept, and the message says what happened.
        File.WriteAllText(Path.Combine(inputs, "unclosed-end.json"), "[" + string.Join(",", good.Take(4)) + """,{"instruction":"open]""");

        var output = scratch.File("out");
        var convert = Cli.Run("convert", inputs, "--output", output, "--format", "jsonl");
        Assert.True(convert.ExitCode == ExitCodes.Success, convert.ToString());
        AssertCountsReconcile(output);
        foreach (var (name, rowsIn, rowsOut) in new[] { ("lines", 1001L, 1000L), ("minified", 1001L, 1000L), ("unclosed", 8L, 7L), ("unclosed-end", 5L, 4L) })
        {
            var manifest = ReadManifest(output, name);
            Assert.True(rowsIn == manifest.GetProperty("rows_in").GetInt64() && rowsOut == manifest.GetProperty("rows_out").GetInt64(),
                $"{name}: {manifest}\n{convert}");
        }
        var kept = File.ReadLines(Path.Combine(output, "lines.jsonl")).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("instruction").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => string.Create(CultureInfo.InvariantCulture, $"question {i}")), kept);
        var rejects = Directory.EnumerateFiles(output, "*.rejects.jsonl").SelectMany(File.ReadLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("message").GetString()!).ToList();
        Assert.Equal(4, rejects.Count);
        Assert.DoesNotContain(rejects, message => message.Contains("truncated", StringComparison.Ordinal));
        Assert.Contains(rejects, message => message.Contains("that opens at byte", StringComparison.Ordinal) && message.Contains("is never closed", StringComparison.Ordinal));
    }

    [Fact]
    public void Filter_refuses_a_scored_run_with_failed_or_uncommitted_shards_and_with_allow_incomplete_names_what_it_left_out()
    {
        using var scratch = new ScratchFolder("rel-filter");
        var inputs = WriteJokes(scratch.File("in"), shards: 3, rows: 3);
        File.AppendAllText(Path.Combine(inputs, "part-1.jsonl"), "not json at all\n");
        var output = scratch.File("out");
        var score = Cli.Run(Score(inputs, output, "--max-rejects", "0"));
        Assert.True(score.ExitCode == ExitCodes.PartialFailure, score.ToString());
        // A shard killed before its manifest was written: its data file may be there, but it was never committed.
        File.Delete(Path.Combine(output, "part-2.manifest.json"));

        var refused = Cli.Run("filter", output, "--output", scratch.File("filtered"), "--format", "jsonl");
        Assert.True(refused.ExitCode == ExitCodes.Failure, refused.ToString());
        Assert.Contains("2 shard(s) of the scored run", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("part-1.jsonl (failed: last attempt failed: ", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("part-2.jsonl (pending: no manifest", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("--allow-incomplete", refused.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(scratch.File("filtered")) && Directory.EnumerateFiles(scratch.File("filtered"), "*", SearchOption.AllDirectories).Any());

        var partial = Cli.Run("filter", output, "--output", scratch.File("filtered"), "--format", "jsonl", "--allow-incomplete");
        Assert.True(partial.ExitCode == ExitCodes.Success, partial.ToString());
        Assert.Contains("riverbed: left out (--allow-incomplete): part-1.jsonl (failed:", partial.StandardError, StringComparison.Ordinal);
        Assert.Contains("riverbed: left out (--allow-incomplete): part-2.jsonl (pending:", partial.StandardError, StringComparison.Ordinal);
        AssertCountsReconcile(scratch.File("filtered"));
        var filtered = Directory.EnumerateFiles(scratch.File("filtered"), "*.manifest.json", SearchOption.AllDirectories)
            .Sum(path => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.GetProperty("rows_in").GetInt64());
        Assert.Equal(3, filtered);
    }

    [Fact]
    public void A_model_output_that_is_not_finite_fails_its_row_with_the_reason_and_counts_against_max_failures()
    {
        using var scratch = new ScratchFolder("rel-nan");
        // The demo models, with the NLI model's embedding of "zebra" set to NaN (as corrupt weights or an fp16
        // overflow give): every NLI request holding that word yields NaN logits, every other request stays finite.
        var models = scratch.File("models");
        foreach (var file in Directory.EnumerateFiles(PipelineModels.Demo, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(models, Path.GetRelativePath(PipelineModels.Demo, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        PoisonEmbedding(Path.Combine(models, "nli"), "zebra");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "animals.jsonl"),
        [
            """{"instruction":"Describe a horse.","output":"A horse is a large animal. People ride horses on farms."}""",
            """{"instruction":"Describe a zebra.","output":"A zebra is a striped animal. The zebra lives in Africa."}""",
            """{"instruction":"Describe a cat.","output":"A cat is a small animal. Cats like to sleep in the sun."}""",
        ]);

        var output = scratch.File("out");
        var run = Cli.Run(["score", inputs, "--models", models, "--output", output, "--format", "jsonl"]);
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var manifest = ReadManifest(output, "animals");
        Assert.Equal(1, manifest.GetProperty("rows_failed").GetInt64());
        Assert.Equal(2, manifest.GetProperty("rows_out").GetInt64());
        AssertCountsReconcile(output);
        var failure = JsonDocument.Parse(File.ReadLines(Path.Combine(output, "animals.failures.jsonl")).Single()).RootElement;
        Assert.Equal("non_finite_output", failure.GetProperty("kind").GetString());
        Assert.Contains("not finite (NaN or infinity", failure.GetProperty("message").GetString(), StringComparison.Ordinal);
        var rows = File.ReadAllText(Path.Combine(output, "animals.jsonl"));
        Assert.DoesNotContain("NaN", rows, StringComparison.Ordinal);
        Assert.DoesNotContain("zebra", rows, StringComparison.Ordinal);

        var strict = Cli.Run(["score", inputs, "--models", models, "--output", scratch.File("strict"), "--format", "jsonl", "--max-failures", "0"]);
        Assert.True(strict.ExitCode == ExitCodes.PartialFailure, strict.ToString());
        Assert.Contains("exceed the failure budget", strict.StandardError, StringComparison.Ordinal);
        Assert.Contains("non_finite_output", strict.StandardError, StringComparison.Ordinal);
    }

    /// <summary>
    /// Sets the word-embedding row of <paramref name="word"/> to NaN in a generated float32 BERT model.onnx: the
    /// initializer's raw bytes are the only protobuf field 9 (raw_data) of exactly vocabulary × hidden × 4 bytes.
    /// </summary>
    private static void PoisonEmbedding(string modelFolder, string word)
    {
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(modelFolder, "config.json")));
        var vocabulary = config.RootElement.GetProperty("vocab_size").GetInt32();
        var hidden = config.RootElement.GetProperty("hidden_size").GetInt32();
        using var tokenizer = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(modelFolder, "tokenizer.json")));
        var id = tokenizer.RootElement.GetProperty("model").GetProperty("vocab").GetProperty(word).GetInt32();
        var path = Path.Combine(modelFolder, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        var header = new List<byte> { 0x4A };
        for (var length = (ulong)vocabulary * (ulong)hidden * 4; ; length >>= 7)
        {
            header.Add((byte)(length < 0x80 ? length : (length & 0x7F) | 0x80));
            if (length < 0x80)
            {
                break;
            }
        }
        var at = bytes.AsSpan().IndexOf(header.ToArray());
        Assert.True(at >= 0 && bytes.AsSpan(at + 1).IndexOf(header.ToArray()) < 0, "the word embeddings were not found exactly once");
        var row = at + header.Count + (id * hidden * 4);
        for (var i = 0; i < hidden; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(row + (i * 4), 4), float.NaN);
        }
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void Numbers_a_double_would_round_reach_parquet_exactly_and_come_back_with_every_digit()
    {
        using var scratch = new ScratchFolder("rel-numbers");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "numbers.jsonl"),
        [
            """{"instruction":"a","output":"b","huge":123456789012345678901234567890,"mixed":9007199254740993,"fine":1,"digits":0.1}""",
            """{"instruction":"c","output":"d","huge":1,"mixed":0.5,"fine":0.25,"digits":0.12345678901234567890123}""",
        ]);
        var parquet = scratch.File("parquet");
        var first = Cli.Run("convert", inputs, "--output", parquet);
        Assert.True(first.ExitCode == ExitCodes.Success, first.ToString());
        AssertCountsReconcile(parquet);
        var back = scratch.File("back");
        var second = Cli.Run("convert", Path.Combine(parquet, "numbers.parquet"), "--output", back, "--format", "jsonl");
        Assert.True(second.ExitCode == ExitCodes.Success, second.ToString());
        AssertCountsReconcile(back);
        var rows = File.ReadAllLines(Path.Combine(back, "numbers.jsonl"));
        Assert.Contains("123456789012345678901234567890", rows[0], StringComparison.Ordinal);
        Assert.Contains("9007199254740993", rows[0], StringComparison.Ordinal);
        Assert.Contains("0.12345678901234567890123", rows[1], StringComparison.Ordinal);
        // Numbers a double holds exactly stay numbers.
        Assert.Equal(0.25, JsonDocument.Parse(rows[1]).RootElement.GetProperty("fine").GetDouble());
        Assert.Equal(0.1, JsonDocument.Parse(rows[0]).RootElement.GetProperty("digits").GetDouble());
    }

    [Fact]
    public void A_zero_byte_gzip_fails_its_shard_naming_it_while_the_other_shards_commit()
    {
        using var scratch = new ScratchFolder("rel-zero-gz");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "good.jsonl"), ["""{"instruction":"a","output":"b"}"""]);
        File.WriteAllBytes(Path.Combine(inputs, "zero.jsonl.gz"), []);
        var output = scratch.File("out");
        var convert = Cli.Run("convert", inputs, "--output", output, "--format", "jsonl");
        Assert.True(convert.ExitCode != ExitCodes.Success, convert.ToString());
        Assert.Contains("zero.jsonl.gz", convert.AllOutput, StringComparison.Ordinal);
        Assert.Contains("0 bytes, so it is not gzip", convert.AllOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, "zero.manifest.json")));
        AssertCountsReconcile(output);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_read_only_output_folder_is_named_as_such_not_as_a_lock_held_by_another_process()
    {
        using var scratch = new ScratchFolder("rel-readonly");
        var inputs = WriteJokes(scratch.File("in"), shards: 1, rows: 2);
        var output = scratch.File("out");
        Directory.CreateDirectory(output);
        // A read-only filesystem refuses even root; where the test may not mount one, the permission bits do the same
        // for an ordinary user.
        var mounted = Mount(output, 1 << 20) && Command("mount", "-o", "remount,ro", output);
        if (!mounted)
        {
            File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        try
        {
            var convert = Cli.Run("convert", inputs, "--output", output, "--format", "jsonl");
            Assert.True(convert.ExitCode != ExitCodes.Success, convert.ToString());
            Assert.Contains("cannot be written", convert.AllOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("another process", convert.AllOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", convert.AllOutput, StringComparison.Ordinal);
            var score = Cli.Run(Score(inputs, output));
            Assert.True(score.ExitCode == ExitCodes.Failure, score.ToString());
            Assert.Contains("cannot be written", score.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", score.AllOutput, StringComparison.Ordinal);
        }
        finally
        {
            if (mounted)
            {
                Command("umount", output);
            }
            else
            {
                File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    [Fact]
    public async Task Text_in_binary_parquet_columns_is_scored_as_utf8_and_a_value_that_is_not_utf8_in_a_binary_or_a_string_column_rejects_only_its_row()
    {
        using var scratch = new ScratchFolder("rel-binary");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        var cafe = "It is café \U0001F30A, a river café.";
        byte[] latin1 = [.. "A caf"u8, 0xE9, .. " in Latin-1."u8];
        // BINARY (BLOB to DuckDB) columns, as pandas and Spark often write text; and a STRING (VARCHAR) column whose
        // second value is not UTF-8, as a broken writer leaves it.
        await WriteParquet(Path.Combine(inputs, "binary.parquet"), binaryOutput: true,
            [Encoding.UTF8.GetBytes(cafe), latin1, "A river flows to the sea."u8.ToArray()]);
        await WriteParquet(Path.Combine(inputs, "text.parquet"), binaryOutput: false,
            [Encoding.UTF8.GetBytes(cafe), latin1, "A river flows to the sea."u8.ToArray()]);
        var output = scratch.File("out");

        // DuckDB stops a scan at the first invalid STRING value; Riverbed reads that file again with its text as bytes
        // and checks each value itself, so both shards commit with their one bad row rejected.
        var score = Cli.Run(Score(inputs, output));
        Assert.True(score.ExitCode == ExitCodes.Success, score.ToString());
        Assert.DoesNotContain("   at ", score.AllOutput, StringComparison.Ordinal);
        foreach (var (name, holds) in new[] { ("binary", "binary (BLOB) data"), ("text", "text") })
        {
            var manifest = ReadManifest(output, name);
            Assert.Equal((3L, 2L, 1L), (manifest.GetProperty("rows_in").GetInt64(), manifest.GetProperty("rows_out").GetInt64(), manifest.GetProperty("rows_rejected").GetInt64()));
            Assert.Equal(1L, manifest.GetProperty("rejects_by_kind").GetProperty("invalid_utf8").GetInt64());
            var scored = File.ReadAllLines(Path.Combine(output, name + ".jsonl"));
            Assert.Equal(2, scored.Length);
            Assert.Equal(cafe, JsonDocument.Parse(scored[0]).RootElement.GetProperty("output").GetString());
            Assert.Equal("A river flows to the sea.", JsonDocument.Parse(scored[1]).RootElement.GetProperty("output").GetString());
            Assert.DoesNotContain("\\x", scored[0], StringComparison.Ordinal);
            var reject = JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, name + ".rejects.jsonl")).Single()).RootElement;
            Assert.Equal("invalid_utf8", reject.GetProperty("kind").GetString());
            Assert.Equal(1, reject.GetProperty("row").GetInt64());
            Assert.Contains($"column 'output' holds {holds} that is not valid UTF-8", reject.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("byte 5 of 18: E920696E", reject.GetProperty("message").GetString(), StringComparison.Ordinal);
            // The value is kept as it was, its one bad byte escaped, never replaced.
            Assert.Equal("A caf\\xE9 in Latin-1.", reject.GetProperty("raw").GetString());
        }
        AssertCountsReconcile(output);

        // Parquet output joins the original columns back from the input file: the rows kept are written, and the text
        // column stays text (STRING), with its characters as they were.
        var parquetOutput = scratch.File("out-parquet");
        var toParquet = Cli.Run(["score", inputs, "--models", PipelineModels.Demo, "--output", parquetOutput]);
        Assert.True(toParquet.ExitCode == ExitCodes.Success, toParquet.ToString());
        AssertCountsReconcile(parquetOutput);
        var written = Path.Combine(parquetOutput, "text.parquet");
        await using (var stream = File.OpenRead(written))
        {
            await using var reader = await ParquetReader.CreateAsync(stream);
            // Parquet.Net hands STRING columns over as text (string or ReadOnlyMemory<char>), BINARY ones as bytes.
            Assert.Contains(reader.Schema.DataFields.Single(field => field.Name == "output").ClrType, new[] { typeof(string), typeof(ReadOnlyMemory<char>) });
        }
        var back = scratch.File("back");
        var convert = Cli.Run("convert", written, "--output", back, "--format", "jsonl");
        Assert.True(convert.ExitCode == ExitCodes.Success, convert.ToString());
        var rows = File.ReadAllLines(Path.Combine(back, "text.jsonl"));
        Assert.Equal(2, rows.Length);
        Assert.Equal(cafe, JsonDocument.Parse(rows[0]).RootElement.GetProperty("output").GetString());
    }

    [Fact]
    public void Utf16_utf32_and_cr_only_files_are_named_for_what_they_are_a_name_that_is_not_utf8_is_skipped_and_the_other_shards_commit()
    {
        using var scratch = new ScratchFolder("rel-encodings");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        var lines = File.ReadLines(PipelineModels.Jokes).Take(3).ToList();
        var text = string.Join("\n", lines) + "\n";
        File.WriteAllLines(Path.Combine(inputs, "good.jsonl"), lines);
        File.WriteAllBytes(Path.Combine(inputs, "utf16.jsonl"), [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)]);
        File.WriteAllBytes(Path.Combine(inputs, "utf32.jsonl"), new UTF32Encoding(bigEndian: true, byteOrderMark: false).GetBytes(text));
        File.WriteAllText(Path.Combine(inputs, "mac.jsonl"), string.Join("\r", lines) + "\r");
        // A name .NET cannot spell: the bytes 0xFF 0xFE are not UTF-8 (the shell writes them as they are).
        Assert.True(Command("sh", "-c", "cp \"$1/good.jsonl\" \"$1/$(printf 'bad\\377\\376name').jsonl\"", "sh", inputs));

        var output = scratch.File("out");
        var convert = Cli.Run("convert", inputs, "--output", output, "--format", "jsonl");
        Assert.True(convert.ExitCode != ExitCodes.Success, convert.ToString());
        Assert.DoesNotContain("   at ", convert.AllOutput, StringComparison.Ordinal);
        Assert.Contains("utf16.jsonl: this file is UTF-16 (little-endian, with a byte order mark), not UTF-8", convert.AllOutput, StringComparison.Ordinal);
        Assert.Contains("utf32.jsonl: this file is UTF-32 (big-endian, no byte order mark), not UTF-8", convert.AllOutput, StringComparison.Ordinal);
        Assert.Contains("mac.jsonl: this file uses CR line endings", convert.AllOutput, StringComparison.Ordinal);
        Assert.Contains("bad\uFFFD\uFFFDname.jsonl: its name is not valid UTF-8", convert.AllOutput, StringComparison.Ordinal);
        // Nothing from those files is counted as a pile of rejects: they fail whole, and the good shard commits.
        Assert.Equal(3, ReadManifest(output, "good").GetProperty("rows_out").GetInt64());
        Assert.Single(Directory.EnumerateFiles(output, "*.manifest.json"));
        AssertCountsReconcile(output);
    }

    [Fact]
    public void Inspect_of_a_scored_folder_says_so_and_skips_its_run_files_and_status_cross_checks_manifest_counts_against_the_outputs()
    {
        using var scratch = new ScratchFolder("rel-scored");
        var inputs = WriteJokes(scratch.File("in"), shards: 1, rows: 3);
        var output = scratch.File("out");
        var score = Cli.Run(Score(inputs, output));
        Assert.True(score.ExitCode == ExitCodes.Success, score.ToString());
        Assert.True(File.Exists(Path.Combine(output, "run.json")) && File.Exists(Path.Combine(output, "stats.json")), score.ToString());

        var inspect = Cli.Run("inspect", output);
        Assert.True(inspect.ExitCode == ExitCodes.Success, inspect.ToString());
        Assert.Contains($"== {output}: a scored output folder", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("run.json: skipped, Riverbed's run record of a scored output folder", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("stats.json: skipped, Riverbed's merged statistics of a scored output folder", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("part-0.jsonl", inspect.StandardOutput, StringComparison.Ordinal);

        // A manifest whose counts were changed so they still add up, but no longer match its outputs.
        var path = Path.Combine(output, "part-0.manifest.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        manifest["rows_in"] = 4;
        manifest["rows_out"] = 3 + 1 - manifest["rows_rejected"]!.GetValue<long>() - manifest["rows_failed"]!.GetValue<long>();
        File.WriteAllText(path, manifest.ToJsonString());
        var status = Cli.Run("status", output);
        Assert.True(status.ExitCode == ExitCodes.Incomplete, status.ToString());
        Assert.Contains("the manifest's counts disagree with its outputs'", status.StandardOutput, StringComparison.Ordinal);
        AssertCountsReconcile(output);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task SIGTERM_while_a_shard_reads_an_input_that_never_ends_exits_soon_after_the_grace_period()
    {
        using var scratch = new ScratchFolder("rel-fifo");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        var fifo = Path.Combine(inputs, "endless.jsonl");
        Assert.True(Command("mkfifo", fifo), "mkfifo failed");
        var output = scratch.File("out");
        using var process = System.Diagnostics.Process.Start(Cli.StartInfo(Score(inputs, output, "--grace", "1")))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // Opening a FIFO for writing waits until the reader has opened it: then the shard is reading. One record's
            // start and no end, and the writer stays open, so the read blocks where no cancellation reaches it.
            var open = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write));
            await using var writer = await open.WaitAsync(TimeSpan.FromMinutes(2));
            await writer.WriteAsync("{\"instruction\": \"an answer that never"u8.ToArray());
            await writer.FlushAsync();
            var signalled = System.Diagnostics.Stopwatch.StartNew();
            Assert.True(Command("kill", "-TERM", process.Id.ToString(CultureInfo.InvariantCulture)));
            var exited = process.WaitForExit(TimeSpan.FromSeconds(90));
            var log = await WhenExited(exited, stdout, stderr);
            Assert.True(exited, "still running 90 s after SIGTERM:\n" + log);
            Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(60), $"{signalled.Elapsed}\n{log}");
            Assert.True(process.ExitCode == ExitCodes.Interrupted, log);
            Assert.Contains("SIGTERM received", log, StringComparison.Ordinal);
            Assert.Contains("is its input blocked or endless", log, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(output, "endless.manifest.json")));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static async Task<string> WhenExited(bool exited, Task<string> stdout, Task<string> stderr) =>
        exited ? await stdout + "\n" + await stderr : "(output not read: the process is still running)";

    [Fact]
    public void A_key_that_is_empty_or_holds_nul_and_an_id_of_the_wrong_type_reject_their_own_record_and_the_shard_commits_to_parquet()
    {
        using var scratch = new ScratchFolder("rel-keys");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "keys.jsonl"),
        [
            """{"id":"r1","instruction":"What is a river?","output":"A river is a stream of water.","meta":{"source":"a"}}""",
            """{"id":"r2","instruction":"What is a lake?","output":"A lake is still water.","":"empty key"}""",
            """{"id":"r3","instruction":"What is a pond?","output":"A pond is a small lake.","meta":{"sou\u0000rce":"b"}}""",
            """{"id":{"$oid":"5f1d"},"instruction":"What is a sea?","output":"A sea is salt water."}""",
            """{"id":2.5,"instruction":"What is an ocean?","output":"An ocean is a very large sea."}""",
            """{"id":"r6","instruction":"What is a brook?","output":"A brook is a small stream.","meta":{"source":"c"}}""",
        ]);
        var output = scratch.File("out");
        var convert = Cli.Run("convert", inputs, "--output", output);
        Assert.True(convert.ExitCode == ExitCodes.Success, convert.ToString());
        Assert.DoesNotContain("   at ", convert.AllOutput, StringComparison.Ordinal);
        var manifest = ReadManifest(output, "keys");
        Assert.Equal(2, manifest.GetProperty("rows_out").GetInt64());
        Assert.Equal(2, manifest.GetProperty("rejects_by_kind").GetProperty("invalid_key").GetInt64());
        Assert.Equal(2, manifest.GetProperty("rejects_by_kind").GetProperty("wrong_type").GetInt64());
        var rejects = File.ReadAllLines(Path.Combine(output, "keys.rejects.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal([1L, 2L, 3L, 4L], rejects.Select(reject => reject.GetProperty("row").GetInt64()));
        Assert.Contains("an empty key", rejects[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("key \"sou\\u0000rce\"", rejects[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("id field 'id' holds an object, not a string or an integer", rejects[2].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("id field 'id' holds the number 2.5", rejects[3].GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertCountsReconcile(output);
    }

    [Fact]
    public void An_answer_that_is_only_whitespace_is_kept_with_a_no_scorable_text_note()
    {
        using var scratch = new ScratchFolder("rel-blank");
        var inputs = scratch.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllLines(Path.Combine(inputs, "blank.jsonl"),
        [
            """{"instruction":"What is a river?","output":"A river is a natural stream of water flowing to the sea."}""",
            """{"instruction":"What is a lake?","output":"  \n\t "}""",
        ]);
        var output = scratch.File("out");
        var score = Cli.Run(Score(inputs, output));
        Assert.True(score.ExitCode == ExitCodes.Success, score.ToString());
        var rows = File.ReadAllLines(Path.Combine(output, "blank.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(2, rows.Count);
        static List<string?> Notes(JsonElement row) => row.GetProperty("riverbed_skipped").EnumerateArray().Select(note => note.GetString()).ToList();
        Assert.DoesNotContain(Notes(rows[0]), note => note!.StartsWith("no scorable text", StringComparison.Ordinal));
        Assert.Contains(Notes(rows[1]), note => note!.StartsWith("no scorable text", StringComparison.Ordinal));
        AssertCountsReconcile(output);
    }

    /// <summary>A Parquet file of instruction/output rows; the outputs' bytes go in as they are, as BINARY or as STRING.</summary>
    private static async Task WriteParquet(string path, bool binaryOutput, byte[][] outputs)
    {
        var instruction = new DataField<string>("instruction");
        DataField output = binaryOutput ? new DataField<byte[]>("output") : new DataField<string>("output");
        var schema = new ParquetSchema(instruction, output);
        // Parquet.Net writes STRING values only from .NET strings, which cannot hold invalid UTF-8: such a value is written
        // as a placeholder of the same length (uncompressed, so it is in the file as is) and overwritten afterwards.
        var placeholders = outputs.Select(bytes => binaryOutput || Utf8.IsValid(bytes) ? null : new string('Q', bytes.Length)).ToList();
        await using (var stream = File.Create(path))
        {
            await using var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = CompressionMethod.None });
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(instruction, outputs.Select((_, i) => string.Create(CultureInfo.InvariantCulture, $"Tell me about rivers, please ({i}).")).ToList());
            if (binaryOutput)
            {
                await group.WriteAsync(output, outputs);
            }
            else
            {
                await group.WriteAsync(output, outputs.Select((bytes, i) => placeholders[i] ?? Encoding.UTF8.GetString(bytes)).ToList());
            }
        }
        var file = await File.ReadAllBytesAsync(path);
        for (var i = 0; i < outputs.Length; i++)
        {
            if (placeholders[i] is { } placeholder)
            {
                var marker = Encoding.UTF8.GetBytes(placeholder);
                var patched = 0;
                for (var at = file.AsSpan().IndexOf(marker); at >= 0; at = file.AsSpan().IndexOf(marker))
                {
                    outputs[i].CopyTo(file, at);
                    patched++;
                }
                Assert.True(patched > 0, "the placeholder is not in the file: is it compressed?");
            }
        }
        await File.WriteAllBytesAsync(path, file);
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
