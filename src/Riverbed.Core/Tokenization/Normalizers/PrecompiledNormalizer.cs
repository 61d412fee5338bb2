using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Riverbed.Tokenization.Text;

namespace Riverbed.Tokenization.Normalizers;

/// <summary>
/// SentencePiece's compiled normalization rules (<c>precompiled_charsmap</c>, e.g. nmt_nfkc) as HF applies them.
/// The charsmap is a little-endian u32 byte size of a darts-clone double-array trie, the trie's u32 units, then a blob
/// of NUL-terminated UTF-8 replacement strings; a key (UTF-8 bytes of the text) that ends on a leaf yields the offset
/// of its replacement in the blob.
/// HF's rule, kept exactly: text is taken grapheme by grapheme; a grapheme shorter than 6 UTF-8 bytes is replaced as a
/// whole when any prefix of it is a key (by the replacement of the shortest such prefix); otherwise each of its
/// characters is looked up on its own.
/// </summary>
internal sealed class PrecompiledNormalizer : Normalizer
{
    private readonly uint[] _trie;
    private readonly byte[] _blob;
    private readonly ConcurrentDictionary<int, int[]> _replacements = new();
    private readonly int[]?[] _ascii = new int[]?[128];
    private readonly bool[] _asciiKnown = new bool[128];

    [ThreadStatic]
    private static List<(int CodePoint, int Change)>? t_transformations;

    private PrecompiledNormalizer(uint[] trie, byte[] blob)
    {
        _trie = trie;
        _blob = blob;
        Span<byte> key = stackalloc byte[1];
        for (var c = 1; c < 128; c++)
        {
            key[0] = (byte)c;
            _ascii[c] = Lookup(key);
            _asciiKnown[c] = true;
        }
    }

