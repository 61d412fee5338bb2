using System.Text;
using System.Text.Json;
using Riverbed.IO.Writing;

namespace Riverbed.Runner.Report;

/// <summary>One line of a rejects or failures file, as the report lists it.</summary>
internal sealed record RejectSample(string SideFile, int SideFileLine, string? File, long? Line, long? Row, string Kind, string Message, string? Raw,
    bool RawIsEscaped, bool RawTruncated, bool IsFailure, string? Id)
{
    /// <summary>"file:line", or "file, row N" where the input has no lines (Parquet).</summary>
    public string Location => Line is { } line ? $"{File}:{line}" : Row is { } row ? $"{File}, row {row}" : File ?? SideFile;
}

/// <summary>
/// Reads the first few records of the committed rejects and failures files (IO's format, through its one type
/// <see cref="RejectLine"/>), stopping as soon as enough
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
                var reject = RejectLine.Parse(line);
                results.Add(new RejectSample(
                    relative,
                    lineNumber,
                    reject.File,
                    reject.Line,
                    reject.Row,
                    reject.Kind ?? "?",
                    reject.Message ?? string.Empty,
                    reject.Raw,
                    reject.RawEncoding is { } encoding && encoding != RejectLine.Utf8,
                    reject.RawTruncated,
                    isFailure,
                    reject.Id));
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
}
