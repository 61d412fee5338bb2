namespace Riverbed.Runner.Report;

/// <summary>
/// A span to place over a text: UTF-16 offsets as the scored output records them. <see cref="Rank"/> orders spans with
/// the same extent (lower wraps higher); <see cref="IsFocus"/> marks spans an excerpt of a long text should show.
/// </summary>
internal readonly record struct SpanRange(int Start, int End, int Rank = 0, bool IsFocus = false);

/// <summary>A node of laid-out text: plain text, a fragment of a span, or the place for a span's inline note.</summary>
internal abstract record LayoutNode;

internal sealed record TextRun(string Text) : LayoutNode;

/// <summary>
/// One piece of a span. A span that crosses another span's edge is split into several fragments so the markup
/// nests; <see cref="IsFirst"/> and <see cref="IsLast"/> say which piece this is. <see cref="Span"/> indexes the input.
/// </summary>
internal sealed record SpanFragment(int Span, bool IsFirst, bool IsLast, IReadOnlyList<LayoutNode> Children) : LayoutNode;

/// <summary>Where a span's inline note goes: right after its last fragment, inside whatever encloses it.</summary>
internal sealed record SpanNote(int Span) : LayoutNode;

internal enum SpanAdjustmentKind
{
    /// <summary>Start or end lay outside the text and were moved to its edge.</summary>
    Clamped,

    /// <summary>An edge fell between the two halves of a surrogate pair and was moved out to take the whole character.</summary>
    Widened,

    /// <summary>End before start: not shown.</summary>
    Reversed,

    /// <summary>Nothing left to highlight (start equal to end, possibly after clamping): not shown.</summary>
    Empty,

    /// <summary>Entirely in the part of a long text the excerpt leaves out: not shown.</summary>
    OutsideExcerpt,

    /// <summary>Partly in the omitted part: only the part inside the excerpt is highlighted.</summary>
    CutByExcerpt,
}

/// <summary>What happened to a span that could not be placed exactly as recorded.</summary>
internal sealed record SpanAdjustment(int Span, SpanAdjustmentKind Kind, int RecordedStart, int RecordedEnd, int Start, int End);

/// <summary>A text laid out with its spans: the excerpt shown (<see cref="Start"/>..<see cref="End"/>), its nodes, and any adjustments.</summary>
internal sealed record LaidOutText(int TextLength, int Start, int End, IReadOnlyList<LayoutNode> Nodes, IReadOnlyList<SpanAdjustment> Adjustments)
{
    public int OmittedBefore => Start;

    public int OmittedAfter => TextLength - End;
}

/// <summary>
/// Splits a text at span boundaries into a tree of text runs and span fragments. Offsets are taken as recorded (never
/// re-tokenized); out-of-range spans are clamped and reported, edges inside a surrogate pair are widened to the whole
/// character, and overlapping spans nest: where one span crosses another's edge it is split into fragments.
/// </summary>
internal static class SpanLayout
{
    public static LaidOutText Lay(string text, IReadOnlyList<SpanRange> spans, int maxChars = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 1);
        var adjustments = new List<SpanAdjustment>();
        var placed = new List<Placed>(spans.Count);
        for (var i = 0; i < spans.Count; i++)
        {
            var (recordedStart, recordedEnd) = (spans[i].Start, spans[i].End);
            if (recordedStart > recordedEnd)
            {
                adjustments.Add(new(i, SpanAdjustmentKind.Reversed, recordedStart, recordedEnd, recordedStart, recordedEnd));
                continue;
            }
            var start = Math.Clamp(recordedStart, 0, text.Length);
            var end = Math.Clamp(recordedEnd, 0, text.Length);
            if (start != recordedStart || end != recordedEnd)
            {
                adjustments.Add(new(i, SpanAdjustmentKind.Clamped, recordedStart, recordedEnd, start, end));
            }
            var (widenedStart, widenedEnd) = (start, end);
            if (SplitsSurrogatePair(text, widenedStart))
            {
                widenedStart--;
            }
            if (SplitsSurrogatePair(text, widenedEnd))
            {
                widenedEnd++;
            }
            if (widenedStart != start || widenedEnd != end)
            {
                adjustments.Add(new(i, SpanAdjustmentKind.Widened, recordedStart, recordedEnd, widenedStart, widenedEnd));
            }
            if (widenedStart == widenedEnd)
            {
                adjustments.Add(new(i, SpanAdjustmentKind.Empty, recordedStart, recordedEnd, widenedStart, widenedEnd));
                continue;
            }
            placed.Add(new Placed(i, widenedStart, widenedEnd, spans[i].Rank, spans[i].IsFocus));
        }

