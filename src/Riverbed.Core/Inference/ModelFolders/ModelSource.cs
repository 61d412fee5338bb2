using System.Text.Json;
using System.Text.Json.Serialization;

namespace Riverbed.Inference.ModelFolders;

/// <summary>Where one file of a pulled model folder came from.</summary>
/// <param name="Name">The file's name in the model folder (model.onnx, tokenizer.json, config.json).</param>
/// <param name="Path">Its path in the repository (e.g. onnx/model_quantized.onnx).</param>
/// <param name="Sha256">SHA-256 of the file as downloaded (for model.onnx with an appended head: of the encoder export).</param>
public sealed record ModelSourceFile(string Name, string Path, string Sha256);

/// <summary>The checkpoint an appended head's weights were read from.</summary>
public sealed record ModelSourceHead(string Repository, string Revision, string Commit, string Path, IReadOnlyList<string> Tensors);

/// <summary>
/// <c>source.json</c> in a model folder written by <c>riverbed models pull</c>: the repository, the revision asked for
/// and the exact commit it resolved to, so a run's run.json can name what it scored with. One type, one serializer,
/// used by the pull that writes it and the run record that reads it.
/// </summary>
public sealed record ModelSource(string Repository, string Revision, string Commit, IReadOnlyList<ModelSourceFile> Files)
{
    public const string FileName = "source.json";

    /// <summary>The Hub endpoint the files came from.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>Set when an ELECTRA head was appended to a feature-extraction export.</summary>
    public ModelSourceHead? Head { get; init; }

    /// <summary>The file's bytes (no final newline, as pulls have always written it).</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(SourceDocument.Of(this), ModelSourceJson.Persisted.SourceDocument);

    /// <summary>Reads <c>source.json</c> from a model folder; null when the folder has none (it was not pulled).</summary>
    /// <exception cref="RiverbedException">The file exists but is not a source record.</exception>
    public static ModelSource? TryLoad(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            var document = JsonSerializer.Deserialize(File.ReadAllBytes(path), ModelSourceJson.Persisted.SourceDocument)
                ?? throw new JsonException("the record is null");
            return document.ToSource();
        }
        catch (Exception error) when (error is JsonException or IOException)
        {
            throw new RiverbedException($"{path}: not a model source record written by riverbed models pull ({JsonErrors.Reason(error.Message)})", error);
        }
    }
}

/// <summary>source.json as the file holds it: the files keyed by their name in the folder, the head only when appended.</summary>
internal sealed record SourceDocument(
    [property: JsonRequired] string Repository,
    [property: JsonRequired] string Revision,
    [property: JsonRequired] string Commit,
    [property: JsonRequired] Dictionary<string, SourceFileDocument> Files)
{
    [JsonPropertyOrder(-1)]
    public string Endpoint { get; init; } = string.Empty;

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SourceHeadDocument? Head { get; init; }

    public static SourceDocument Of(ModelSource source)
    {
        // Files keep the order the pull wrote them in (a Dictionary enumerates in insertion order when nothing is removed).
        var files = new Dictionary<string, SourceFileDocument>(StringComparer.Ordinal);
        foreach (var file in source.Files)
        {
            files[file.Name] = new SourceFileDocument(file.Path, file.Sha256);
        }
        return new SourceDocument(source.Repository, source.Revision, source.Commit, files)
        {
            Endpoint = source.Endpoint,
            Head = source.Head is { } head ? new SourceHeadDocument(head.Repository, head.Revision, head.Commit, head.Path, [.. head.Tensors]) : null,
        };
    }

    public ModelSource ToSource() =>
        new(Repository, Revision, Commit, [.. Files.Select(file => new ModelSourceFile(file.Key, file.Value.Path, file.Value.Sha256))])
        {
            Endpoint = Endpoint,
            Head = Head is { } head ? new ModelSourceHead(head.Repository, head.Revision, head.Commit, head.Path, head.Tensors) : null,
        };
}

internal sealed record SourceFileDocument([property: JsonRequired] string Path, [property: JsonRequired, JsonPropertyName("sha256")] string Sha256);

internal sealed record SourceHeadDocument(
    [property: JsonRequired] string Repository,
    [property: JsonRequired] string Revision,
    [property: JsonRequired] string Commit,
    [property: JsonRequired] string Path,
    [property: JsonRequired] List<string> Tensors);

/// <summary>source.json's one serializer.</summary>
[JsonSerializable(typeof(SourceDocument))]
internal sealed partial class ModelSourceJson : JsonSerializerContext
{
    public static ModelSourceJson Persisted { get; } = new(PersistedJson.Options());
}
