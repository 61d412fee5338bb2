using System.Globalization;
using System.Text.Json;

namespace Riverbed.Runner;

/// <summary>
/// The size of a tokenizer.json's vocabulary — its largest token id + 1, over <c>model.vocab</c> (an object of
/// token → id for WordPiece, BPE and WordLevel; a list of [token, score] pairs for Unigram, where the id is the
/// position) and <c>added_tokens</c>. That is all <c>models check</c> needs from the tokenizer; the Tokenization
/// library replaces this reader once it lands.
/// </summary>
internal static class TokenizerVocabulary
{
    /// <exception cref="RiverbedException">The file is missing, is not JSON, or has no usable vocabulary.</exception>
    public static int Size(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RiverbedException($"tokenizer file not found: '{path}'", error);
        }
        catch (IOException error)
        {
            throw new RiverbedException($"'{path}' could not be read: {error.Message}", error);
        }
        catch (JsonException error)
        {
            var where = error.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, position {(error.BytePositionInLine ?? 0) + 1}")
                : string.Empty;
            var reason = error.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd(' ', '|', '.');
            throw new RiverbedException($"'{path}' is not valid JSON{where}: {reason}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            long largest = -1;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var model) &&
                model.ValueKind == JsonValueKind.Object && model.TryGetProperty("vocab", out var vocab))
            {
                if (vocab.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in vocab.EnumerateObject())
                    {
                        largest = Math.Max(largest, Id(entry.Value, path, $"model.vocab[\"{entry.Name}\"]"));
                    }
                }
                else if (vocab.ValueKind == JsonValueKind.Array)
                {
                    largest = vocab.GetArrayLength() - 1;
                }
                else
                {
                    throw new RiverbedException($"'{path}': model.vocab must be an object of token ids or a list of [token, score] pairs");
                }
            }
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var token in added.EnumerateArray())
                {
                    if (token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("id", out var id))
                    {
                        throw new RiverbedException($"'{path}': added_tokens[{index}] has no id");
                    }
                    largest = Math.Max(largest, Id(id, path, $"added_tokens[{index}].id"));
                    index++;
                }
            }
            if (largest < 0)
            {
                throw new RiverbedException($"'{path}' has no vocabulary (no model.vocab entries and no added_tokens)");
            }
            if (largest >= int.MaxValue)
            {
                throw new RiverbedException($"'{path}' has a token id of {largest}, beyond any real vocabulary");
            }
            return (int)largest + 1;
        }
    }

    private static long Id(JsonElement value, string path, string field) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var id) && id >= 0
            ? id
            : throw new RiverbedException($"'{path}': {field} must be a token id (a non-negative integer); it is {value.GetRawText()}");
}