        var (excerptStart, excerptEnd) = Excerpt(text, placed, maxChars);
        if (excerptStart > 0 || excerptEnd < text.Length)
        {
            var kept = new List<Placed>(placed.Count);
            foreach (var span in placed)
            {
                if (span.End <= excerptStart || span.Start >= excerptEnd)
                {
                    adjustments.Add(new(span.Index, SpanAdjustmentKind.OutsideExcerpt, spans[span.Index].Start, spans[span.Index].End, span.Start, span.End));
                    continue;
                }
                if (span.Start < excerptStart || span.End > excerptEnd)
                {
                    var cut = span with { Start = Math.Max(span.Start, excerptStart), End = Math.Min(span.End, excerptEnd) };
                    adjustments.Add(new(span.Index, SpanAdjustmentKind.CutByExcerpt, spans[span.Index].Start, spans[span.Index].End, cut.Start, cut.End));
                    kept.Add(cut);
                    continue;
                }
                kept.Add(span);
            }
            placed = kept;
        }

        adjustments.Sort((a, b) => a.Span != b.Span ? a.Span.CompareTo(b.Span) : a.Kind.CompareTo(b.Kind));
        return new LaidOutText(text.Length, excerptStart, excerptEnd, Sweep(text, placed, excerptStart, excerptEnd), adjustments);
    }

    /// <summary>Flattens laid-out nodes back to their text (notes contribute nothing): the excerpt, exactly.</summary>
    public static string PlainText(IEnumerable<LayoutNode> nodes)
    {
        var text = new System.Text.StringBuilder();
        Append(nodes);
        return text.ToString();

        void Append(IEnumerable<LayoutNode> items)
        {
            foreach (var node in items)
            {
                switch (node)
                {
                    case TextRun run:
                        text.Append(run.Text);
                        break;
                    case SpanFragment fragment:
                        Append(fragment.Children);
                        break;
                }
            }
        }
    }

    private static bool SplitsSurrogatePair(string text, int offset) =>
        offset > 0 && offset < text.Length && char.IsHighSurrogate(text[offset - 1]) && char.IsLowSurrogate(text[offset]);

    /// <summary>
    /// The part of a long text to show: <paramref name="maxChars"/> characters starting a little before the first focus
    /// span (else the first span, else the beginning), never splitting a surrogate pair.
    /// </summary>
    private static (int Start, int End) Excerpt(string text, List<Placed> placed, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return (0, text.Length);
        }
        var anchor = placed.Where(span => span.IsFocus).Select(span => (int?)span.Start).Min()
            ?? placed.Select(span => (int?)span.Start).Min()
            ?? 0;
        var start = Math.Max(0, anchor - (maxChars / 4));
        var end = Math.Min(text.Length, start + maxChars);
        start = Math.Max(0, end - maxChars);
        if (SplitsSurrogatePair(text, start))
        {
            start++;
        }
        if (SplitsSurrogatePair(text, end))
        {
            end--;
        }
        return (start, end);
    }

    private static List<LayoutNode> Sweep(string text, List<Placed> placed, int excerptStart, int excerptEnd)
    {
        var boundaries = new SortedSet<int> { excerptStart, excerptEnd };
        foreach (var span in placed)
        {
            boundaries.Add(span.Start);
            boundaries.Add(span.End);
        }
        var startingAt = placed.ToLookup(span => span.Start);
        var root = new List<LayoutNode>();
        var open = new List<Frame>();
        var points = boundaries.ToArray();
        for (var b = 0; b < points.Length; b++)
        {
            var point = points[b];
            var lowestEnding = open.FindIndex(frame => frame.Span.End == point);
            var reopen = new List<Frame>();
            if (lowestEnding >= 0)
            {
                // Close everything from the top of the stack down to the lowest span that ends here; the ones that go
                // on are reopened as new fragments, which is what keeps crossing spans properly nested.
                for (var i = open.Count - 1; i >= lowestEnding; i--)
                {
                    var frame = open[i];
                    open.RemoveAt(i);
                    var container = open.Count == 0 ? root : open[^1].Children;
                    var ends = frame.Span.End == point;
                    container.Add(new SpanFragment(frame.Span.Index, frame.IsFirst, ends, frame.Children));
                    if (ends)
                    {
                        container.Add(new SpanNote(frame.Span.Index));
                    }
                    else
                    {
                        reopen.Add(new Frame(frame.Span, IsFirst: false));
                    }
                }
            }
            var opening = reopen.Concat(startingAt[point].Select(span => new Frame(span, IsFirst: true)))
                .OrderByDescending(frame => frame.Span.End)
                .ThenBy(frame => frame.Span.Rank)
                .ThenBy(frame => frame.Span.Index);
            open.AddRange(opening);
            if (b + 1 < points.Length)
            {
                var container = open.Count == 0 ? root : open[^1].Children;
                container.Add(new TextRun(text[point..points[b + 1]]));
            }
        }
        return root;
    }

    private sealed record Placed(int Index, int Start, int End, int Rank, bool IsFocus);

    private sealed record Frame(Placed Span, bool IsFirst)
    {
        public List<LayoutNode> Children { get; } = [];
    }
}
