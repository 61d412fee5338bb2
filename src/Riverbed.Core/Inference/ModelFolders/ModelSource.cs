using System.Text.Encodings.Web;
using System.Text.Json;

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

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The Hub endpoint the files came from.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>Set when an ELECTRA head was appended to a feature-extraction export.</summary>
    public ModelSourceHead? Head { get; init; }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            writer.WriteStartObject();
            WriteTo(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Writes the properties (without the enclosing braces), for embedding in run.json.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteString("endpoint", Endpoint);
        writer.WriteString("repository", Repository);
        writer.WriteString("revision", Revision);
        writer.WriteString("commit", Commit);
        writer.WriteStartObject("files");
        foreach (var file in Files)
        {
            writer.WriteStartObject(file.Name);
            writer.WriteString("path", file.Path);
            writer.WriteString("sha256", file.Sha256);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        if (Head is { } head)
        {
            writer.WriteStartObject("head");
            writer.WriteString("repository", head.Repository);
            writer.WriteString("revision", head.Revision);
            writer.WriteString("commit", head.Commit);
            writer.WriteString("path", head.Path);
            writer.WriteStartArray("tensors");
            foreach (var tensor in head.Tensors)
            {
                writer.WriteStringValue(tensor);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

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
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            ModelSourceHead? head = null;
            if (root.TryGetProperty("head", out var h) && h.ValueKind == JsonValueKind.Object)
            {
                head = new ModelSourceHead(h.GetProperty("repository").GetString()!, h.GetProperty("revision").GetString()!,
                    h.GetProperty("commit").GetString()!, h.GetProperty("path").GetString()!,
                    [.. h.GetProperty("tensors").EnumerateArray().Select(t => t.GetString()!)]);
            }
            return new ModelSource(root.GetProperty("repository").GetString()!, root.GetProperty("revision").GetString()!,
                root.GetProperty("commit").GetString()!,
                [.. root.GetProperty("files").EnumerateObject().Select(f =>
                    new ModelSourceFile(f.Name, f.Value.GetProperty("path").GetString()!, f.Value.GetProperty("sha256").GetString()!))])
            {
                Endpoint = root.TryGetProperty("endpoint", out var e) ? e.GetString() ?? string.Empty : string.Empty,
                Head = head,
            };
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            throw new RiverbedException($"{path}: not a model source record written by riverbed models pull ({error.Message})", error);
        }
    }
}
