using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>Inputs resolve in a deterministic order; output names can never leave the output folder (checklist F1).</summary>
public sealed class InputsAndOutputPathTests
{
    [Fact]
    public void Folders_are_searched_recursively_in_ordinal_order_skipping_hidden_and_side_files()
    {
        using var scratch = new ScratchFolder("inputs");
        foreach (var name in new[] { "b.jsonl", "a/z.parquet", "a/b.json.gz", "A.json", ".hidden.jsonl", ".cache/x.jsonl", "x.rejects.jsonl", "x.manifest.json", "notes.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(scratch.File(name))!);
            File.WriteAllText(scratch.File(name), "");
        }
        var shards = InputResolver.Resolve([scratch.Path]);
        Assert.Equal(["A.json", "a/b.json.gz", "a/z.parquet", "b.jsonl"], shards.Select(s => s.Name));
        Assert.Equal(["A", "a/b", "a/z", "b"], shards.Select(s => s.BaseName));
        Assert.Equal(InputCompression.Gzip, shards[1].Compression);
        Assert.Equal(InputFormat.Parquet, shards[2].Format);
    }

    [Fact]
    public void Globs_match_by_segment_and_double_star_matches_any_depth()
    {
        using var scratch = new ScratchFolder("inputs");
        foreach (var name in new[] { "d/one.jsonl", "d/two.jsonl", "d/deep/three.jsonl", "d/deep/four.parquet", "d/other.json" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(scratch.File(name))!);
            File.WriteAllText(scratch.File(name), "");
        }
        Assert.Equal(["one.jsonl", "two.jsonl"], InputResolver.Resolve([scratch.File("d", "*.jsonl")]).Select(s => s.Name));
        Assert.Equal(["deep/three.jsonl", "one.jsonl", "two.jsonl"], InputResolver.Resolve([scratch.File("d", "**", "*.jsonl")]).Select(s => s.Name));
        Assert.Equal(["deep/four.parquet"], InputResolver.Resolve([scratch.File("d", "*", "f?ur.parquet")]).Select(s => s.Name));
        Assert.Throws<InputException>(() => InputResolver.Resolve([scratch.File("d", "*.csv")]));
    }

    [Fact]
    public void Two_inputs_that_would_write_the_same_output_are_refused()
    {
        using var scratch = new ScratchFolder("inputs");
        Directory.CreateDirectory(scratch.File("x"));
        Directory.CreateDirectory(scratch.File("y"));
        File.WriteAllText(scratch.File("x", "part.jsonl"), "");
        File.WriteAllText(scratch.File("y", "part.json"), "");
        var shards = InputResolver.Resolve([scratch.File("x", "part.jsonl"), scratch.File("y", "part.json")]);
        var error = Assert.Throws<InputException>(() => InputResolver.CheckDistinctOutputNames(shards));
        Assert.Contains("part", error.Message, StringComparison.Ordinal);
        InputResolver.CheckDistinctOutputNames(InputResolver.Resolve([scratch.Path]));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("a/./b")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\b")]
    [InlineData("a\0b")]
    [InlineData("line\nbreak")]
    [InlineData("")]
    [InlineData("a//b")]
    [InlineData(".")]
    [InlineData("..")]
    public void Output_names_that_could_leave_the_output_folder_are_refused(string name)
    {
        Assert.Throws<OutputPathException>(() => ShardLayout.CheckRelativeName(name));
        Assert.Throws<OutputPathException>(() => new ShardLayout("/tmp/out", name, OutputFormat.Parquet, split: false));
    }

    [Fact]
    public void Overlong_output_names_are_refused()
    {
        Assert.Throws<OutputPathException>(() => ShardLayout.CheckRelativeName(new string('a', 201)));
        Assert.Throws<OutputPathException>(() => ShardLayout.CheckRelativeName(string.Join('/', Enumerable.Repeat(new string('b', 100), 41))));
        Assert.Equal("sub/ok", ShardLayout.CheckRelativeName("sub/ok"));
    }

    [Fact]
    public void Input_files_named_to_escape_get_no_output_outside_the_folder()
    {
        using var scratch = new ScratchFolder("escape");
        foreach (var name in new[] { "..jsonl", "...jsonl" })
        {
            File.WriteAllText(scratch.File(name), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
            var input = ShardInput.FromFile(scratch.File(name));
            Assert.Throws<OutputPathException>(() => ShardWriter.Create(input, ShardWriterTests.Options(scratch, OutputFormat.JsonLines, [])));
        }
        Assert.Equal(["...jsonl", "..jsonl"], Directory.EnumerateFileSystemEntries(scratch.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_symbolic_link_inside_the_output_folder_is_not_written_through()
    {
        using var scratch = new ScratchFolder("escape");
        using var elsewhere = new ScratchFolder("elsewhere");
        Directory.CreateDirectory(scratch.File("in", "sub"));
        File.WriteAllText(scratch.File("in", "sub", "data.jsonl"), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
        Directory.CreateDirectory(scratch.File("out"));
        Directory.CreateSymbolicLink(scratch.File("out", "sub"), elsewhere.Path);
        var input = InputResolver.Resolve([scratch.File("in")]).Single();
        Assert.Equal("sub/data", input.BaseName);
        var error = Assert.Throws<OutputPathException>(() => ShardWriter.Create(input, ShardWriterTests.Options(scratch, OutputFormat.JsonLines, [])));
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere.Path));
    }

    [Fact]
    public void A_shard_is_never_written_over_its_own_input()
    {
        using var scratch = new ScratchFolder("self");
        File.WriteAllText(scratch.File("data.jsonl"), "{\"instruction\":\"q\",\"output\":\"a\"}\n");
        var input = ShardInput.FromFile(scratch.File("data.jsonl"));
        var options = new ShardWriterOptions { OutputFolder = scratch.Path, Format = OutputFormat.JsonLines, ConfigHash = "c" };
        Assert.Throws<ShardWriteException>(() => ShardWriter.Create(input, options));
    }
}
