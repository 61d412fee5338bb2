using System.Globalization;
using System.Text.Json;

namespace Riverbed;

/// <summary>
/// How every part of Riverbed words a System.Text.Json failure: its reason without the "Path: … | LineNumber: … |
/// BytePositionInLine: …" tail that .NET appends (0-based, and repeated when the caller states the position itself),
/// and the position 1-based, as editors count.
/// </summary>
public static class JsonErrors
{
    /// <summary>The reason alone, e.g. "'o' is an invalid start of a value".</summary>
    public static string Reason(JsonException error) => Reason(error.Message);

    public static string Reason(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }
        return (cut < 0 ? message : message[..cut]).TrimEnd(' ', '|', '.');
    }

    /// <summary>"line 2, position 7" (1-based), or an empty string when .NET did not say where.</summary>
    public static string Position(JsonException error) =>
        error.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $"line {line + 1}, position {(error.BytePositionInLine ?? 0) + 1}")
            : string.Empty;

    /// <summary>"is not valid JSON at line 2, position 7: reason", for messages that start with what was read.</summary>
    public static string NotValidJson(JsonException error)
    {
        var position = Position(error);
        return position.Length == 0
            ? $"is not valid JSON: {Reason(error)}"
            : $"is not valid JSON at {position}: {Reason(error)}";
    }
}
