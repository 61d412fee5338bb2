using System.Text;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Decoders;

/// <summary>
/// A tokenizer.json decoder: rewrites the list of token strings (HF's <c>decode_chain</c>); the decoded text is the
/// concatenation of the result.
/// </summary>
internal abstract class Decoder
{
    public abstract void DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens)
    {
        DecodeChain(tokens);
        return string.Concat(tokens);
    }
}

/// <summary>Applies several decoders in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<Decoder> decoders) : Decoder
{
    public Decoder[] Decoders { get; } = [.. decoders];

    public override void DecodeChain(List<string> tokens)
    {
        foreach (var decoder in Decoders)
        {
            decoder.DecodeChain(tokens);
        }
    }
}

/// <summary>GPT-2 byte level: alphabet characters back to bytes, then UTF-8 (invalid sequences become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            var start = bytes.Count;
            var mapped = true;
            foreach (var c in token)
            {
                if (!ByteLevelAlphabet.TryGetByte(c, out var b))
                {
                    mapped = false;
                    break;
                }
                bytes.Add(b);
            }
            if (!mapped)
            {
                // HF keeps such a token's own UTF-8 bytes (an added token, for instance).
                bytes.RemoveRange(start, bytes.Count - start);
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        tokens.Clear();
        tokens.Add(Encoding.UTF8.GetString(bytes.ToArray()));
    }
}

/// <summary>WordPiece: drop the continuing prefix, put a space before other pieces, optionally tidy punctuation.</summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public string Prefix { get; } = prefix;

    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (i != 0)
            {
                token = token.StartsWith(Prefix, StringComparison.Ordinal) ? token[Prefix.Length..] : " " + token;
            }
            if (cleanup)
            {
                token = Cleanup(token);
            }
            tokens[i] = token;
        }
    }

    /// <summary>HF's cleanup: no space before . ? ! , and common English contractions.</summary>
    public static string Cleanup(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}

/// <summary>SentencePiece: the replacement character (▁) back to spaces, dropped at the very start when prepended.</summary>
internal sealed class MetaspaceDecoder(int replacement, bool dropLeading) : Decoder
{
    private readonly string _replacement = char.ConvertFromUtf32(replacement);

    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.Contains(_replacement, StringComparison.Ordinal))
            {
                continue;
            }
            tokens[i] = i == 0 && dropLeading
                ? token.Replace(_replacement, string.Empty, StringComparison.Ordinal)
                : token.Replace(_replacement, " ", StringComparison.Ordinal);
        }
    }
}

/// <summary>Byte tokens <c>&lt;0xXX&gt;</c> back to text; runs that are not valid UTF-8 give one U+FFFD per byte.</summary>
internal sealed class ByteFallbackDecoder : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, result);
            result.Add(token);
        }
        Flush(pending, result);
        tokens.Clear();
        tokens.AddRange(result);
    }

    private static void Flush(List<byte> pending, List<string> result)
    {
        if (pending.Count == 0)
        {
            return;
        }
        try
        {
            result.Add(new UTF8Encoding(false, true).GetString(pending.ToArray()));
        }
        catch (DecoderFallbackException)
        {
            for (var i = 0; i < pending.Count; i++)
            {
                result.Add("\uFFFD");
            }
        }
        pending.Clear();
    }
}

/// <summary>Joins all tokens into one.</summary>
internal sealed class FuseDecoder : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var joined = string.Concat(tokens);
        tokens.Clear();
        tokens.Add(joined);
    }
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a character from each token.</summary>
internal sealed class StripDecoder(int content, int start, int stop) : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var t = 0; t < tokens.Count; t++)
        {
            var chars = new List<int>();
            var text = tokens[t];
            for (var i = 0; i < text.Length;)
            {
                chars.Add(CodePoints.Read(text, ref i));
            }
            var startCut = 0;
            for (var i = 0; i < Math.Min(start, chars.Count); i++)
            {
                if (chars[i] != content)
                {
                    break;
                }
                startCut = i + 1;
            }
            var stopCut = chars.Count;
            for (var i = 0; i < stop && i < chars.Count; i++)
            {
                var index = chars.Count - i - 1;
                if (chars[index] != content)
                {
                    break;
                }
                stopCut = index;
            }
            var builder = new StringBuilder();
            for (var i = startCut; i < Math.Max(startCut, stopCut); i++)
            {
                builder.Append(char.ConvertFromUtf32(chars[i]));
            }
            tokens[t] = builder.ToString();
        }
    }
}

/// <summary>Replaces a pattern in every token.</summary>
internal sealed class ReplaceDecoder(TextPattern pattern, string content) : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            var matches = pattern.FindAll(token);
            if (matches.Count == 0)
            {
                continue;
            }
            var builder = new StringBuilder(token.Length);
            var position = 0;
            foreach (var (start, end) in matches)
            {
                builder.Append(token, position, start - position).Append(content);
                position = end;
            }
            builder.Append(token, position, token.Length - position);
            tokens[t] = builder.ToString();
        }
    }
}

/// <summary>Classic BPE: the end-of-word suffix becomes a space (nothing after the last token).</summary>
internal sealed class BpeDecoder(string suffix) : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var replacement = i == tokens.Count - 1 ? string.Empty : " ";
            tokens[i] = suffix.Length > 0
                ? tokens[i].Replace(suffix, replacement, StringComparison.Ordinal)
                : InsertEverywhere(tokens[i], replacement);
        }
    }

    // Rust's str::replace with an empty pattern matches before every character and at the end.
    private static string InsertEverywhere(string token, string insert)
    {
        var builder = new StringBuilder(insert);
        for (var i = 0; i < token.Length;)
        {
            var length = CodePoints.LengthAt(token, i);
            builder.Append(token, i, length).Append(insert);
            i += length;
        }
        return builder.ToString();
    }
}

/// <summary>CTC: collapse repeats, drop padding, word delimiters to spaces.</summary>
internal sealed class CtcDecoder(string padToken, string wordDelimiterToken, bool cleanup) : Decoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        string? previous = null;
        foreach (var token in tokens)
        {
            if (token == previous)
            {
                continue;
            }
            previous = token;
            var replaced = token.Replace(padToken, string.Empty, StringComparison.Ordinal);
            if (cleanup)
            {
                replaced = WordPieceDecoder.Cleanup(replaced).Replace(wordDelimiterToken, " ", StringComparison.Ordinal);
            }
            if (replaced.Length > 0)
            {
                result.Add(replaced);
            }
        }
        tokens.Clear();
        tokens.AddRange(result);
    }
}
