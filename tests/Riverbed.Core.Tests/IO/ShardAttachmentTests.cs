using System.Text;
using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>Documents committed with a shard (the pipeline's {base}.stats.json): listed in the manifest and checked like data.</summary>
public sealed class ShardAttachmentTests
{
    [Fact]
    public async Task An_attachment_is_committed_beside_the_shard_and_listed_in_its_manifest()
    {
        using var scratch = new ScratchFolder("attach");
        var input = ShardWriterTests.WriteInput(scratch, "in.jsonl", 2);
        var options = WithStats(scratch);
        var manifest = await ShardWriterTests.Convert(input, options, (example, writer) =>
        {
            writer.WriteRow(example);
            writer.Attach("stats.json", Encoding.UTF8.GetBytes($"{{\"rows\":{example.Row + 1}}}"));
        });
        var file = Assert.Single(manifest.Attachments);
        Assert.Equal("in.stats.json", file.Path);
        Assert.Equal("{\"rows\":2}", File.ReadAllText(scratch.File("out", "in.stats.json")));
        Assert.Contains(file, manifest.Files);
        var reloaded = ShardManifest.TryLoad(scratch.File("out", "in.manifest.json"))!;
        Assert.Equal(file, Assert.Single(reloaded.Attachments));
        Assert.Equal(ShardStatus.Complete, ShardCompletion.Check(options.LayoutFor(input), input, options.ConfigHash).Status);
    }

    [Fact]
    public async Task A_changed_attachment_makes_the_shard_incomplete()
    {
        using var scratch = new ScratchFolder("attach");
        var input = ShardWriterTests.WriteInput(scratch, "in.jsonl", 1);
        var options = WithStats(scratch);
        await ShardWriterTests.Convert(input, options, (example, writer) =>
        {
            writer.WriteRow(example);
            writer.Attach("stats.json", "{}"u8);
        });
        File.WriteAllText(scratch.File("out", "in.stats.json"), "{ }");
        var state = ShardCompletion.Check(options.LayoutFor(input), input, options.ConfigHash);
        Assert.Equal(ShardStatus.Incomplete, state.Status);
        Assert.Contains("in.stats.json", state.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_aborted_writer_leaves_no_attachment_and_a_new_attempt_discards_a_stray_one()
    {
        using var scratch = new ScratchFolder("attach");
        var input = ShardWriterTests.WriteInput(scratch, "in.jsonl", 1);
        var options = WithStats(scratch);
        Directory.CreateDirectory(scratch.File("out"));
        File.WriteAllText(scratch.File("out", "in.stats.json"), "left by a killed run");
        using (var writer = ShardWriter.Create(input, options))
        {
            writer.Attach("stats.json", "{}"u8);
        }
        Assert.False(File.Exists(scratch.File("out", "in.stats.json")));
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp"));
    }

    [Fact]
    public void An_undeclared_attachment_is_refused()
    {
        using var scratch = new ScratchFolder("attach");
        var input = ShardWriterTests.WriteInput(scratch, "in.jsonl", 1);
        using var writer = ShardWriter.Create(input, ShardWriterTests.Options(scratch, OutputFormat.JsonLines, []));
        Assert.Throws<ArgumentException>(() => writer.Attach("stats.json", "{}"u8));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b.json")]
    [InlineData("manifest.json")]
    [InlineData(".hidden")]
    public void Attachment_names_that_clash_or_escape_are_refused(string suffix)
    {
        using var scratch = new ScratchFolder("attach");
        var options = new ShardWriterOptions { OutputFolder = scratch.File("out"), ConfigHash = "x", Attachments = [suffix] };
        Assert.Throws<RiverbedException>(options.Validate);
    }

    private static ShardWriterOptions WithStats(ScratchFolder scratch) => new()
    {
        OutputFolder = scratch.File("out"),
        Format = OutputFormat.JsonLines,
        ConfigHash = "test-config",
        Attachments = ["stats.json"],
    };
}
