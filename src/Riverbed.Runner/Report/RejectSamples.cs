using System.Text;
using System.Text.Json;

namespace Riverbed.Runner.Report;

/// <summary>One line of a rejects or failures file, as the report lists it.</summary>
internal sealed record RejectSample(string SideFile, int SideFileLine, string? File, long? Line, long? Row, string Kind, string Message, string? Raw,
    bool RawIsEscaped, bool RawTruncated, bool IsFailure, string? Id)
{
    /// <summary>"file:line", or "file, row N" where the input has no lines (Parquet).</summary>
    public string Location => Line is { } line ? $"{File}:{line}" : Row is { } row ? $"{File}, row {row}" : File ?? SideFile;
}

/// <summary>
/// Reads the first few records of the committed rejects and failures files (IO's format), stopping as soon as enough
/// are read: a run with millions of rejects costs the report a few lines.
/// </summary>
internal static class RejectSamples
{
    public static IReadOnlyList<RejectSample> ReadFirst(ScoredRun run, int limit)
    {
        var samples = new List<RejectSample>();
        foreach (var (path, isFailure) in run.RejectFiles.Select(path => (path, false)).Concat(run.FailureFiles.Select(path => (path, true))))
        {
            if (samples.Count >= limit)
            {
                break;
            }
            samples.AddRange(ReadFile(run, path, isFailure, limit - samples.Count));
        }
        return samples;
    }

    private static List<RejectSample> ReadFile(ScoredRun run, string path, bool isFailure, int limit)
    {
        var relative = run.Relative(path);
        var results = new List<RejectSample>();
        using var reader = new StreamReader(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        var lineNumber = 0;
        while (results.Count < limit)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                results.Add(Unreadable(relative, lineNumber + 1, isFailure, "the line is not valid UTF-8"));
                break;
            }
            if (line is null)
            {
                break;
            }
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                results.Add(new RejectSample(
                    relative,
                    lineNumber,
                    String(root, "file"),
                    Long(root, "line"),
                    Long(root, "row"),
                    String(root, "kind") ?? "?",
                    String(root, "message") ?? string.Empty,
                    String(root, "raw"),
                    String(root, "raw_encoding") is { } encoding && encoding != "utf-8",
                    root.TryGetProperty("raw_truncated", out var truncated) && truncated.ValueKind == JsonValueKind.True,
                    isFailure,
                    String(root, "id")));
            }
            catch (JsonException error)
            {
                results.Add(Unreadable(relative, lineNumber, isFailure, JsonErrors.Reason(error)));
            }
        }
        return results;
    }

    private static RejectSample Unreadable(string relative, int line, bool isFailure, string why) =>
        new(relative, line, relative, line, null, "unreadable", $"this line of {relative} cannot be read: {why}", null, false, false, isFailure, null);

    private static string? String(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Long(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
