using Riverbed.Tokenization.Normalizers;
using Riverbed.Tokenization.Text;
using Riverbed.Tokenization.Unicode;

namespace Riverbed.Tokenization;

/// <summary>A token added on top of the model's vocabulary (tokenizer.json's <c>added_tokens</c>).</summary>
internal sealed record AddedToken(
    int Id,
    string Content,
    bool SingleWord,
    bool LeftStrip,
    bool RightStrip,
    bool Normalized,
    bool Special);

/// <summary>
/// Finds added tokens in text before the model sees it, as HF does: tokens marked <c>normalized: false</c> are matched
/// in the raw text first; the rest of the text is then normalized and tokens marked <c>normalized: true</c> are
/// matched (by their normalized form) in it. Matching is leftmost-longest and non-overlapping; <c>single_word</c>
/// tokens must not touch word characters; <c>lstrip</c>/<c>rstrip</c> tokens swallow the whitespace beside them.
/// </summary>
internal sealed class AddedVocabulary
{
    private readonly Matcher? _raw;
    private readonly Matcher? _normalized;

    public AddedVocabulary(IReadOnlyList<AddedToken> tokens, Normalizer? normalizer)
    {
        Tokens = tokens;
        // HF orders the matching patterns special tokens first, then the others, each in file order.
        var ordered = tokens.Where(t => t.Special).Concat(tokens.Where(t => !t.Special)).ToList();
        var raw = ordered.Where(t => !t.Normalized).Select(t => (t.Content, t)).ToList();
        var normalized = ordered.Where(t => t.Normalized).Select(t => (NormalizeContent(t.Content, normalizer), t))
            .Where(p => p.Item1.Length > 0).ToList();
        _raw = raw.Count > 0 ? new Matcher(raw) : null;
        _normalized = normalized.Count > 0 ? new Matcher(normalized) : null;
    }

    public IReadOnlyList<AddedToken> Tokens { get; }

    public bool IsEmpty => _raw is null && _normalized is null;

    /// <summary>HF's <c>extract_and_normalize</c>: match raw tokens, normalize the rest, match normalized tokens.</summary>
    public void ExtractAndNormalize(PreTokenizedText text, Normalizer? normalizer)
    {
        if (_raw is not null)
        {
            text.SplitEach(_raw);
        }
        if (normalizer is not null)
        {
            text.NormalizeEach(normalizer);
        }
        if (_normalized is not null)
        {
            text.SplitEach(_normalized);
        }
        else
        {
            text.Reslice();
        }
    }

    private static string NormalizeContent(string content, Normalizer? normalizer)
    {
        if (normalizer is null)
        {
            return content;
        }
        var slice = new NormalizedSlice();
        var starts = new int[content.Length];
        var ends = new int[content.Length];
        for (var i = 0; i < content.Length; i++)
        {
            starts[i] = i;
            ends[i] = i + 1;
        }
        slice.Load(content, starts, ends, 0);
        normalizer.Normalize(slice);
        return slice.Chars.ToString();
    }

    /// <summary>A trie of token patterns with HF's filtering of matches (single word, strips).</summary>
    private sealed class Matcher : ISplitter
    {
        private readonly Dictionary<long, int> _children = [];
        private readonly List<int> _terminal = [-1]; // node → pattern index
        private readonly bool[] _rootHasChild = new bool[65536];
        private readonly (string Pattern, AddedToken Token)[] _patterns;

        [ThreadStatic]
        private static List<(int Start, int End, int Pattern)>? t_matches;

        public Matcher(List<(string Pattern, AddedToken Token)> patterns)
        {
            _patterns = [.. patterns];
            for (var p = 0; p < _patterns.Length; p++)
            {
                var node = 0;
                foreach (var c in _patterns[p].Pattern)
                {
                    var key = ((long)node << 16) | c;
                    if (!_children.TryGetValue(key, out var child))
                    {
                        child = _terminal.Count;
                        _terminal.Add(-1);
                        _children[key] = child;
                    }
                    node = child;
                }
                if (_terminal[node] < 0)
                {
                    _terminal[node] = p; // the first of identical patterns wins
                }
                _rootHasChild[_patterns[p].Pattern[0]] = true;
            }
        }

        public void Split(ReadOnlySpan<char> text, ref PreTokenizedText.SplitOutput output)
        {
            var matches = t_matches ??= [];
            matches.Clear();
            FindLeftmostLongest(text, matches);
            if (matches.Count == 0)
            {
                output.Add(0, text.Length);
                return;
            }

            var startOffset = 0;
            foreach (var (matchStart, matchEnd, patternIndex) in matches)
            {
                var (pattern, token) = _patterns[patternIndex];
                var start = matchStart;
                var stop = matchEnd;
                if (token.SingleWord)
                {
                    var spaceBefore = start == 0 || !IsWordCharacterBefore(text, start);
                    var spaceAfter = stop == text.Length || !IsWordCharacterAt(text, stop);
                    if (!spaceBefore || !spaceAfter)
                    {
                        continue;
                    }
                }
                if (token.LeftStrip)
                {
                    var newStart = start;
                    while (newStart > 0 && CharacterClasses.IsWhitespace(text[newStart - 1]))
                    {
                        newStart--;
                    }
                    start = Math.Max(newStart, startOffset);
                }
                if (token.RightStrip)
                {
                    while (stop < text.Length && CharacterClasses.IsWhitespace(text[stop]))
                    {
                        stop++;
                    }
                }
                if (startOffset < start)
                {
                    output.Add(startOffset, start);
                }
                var content = stop - start == pattern.Length ? pattern : text[start..stop].ToString();
                output.Add(start, stop, token.Id, content);
                startOffset = stop;
            }
            if (startOffset != text.Length)
            {
                output.Add(startOffset, text.Length);
            }
        }

        private void FindLeftmostLongest(ReadOnlySpan<char> text, List<(int, int, int)> matches)
        {
            var i = 0;
            while (i < text.Length)
            {
                if (!_rootHasChild[text[i]])
                {
                    i++;
                    continue;
                }
                var node = 0;
                var best = -1;
                var bestEnd = 0;
                for (var j = i; j < text.Length; j++)
                {
                    if (!_children.TryGetValue(((long)node << 16) | text[j], out node))
                    {
                        break;
                    }
                    if (_terminal[node] >= 0)
                    {
                        best = _terminal[node];
                        bestEnd = j + 1;
                    }
                }
                if (best >= 0)
                {
                    matches.Add((i, bestEnd, best));
                    i = bestEnd;
                }
                else
                {
                    i++;
                }
            }
        }

        private static bool IsWordCharacterBefore(ReadOnlySpan<char> text, int index)
        {
            var start = index - 1;
            if (start > 0 && char.IsLowSurrogate(text[start]) && char.IsHighSurrogate(text[start - 1]))
            {
                start--;
            }
            return CharacterClasses.IsWordCharacter(CodePoints.Read(text, ref start));
        }

        private static bool IsWordCharacterAt(ReadOnlySpan<char> text, int index) =>
            CharacterClasses.IsWordCharacter(CodePoints.Read(text, ref index));
    }
}