    /// <summary>Parses a charsmap; returns null with a reason when it is malformed.</summary>
    public static PrecompiledNormalizer? TryCreate(byte[] charsmap, out string? problem)
    {
        problem = null;
        if (charsmap.Length < 4)
        {
            problem = "it is shorter than its 4-byte header";
            return null;
        }
        var trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieBytes % 4 != 0 || trieBytes == 0 || trieBytes > charsmap.Length - 4)
        {
            problem = $"its header announces a {trieBytes}-byte trie in {charsmap.Length - 4} bytes of data";
            return null;
        }
        var trie = new uint[trieBytes / 4];
        for (var i = 0; i < trie.Length; i++)
        {
            trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + (i * 4)));
        }
        var blob = charsmap.AsSpan(4 + (int)trieBytes).ToArray();
        try
        {
            _ = new UTF8Encoding(false, true).GetCharCount(blob);
        }
        catch (DecoderFallbackException)
        {
            problem = "its replacement strings are not valid UTF-8";
            return null;
        }
        return new PrecompiledNormalizer(trie, blob);
    }

    public override void Normalize(NormalizedSlice slice)
    {
        var chars = slice.Chars;
        if (IsUnchangedAscii(chars))
        {
            return;
        }
        var transformations = t_transformations ??= new List<(int, int)>();
        transformations.Clear();
        var modified = false;
        Span<byte> utf8 = stackalloc byte[8];
        for (var position = 0; position < chars.Length;)
        {
            var graphemeLength = GraphemeLength(chars, position);
            if (graphemeLength == 1 && chars[position] < 0x80)
            {
                // One ASCII character: its own one-byte key, looked up once at construction.
                var c = chars[position++];
                if (c != 0 && _ascii[c] is { } asciiReplacement)
                {
                    modified = true;
                    Replace(transformations, 1, asciiReplacement);
                }
                else
                {
                    transformations.Add((c, 0));
                }
                continue;
            }
            var grapheme = chars.Slice(position, graphemeLength);
            position += graphemeLength;

            var byteCount = Encoding.UTF8.GetByteCount(grapheme);
            if (byteCount < 6)
            {
                Encoding.UTF8.GetBytes(grapheme, utf8);
                var whole = byteCount == 1 ? AsciiLookup(utf8[0]) : Lookup(utf8[..byteCount]);
                if (whole is not null)
                {
                    modified = true;
                    Replace(transformations, CodePoints.Count(grapheme), whole);
                    continue;
                }
            }
            for (var i = 0; i < grapheme.Length;)
            {
                var cp = CodePoints.Read(grapheme, ref i);
                var length = CodePoints.WriteUtf8(cp, utf8);
                var replacement = length == 1 ? AsciiLookup(utf8[0]) : Lookup(utf8[..length]);
                if (replacement is not null)
                {
                    modified = true;
                    Replace(transformations, 1, replacement);
                }
                else
                {
                    transformations.Add((cp, 0));
                }
            }
        }
        if (!modified)
        {
            return;
        }
        var writer = slice.BeginTransform();
        foreach (var (cp, change) in transformations)
        {
            writer.Emit(cp, change);
        }
        slice.Commit(ref writer);
    }

    // HF's `replace`: new characters replace old ones one for one; extra new ones are insertions; when the text
    // shrinks, the last transformation so far (possibly an earlier grapheme's) absorbs the removal.
    private static void Replace(List<(int CodePoint, int Change)> transformations, int oldCount, int[] replacement)
    {
        foreach (var cp in replacement)
        {
            transformations.Add((cp, 0));
        }
        var diff = replacement.Length - oldCount;
        if (diff > 0)
        {
            for (var i = transformations.Count - diff; i < transformations.Count; i++)
            {
                transformations[i] = (transformations[i].CodePoint, 1);
            }
        }
        else if (diff < 0 && transformations.Count > 0)
        {
            var last = transformations[^1];
            transformations[^1] = (last.CodePoint, last.Change + diff);
        }
    }

    // Plain ASCII with no rule for any of its characters: nothing to do. (CR LF is one grapheme, looked up as a pair.)
    private bool IsUnchangedAscii(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (c >= 0x80 || c == 0 || c == '\r' || _ascii[c] is not null)
            {
                return false;
            }
        }
        return true;
    }

    private static int GraphemeLength(ReadOnlySpan<char> chars, int position)
    {
        var c = chars[position];
        if (c < 0x80 && c != '\r' && (position + 1 == chars.Length || chars[position + 1] < 0x80))
        {
            return 1;
        }
        var length = StringInfo.GetNextTextElementLength(chars[position..]);
        return Math.Max(1, length);
    }

    private int[]? AsciiLookup(byte b) => b < 128 && _asciiKnown[b] ? _ascii[b] : Lookup([b]);

    // darts-clone: a unit's offset is (unit >> 10) << ((unit & 0x200) >> 6); its label is unit & 0x800000FF; bit 8
    // says a leaf hangs below, whose unit holds the value in its low 31 bits. A NUL byte ends the key.
    private int[]? Lookup(ReadOnlySpan<byte> key)
    {
        var trie = _trie;
        long node = 0;
        var unit = trie[0];
        node ^= Offset(unit);
        foreach (var b in key)
        {
            if (b == 0)
            {
                break;
            }
            node ^= b;
            if ((ulong)node >= (ulong)trie.Length)
            {
                return null;
            }
            unit = trie[node];
            if ((unit & 0x800000FFu) != b)
            {
                return null;
            }
            node ^= Offset(unit);
            if ((unit >> 8 & 1) == 1)
            {
                if ((ulong)node >= (ulong)trie.Length)
                {
                    throw Corrupt();
                }
                return Replacement((int)(trie[node] & 0x7FFFFFFFu));
            }
        }
        return null;
    }

    private static long Offset(uint unit) => (long)(unit >> 10) << (int)((unit & 0x200u) >> 6);

    private int[] Replacement(int offset) => _replacements.GetOrAdd(offset, static (at, self) =>
    {
        if (at > self._blob.Length || (at < self._blob.Length && (self._blob[at] & 0xC0) == 0x80))
        {
            throw Corrupt();
        }
        var end = Array.IndexOf(self._blob, (byte)0, at);
        if (end < 0)
        {
            end = self._blob.Length;
        }
        var text = Encoding.UTF8.GetString(self._blob, at, end - at);
        var result = new List<int>(text.Length);
        for (var i = 0; i < text.Length;)
        {
            result.Add(CodePoints.Read(text, ref i));
        }
        return [.. result];
    }, this);

    private static TokenizationException Corrupt() => new(
        "The tokenizer's precompiled_charsmap points outside its own data; the tokenizer.json is corrupt.");
}
