using System.CommandLine;
using System.Text;
using System.Text.Json;
using Riverbed.Tokenization;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed tokenize</c>: encodes JSONL records <c>{"text": ..., "pair": optional}</c> with a tokenizer.json and
/// writes one JSON line per record: ids, type ids, tokens, offsets ([start, end) in UTF-16 code units) and the special
/// tokens mask. Bad input stops the run with an error naming the input line.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizerOption = new Option<FileInfo>("--tokenizer")
        {
            Description = "The tokenizer.json to encode with.",
            Required = true,
        };
        var inputOption = new Option<FileInfo?>("--input")
        {
            Description = "A JSONL file of {\"text\": ..., \"pair\": ...} records (default: standard input).",
        };
        var specialOption = new Option<bool>("--add-special-tokens")
        {
            Description = "Whether to add the model's special tokens ([CLS] ... [SEP], <s> ... </s>): true or false.",
            DefaultValueFactory = _ => true,
        };
        var maxLengthOption = new Option<int?>("--max-length")
        {
            Description = "Truncate each encoding to at most this many tokens, special tokens included (longest first).",
        };
        maxLengthOption.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--max-length must be zero or more.");
            }
        });

        var command = new Command("tokenize",
            "Encode JSONL text records with a HuggingFace tokenizer.json; writes ids, type ids, tokens, UTF-16 offsets " +
            "and special-token masks as JSONL.")
        {
            tokenizerOption,
            inputOption,
            specialOption,
            maxLengthOption,
        };
        CommandAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var tokenizer = Tokenizer.FromFile(parseResult.GetValue(tokenizerOption)!.FullName);
            var maxLength = parseResult.GetValue(maxLengthOption);
            var options = new EncodeOptions
            {
                AddSpecialTokens = parseResult.GetValue(specialOption),
                Truncation = maxLength is { } n ? new TruncationOptions { MaxLength = n } : null,
            };
            var input = parseResult.GetValue(inputOption);
            var source = input?.ToString() ?? "<stdin>"; // the path as the user wrote it
            Stream stream;
            try
            {
                stream = input is null ? Console.OpenStandardInput() : input.OpenRead();
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new RiverbedException($"{source}: cannot read the input: {error.Message}", error);
            }
            await using (stream.ConfigureAwait(false))
            {
                using var output = Console.OpenStandardOutput();
                await Run(tokenizer, options, stream, source, output, cancellationToken).ConfigureAwait(false);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Encodes every record of <paramref name="input"/> and writes the results to <paramref name="output"/>.</summary>
    internal static async Task Run(Tokenizer tokenizer, EncodeOptions options, Stream input, string source,
        Stream output, CancellationToken cancellationToken)
    {
        var buffered = new BufferedStream(output, 1 << 16);
        await using (buffered.ConfigureAwait(false))
        {
            // Tokens are written as UTF-8 text ('Ġ', '▁', CJK) rather than \u escapes; the output is data, not HTML.
            using var writer = new Utf8JsonWriter(buffered, new JsonWriterOptions
            {
                SkipValidation = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            });
            var lineNumber = 0;
            await foreach (var line in JsonLines.ReadAsync(input, cancellationToken).ConfigureAwait(false))
            {
                lineNumber++;
                if (line.Bytes.IsEmpty || IsBlank(line.Bytes.Span))
                {
                    continue; // a blank line holds no record
                }
                var (text, pair) = ReadRecord(line.Bytes, source, lineNumber);
                EncodedText encoding;
                try
                {
                    encoding = tokenizer.Encode(text, pair, options);
                }
                catch (TokenizationException error)
                {
                    throw new RiverbedException($"{source}:{lineNumber}: {error.Message}", error);
                }
                Write(writer, encoding);
                writer.Flush();
                writer.Reset();
                buffered.WriteByte((byte)'\n');
            }
            await buffered.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string Text, string? Pair) ReadRecord(ReadOnlyMemory<byte> line, string source, int lineNumber)
    {
        if (!System.Text.Unicode.Utf8.IsValid(line.Span))
        {
            var offset = 0;
            try
            {
                _ = new UTF8Encoding(false, true).GetCharCount(line.Span);
            }
            catch (DecoderFallbackException error)
            {
                offset = error.Index;
            }
            throw new RiverbedException(
                $"{source}:{lineNumber}: invalid UTF-8 (byte {offset + 1} of the line); the input must be UTF-8 JSONL.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{source}:{lineNumber}: not valid JSON: {error.Message}", error);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RiverbedException(
                    $"{source}:{lineNumber}: expected an object {{\"text\": ..., \"pair\": ...}}, found {root.ValueKind}.");
            }
            if (!root.TryGetProperty("text", out var text))
            {
                throw new RiverbedException($"{source}:{lineNumber}: the record has no \"text\" field.");
            }
            var pair = root.TryGetProperty("pair", out var pairValue) && pairValue.ValueKind != JsonValueKind.Null
                ? StringField(pairValue, "pair", source, lineNumber)
                : null;
            return (StringField(text, "text", source, lineNumber), pair);
        }
    }

    private static string StringField(JsonElement value, string name, string source, int lineNumber)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new RiverbedException($"{source}:{lineNumber}: \"{name}\" must be a string, found {value.ValueKind}.");
        }
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException error)
        {
            throw new RiverbedException(
                $"{source}:{lineNumber}: \"{name}\" is not valid text (an unpaired surrogate escape).", error);
        }
    }

    private static void Write(Utf8JsonWriter writer, EncodedText encoding)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("ids");
        foreach (var id in encoding.Ids)
        {
            writer.WriteNumberValue(id);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("type_ids");
        foreach (var id in encoding.TypeIds)
        {
            writer.WriteNumberValue(id);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("tokens");
        foreach (var token in encoding.Tokens)
        {
            writer.WriteStringValue(token);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("offsets");
        foreach (var range in encoding.Offsets)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(range.Start.Value);
            writer.WriteNumberValue(range.End.Value);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("special_tokens_mask");
        foreach (var bit in encoding.SpecialTokensMask)
        {
            writer.WriteNumberValue(bit);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Splits a byte stream into lines (without their '\n' or "\r\n"), as raw bytes, so each can be validated.</summary>
internal static class JsonLines
{
    internal readonly record struct Line(ReadOnlyMemory<byte> Bytes);

    public static async IAsyncEnumerable<Line> ReadAsync(Stream stream,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        var start = 0;
        var end = 0;
        while (true)
        {
            var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (newline >= 0)
            {
                var length = newline - start;
                if (length > 0 && buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }
                yield return new Line(buffer.AsMemory(start, length));
                start = newline + 1;
                continue;
            }
            if (start > 0)
            {
                Array.Copy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2); // a line longer than the buffer
            }
            var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (end > start)
                {
                    yield return new Line(buffer.AsMemory(start, end - start));
                }
                yield break;
            }
            end += read;
        }
    }
}
