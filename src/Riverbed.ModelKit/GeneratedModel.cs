using System.Text;
using System.Text.Json.Nodes;
using Riverbed.Inference.Onnx;

namespace Riverbed.ModelKit;

/// <summary>A generated model and its HF config: together with a tokenizer.json, a complete model folder.</summary>
public sealed class GeneratedModel
{
    internal GeneratedModel(OnnxModel model, JsonObject config)
    {
        Model = model;
        Config = config;
    }

    public OnnxModel Model { get; }

    /// <summary>The config.json content; tests may edit it to build broken folders on purpose.</summary>
    public JsonObject Config { get; }

    /// <summary>config.json as HF writes it (sorted keys, 2-space indent).</summary>
    public string ConfigJson => PythonStyleJson.Serialize(Config, sortKeys: true);

    /// <summary>
    /// Writes <c>model.onnx</c> and <c>config.json</c> into <paramref name="folder"/> (created if needed) and copies
    /// <paramref name="tokenizerJson"/> there as <c>tokenizer.json</c> when given.
    /// </summary>
    public void SaveTo(string folder, string? tokenizerJson = null)
    {
        Directory.CreateDirectory(folder);
        WriteAtomically(Path.Combine(folder, "model.onnx"), Model.Save);
        WriteAtomically(Path.Combine(folder, "config.json"), path => File.WriteAllText(path, ConfigJson, new UTF8Encoding(false)));
        if (tokenizerJson is not null)
        {
            var target = Path.Combine(folder, "tokenizer.json");
            if (!string.Equals(Path.GetFullPath(tokenizerJson), Path.GetFullPath(target), StringComparison.Ordinal))
            {
                WriteAtomically(target, path => File.Copy(tokenizerJson, path, overwrite: true));
            }
        }
    }

    /// <summary>Writes through a temporary file and a rename, so an interrupted run never leaves a truncated model.</summary>
    internal static void WriteAtomically(string path, Action<string> write)
    {
        var temporary = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
