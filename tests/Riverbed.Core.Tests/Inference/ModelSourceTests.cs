using System.Text;
using Riverbed.Inference.ModelFolders;

namespace Riverbed.Core.Tests.Inference;

/// <summary>source.json keeps the bytes pulls have always written, and reads back as what was written.</summary>
public sealed class ModelSourceTests
{
    private static readonly ModelSource Pulled = new("google/electra-base-discriminator", "main", "0123abcd",
        [new ModelSourceFile("model.onnx", "onnx/model.onnx", "aa11"), new ModelSourceFile("tokenizer.json", "tokenizer.json", "bb22")])
    {
        Endpoint = "https://huggingface.co",
        Head = new ModelSourceHead("google/electra-base-discriminator", "main", "0123abcd", "model.safetensors", ["discriminator_predictions.dense.weight"]),
    };

    [Fact]
    public void A_source_record_is_written_as_pulls_always_wrote_it()
    {
        const string expected = """
            {
              "endpoint": "https://huggingface.co",
              "repository": "google/electra-base-discriminator",
              "revision": "main",
              "commit": "0123abcd",
              "files": {
                "model.onnx": {
                  "path": "onnx/model.onnx",
                  "sha256": "aa11"
                },
                "tokenizer.json": {
                  "path": "tokenizer.json",
                  "sha256": "bb22"
                }
              },
              "head": {
                "repository": "google/electra-base-discriminator",
                "revision": "main",
                "commit": "0123abcd",
                "path": "model.safetensors",
                "tensors": [
                  "discriminator_predictions.dense.weight"
                ]
              }
            }
            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), Encoding.UTF8.GetString(Pulled.ToJson()));
    }

    [Fact]
    public void A_source_record_reads_back_as_written_and_a_record_without_a_head_leaves_it_out()
    {
        using var folder = new ScratchFolder("source-json");
        File.WriteAllBytes(Path.Combine(folder.Path, ModelSource.FileName), Pulled.ToJson());
        var read = ModelSource.TryLoad(folder.Path)!;
        Assert.Equal(Pulled.Files, read.Files);
        Assert.Equal((Pulled.Repository, Pulled.Revision, Pulled.Commit, Pulled.Endpoint), (read.Repository, read.Revision, read.Commit, read.Endpoint));
        Assert.Equal(Pulled.Head!.Tensors, read.Head!.Tensors);

        var plain = Pulled with { Head = null };
        Assert.DoesNotContain("\"head\"", Encoding.UTF8.GetString(plain.ToJson()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_source_record_missing_its_commit_is_refused_naming_the_file()
    {
        using var folder = new ScratchFolder("source-json-bad");
        File.WriteAllText(Path.Combine(folder.Path, ModelSource.FileName), """{"repository": "a/b", "revision": "main", "files": {}}""");
        var error = Assert.Throws<RiverbedException>(() => ModelSource.TryLoad(folder.Path));
        Assert.Contains(ModelSource.FileName, error.Message, StringComparison.Ordinal);
        Assert.Contains("commit", error.Message, StringComparison.Ordinal);
    }
}
