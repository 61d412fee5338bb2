using Riverbed.Inference.Onnx;

namespace Riverbed.Inference;

/// <summary>
/// Checks a model file before ONNX Runtime reads any of it: that it is an ONNX protobuf at all, that every external
/// data file it names lies inside the model's folder (no "..", no absolute path, no symbolic or hard link leading
/// out), and that it uses no operators that would run native code Riverbed did not vet. These checks do not depend
/// on the runtime version, which matters because ONNX Runtime only gained its own containment check in late 2025.
/// </summary>
internal static class ModelFileGuard
{
    public static OnnxModelSummary Check(string modelPath, SessionOptions options)
    {
        if (Directory.Exists(modelPath))
        {
            throw new RiverbedException($"'{modelPath}' is a folder; expected an .onnx model file.");
        }
        if (!File.Exists(modelPath))
        {
            throw new RiverbedException($"model file not found: '{modelPath}'.");
        }

        OnnxModelSummary summary;
        try
        {
            summary = OnnxModelScanner.Scan(modelPath);
        }
        catch (InvalidDataException error)
        {
            throw new RiverbedException(
                $"'{modelPath}' is not a valid ONNX model ({error.Message}); the file is corrupt, truncated or not an ONNX export.", error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"'{modelPath}' could not be read: {error.Message}", error);
        }

        CheckExternalData(modelPath, summary);
        CheckOperators(modelPath, summary, options);
        return summary;
    }

    /// <summary>Checks a rewrite of the checked file at <paramref name="modelPath"/> that will be loaded from memory.</summary>
    public static OnnxModelSummary CheckRewrite(string modelPath, ReadOnlySpan<byte> model, SessionOptions options)
    {
        OnnxModelSummary summary;
        try
        {
            summary = OnnxModelScanner.Scan(model);
        }
        catch (InvalidDataException error)
        {
            throw new RiverbedException($"the rewritten graph of '{modelPath}' is not a valid ONNX model ({error.Message}).", error);
        }
        if (summary.ExternalData.Count > 0)
        {
            throw new RiverbedException($"the rewritten graph of '{modelPath}' names external data, which a model loaded from memory cannot find.");
        }
        CheckOperators(modelPath, summary, options);
        return summary;
    }

    private static void CheckExternalData(string modelPath, OnnxModelSummary summary)
    {
        if (summary.ExternalData.Count == 0)
        {
            return;
        }
        // ONNX Runtime resolves locations against the folder of the path it was given, not of a link's target.
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var realFolder = Libc.RealPath(folder) ?? folder;
        foreach (var (tensor, location) in summary.ExternalData.DistinctBy(e => e.Location))
        {
            var refused = $"'{modelPath}': tensor '{tensor}' loads its data from '{location}'";
            if (location.Length == 0)
            {
                throw new RiverbedException($"{refused}, an empty path.");
            }
            if (Path.IsPathRooted(location) || location.StartsWith('\\') || (location.Length > 1 && location[1] == ':'))
            {
                throw new RiverbedException($"{refused}, an absolute path. External data must be a file inside the model folder '{folder}'.");
            }
            var candidate = Path.GetFullPath(Path.Combine(folder, location));
            if (!IsInside(candidate, folder))
            {
                throw new RiverbedException($"{refused}, which is outside the model folder '{folder}'. External data must be a file inside the model folder.");
            }
            if (!File.Exists(candidate))
            {
                throw new RiverbedException($"{refused}, which does not exist in the model folder '{folder}'.");
            }
            var real = Libc.RealPath(candidate) ?? candidate;
            if (!IsInside(real, realFolder))
            {
                throw new RiverbedException($"{refused}, a symbolic link to '{real}' outside the model folder '{folder}'. Copy the file into the folder instead.");
            }
            if (Libc.HardLinkCount(real) is > 1 and var links)
            {
                throw new RiverbedException($"{refused}, a file with {links} hard links, so it may be a file from outside the model folder '{folder}'. Copy it into the folder instead (cp, not ln).");
            }
        }
    }

    private static void CheckOperators(string modelPath, OnnxModelSummary summary, SessionOptions options)
    {
        foreach (var (domain, opType) in summary.Operators)
        {
            if (!options.AllowNativeCodeNodes && opType is "EPContext" or "PyOp")
            {
                throw new RiverbedException(
                    $"'{modelPath}' contains a{(domain.Length > 0 ? $" {domain}" : "")} {opType} node, which runs native code embedded in or named by the model. " +
                    "Riverbed refuses such nodes in models it did not build (SessionOptions.AllowNativeCodeNodes allows them).");
            }
            if (!options.AllowedOperatorDomains.Contains(domain))
            {
                throw new RiverbedException(
                    $"'{modelPath}' uses operator '{opType}' from domain '{domain}', which needs a custom-operator library; " +
                    $"Riverbed only runs operators of the domains {string.Join(", ", options.AllowedOperatorDomains.Order().Select(d => d.Length == 0 ? "ai.onnx (default)" : d))}.");
            }
        }
    }

    private static bool IsInside(string path, string folder)
    {
        var prefix = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }
}
