using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using Riverbed.Runner.Report;

namespace Riverbed.Runner.Tests.Report;

/// <summary>The report's HTML model: escaping, laying spans over text, and rendering an example.</summary>
public sealed class HtmlModelTests
{
    [Fact]
    public void Markup_characters_become_entities()
    {
        Assert.Equal("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;", Html.Escape("<script>alert(\"x\")</script> & 'q'"));
    }

    [Fact]
    public void Invisible_control_characters_and_lone_surrogates_become_visible_markers()
    {
        Assert.Equal("a[U+0000]b[U+0007]c[U+0085]d[U+D800]e[U+DC00]", Html.Escape("a\0b\u0007c\u0085d\uD800e\uDC00"));
        Assert.Equal("tab\tand\nnewline", Html.Escape("tab\tand\nnewline"));
    }

    [Fact]
    public void Emoji_CJK_and_combining_marks_pass_through_unchanged()
    {
        const string text = "😀 東京 e\u0301 👩‍👩‍👧 𝕏";
        Assert.Equal(text, Html.Escape(text));
    }

    [Fact]
    public void Attribute_values_are_escaped_by_the_builder()
    {
        var html = new HtmlBuilder().Open("mark", ("title", "\"><script>x</script>"), ("data-x", null)).Text("<b>").Close("mark").ToString();
        Assert.Equal("<mark title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">&lt;b&gt;</mark>", html);
    }

    [Fact]
    public void Spans_at_both_ends_of_the_text_are_laid_out_whole()
    {
        var layout = SpanLayout.Lay("abc def", [new SpanRange(0, 3), new SpanRange(4, 7)]);
        Assert.Empty(layout.Adjustments);
        Assert.Equal(
            [
                new SpanFragment(0, true, true, [new TextRun("abc")]), new SpanNote(0), new TextRun(" "),
                new SpanFragment(1, true, true, [new TextRun("def")]), new SpanNote(1),
            ],
            layout.Nodes,
            NodeComparer.Instance);
    }

    [Fact]
    public void Crossing_spans_nest_by_splitting_the_one_that_continues()
    {
        var layout = SpanLayout.Lay("abcdefgh", [new SpanRange(0, 5), new SpanRange(3, 8)]);
        Assert.Equal(
            [
                new SpanFragment(0, true, true, [new TextRun("abc"), new SpanFragment(1, true, false, [new TextRun("de")])]),
                new SpanNote(0),
                new SpanFragment(1, false, true, [new TextRun("fgh")]),
                new SpanNote(1),
            ],
            layout.Nodes,
            NodeComparer.Instance);
    }

    [Fact]
    public void Spans_with_the_same_extent_nest_by_rank_and_inner_spans_stay_inside()
    {
        // A sentence (rank 0), an entity (rank 1) over the same text, and a word (rank 2) inside.
        var layout = SpanLayout.Lay("Ada wrote.", [new SpanRange(4, 9, Rank: 2), new SpanRange(0, 10, Rank: 1), new SpanRange(0, 10, Rank: 0)]);
        Assert.Equal(
            [
                new SpanFragment(2, true, true,
                [
                    new SpanFragment(1, true, true, [new TextRun("Ada "), new SpanFragment(0, true, true, [new TextRun("wrote")]), new SpanNote(0), new TextRun(".")]),
                    new SpanNote(1),
                ]),
                new SpanNote(2),
            ],
            layout.Nodes,
            NodeComparer.Instance);
    }

    [Fact]
    public void Spans_out_of_range_are_clamped_and_reported()
    {
        var layout = SpanLayout.Lay("hello", [new SpanRange(-3, 2), new SpanRange(3, 40), new SpanRange(9, 12)]);
        Assert.Equal("hello", SpanLayout.PlainText(layout.Nodes));
        Assert.Equal(
            [
                new SpanAdjustment(0, SpanAdjustmentKind.Clamped, -3, 2, 0, 2),
                new SpanAdjustment(1, SpanAdjustmentKind.Clamped, 3, 40, 3, 5),
                new SpanAdjustment(2, SpanAdjustmentKind.Clamped, 9, 12, 5, 5),
                new SpanAdjustment(2, SpanAdjustmentKind.Empty, 9, 12, 5, 5),
            ],
            layout.Adjustments);
        Assert.Equal("lo", FragmentText(layout.Nodes, 1));
    }

    [Fact]
    public void An_edge_inside_a_surrogate_pair_is_widened_to_the_whole_character()
    {
        const string text = "a😀b😀";
        var layout = SpanLayout.Lay(text, [new SpanRange(2, 4), new SpanRange(1, 5)]);
        Assert.Equal("😀b", FragmentText(layout.Nodes, 0));
        Assert.Equal("😀b😀", FragmentText(layout.Nodes, 1));
        Assert.Contains(new SpanAdjustment(0, SpanAdjustmentKind.Widened, 2, 4, 1, 4), layout.Adjustments);
        Assert.Contains(new SpanAdjustment(1, SpanAdjustmentKind.Widened, 1, 5, 1, 6), layout.Adjustments);
        Assert.All(TextRuns(layout.Nodes), run => Assert.False(run.Length > 0 && (char.IsLowSurrogate(run[0]) || char.IsHighSurrogate(run[^1]))));
    }

    [Fact]
    public void Reversed_and_empty_spans_are_reported_and_not_shown()
    {
        var layout = SpanLayout.Lay("hello", [new SpanRange(4, 1), new SpanRange(2, 2)]);
        Assert.Equal([new TextRun("hello")], layout.Nodes, NodeComparer.Instance);
        Assert.Equal([SpanAdjustmentKind.Reversed, SpanAdjustmentKind.Empty], layout.Adjustments.Select(a => a.Kind));
    }

    [Fact]
    public void A_long_text_shows_an_excerpt_around_its_first_flagged_span()
    {
        var text = new string('x', 5000) + "FLAG" + new string('y', 5000);
        var layout = SpanLayout.Lay(text, [new SpanRange(10, 14), new SpanRange(5000, 5004, IsFocus: true), new SpanRange(4990, 5010)], maxChars: 400);
        Assert.Equal(400, layout.End - layout.Start);
        Assert.InRange(layout.Start, 4600, 5000);
        Assert.Equal("FLAG", FragmentText(layout.Nodes, 1));
        Assert.Equal(text[layout.Start..layout.End], SpanLayout.PlainText(layout.Nodes));
        Assert.Contains(layout.Adjustments, a => a is { Span: 0, Kind: SpanAdjustmentKind.OutsideExcerpt });
        Assert.DoesNotContain(layout.Adjustments, a => a.Span == 2);
    }

    [Fact]
    public void Any_spans_over_any_text_render_to_well_formed_markup_that_keeps_the_text_exactly()
    {
        string[] pieces = ["a", " ", "é", "東", "😀", "e\u0301", "<", "&", "\"", "\n"];
        var cases =
            from parts in Gen.ListOf(Gen.Elements(pieces))
            from spans in Gen.ListOf(
                from start in Gen.Choose(-3, 40)
                from length in Gen.Choose(-2, 30)
                from rank in Gen.Choose(0, 3)
                from kind in Gen.Elements("fill", "entity", "contradiction", "<odd kind>")
                from flagged in Gen.Elements(false, true)
                select new EvidenceSpan(kind, 0, start, start + length, "<o>", "<r>", 0.5, flagged, kind == "contradiction" ? rank : null))
            select (Text: string.Concat(parts), Spans: spans);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), Prop.ForAll(cases.ToArbitrary(), test =>
        {
            foreach (var maxChars in (int[])[7, 25, 10_000])
            {
                var layout = SpanLayout.Lay(test.Text, test.Spans.Select(s => new SpanRange(s.Start, s.End, s.NestingRank, s.Flagged)).ToList(), maxChars);
                Assert.Equal(test.Text[layout.Start..layout.End], SpanLayout.PlainText(layout.Nodes));
                Assert.All(TextRuns(layout.Nodes), run => Assert.False(run.Length > 0 && (char.IsLowSurrogate(run[0]) || char.IsHighSurrogate(run[^1]))));
                var shown = Enumerable.Range(0, test.Spans.Count).Where(i => !layout.Adjustments.Any(a => a.Span == i && a.Kind is
                    SpanAdjustmentKind.Reversed or SpanAdjustmentKind.Empty or SpanAdjustmentKind.OutsideExcerpt));
                foreach (var i in shown)
                {
                    var last = layout.Adjustments.LastOrDefault(a => a.Span == i && a.Kind != SpanAdjustmentKind.Reversed);
                    var (start, end) = last is null ? (test.Spans[i].Start, test.Spans[i].End) : (last.Start, last.End);
                    Assert.Equal(test.Text[start..end], FragmentText(layout.Nodes, i));
                    Assert.Single(Notes(layout.Nodes), note => note == i);
                }
                var html = new HtmlBuilder();
                ExampleWriter.WriteNodes(html, layout.Nodes, test.Spans);
                var parsed = XElement.Parse("<div>" + html + "</div>", LoadOptions.PreserveWhitespace);
                Assert.DoesNotContain(parsed.Descendants(), e => e.Name.LocalName is not "mark" and not "span");
            }
        }));
    }

    [Fact]
    public void A_flagged_fill_shows_its_replacement_and_score_inline_and_on_hover()
    {
        var html = Render(Example(Planted.KnownFlagText, new EvidenceSpan("fill", 1, 25, 30, "Paris", "London", -0.82, true, null)));
        var mark = html.Descendants("mark").Single();
        Assert.Equal("sp k-fill flagged", (string?)mark.Attribute("class"));
        Assert.Equal("Paris", mark.Value);
        Assert.Contains("London", (string?)mark.Attribute("title"), StringComparison.Ordinal);
        Assert.Contains("−0.820", (string?)mark.Attribute("title"), StringComparison.Ordinal);
        var note = (XElement)mark.NextNode!;
        Assert.Equal("note n-fill", (string?)note.Attribute("class"));
        Assert.Equal("→ London −0.820", note.Value);
    }

    [Fact]
    public void Contradicting_sentences_carry_the_same_pair_number_for_the_script_to_link()
    {
        var text = "It is hot. It is not hot.";
        var html = Render(Example(text,
            new EvidenceSpan("contradiction", 1, 0, 10, "It is hot.", null, 0.93, true, 4),
            new EvidenceSpan("contradiction", 1, 11, 25, "It is not hot.", null, 0.93, true, 4)));
        var marks = html.Descendants("mark").ToList();
        Assert.Equal(["4", "4"], marks.Select(m => (string?)m.Attribute("data-pair")));
        Assert.Equal(["It is hot.", "It is not hot."], marks.Select(m => m.Value));
        Assert.Equal(2, html.Descendants("span").Count(s => (string?)s.Attribute("class") == "note n-contra" && (string?)s.Attribute("data-pair") == "4"));
    }

    [Fact]
    public void Hostile_text_in_every_field_cannot_open_an_element()
    {
        const string evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
        var example = new ScoredExample(evil, evil, 3, evil, "remove", [evil], new Dictionary<string, double?> { ["fill_compare_min"] = -0.5 }, [evil],
            [new ExampleTurn(0, "user", evil, null, null, null, null, null, null, null), new ExampleTurn(1, evil, evil + evil, null, null, null, null, null, null, null)],
            [new EvidenceSpan(evil, 1, 3, 20, evil, evil, 0.5, true, null), new EvidenceSpan("fill", 1, 0, 8, evil, evil, -1, true, null), new EvidenceSpan("entity", 1, 5, 9, evil, evil, 0.9, true, null)]);
        var html = Render(example);
        var names = html.DescendantsAndSelf().Select(e => e.Name.LocalName).Distinct().ToList();
        Assert.DoesNotContain("script", names);
        Assert.DoesNotContain("img", names);
        Assert.All(html.DescendantsAndSelf().SelectMany(e => e.Attributes()), a => Assert.DoesNotMatch("^on", a.Name.LocalName));
        var answer = new XElement(html.Descendants("div").Single(d => (string?)d.Attribute("data-turn") == "1").Descendants("div")
            .Single(d => (string?)d.Attribute("class") == "text"));
        answer.Descendants("span").Where(s => ((string?)s.Attribute("class"))?.StartsWith("note", StringComparison.Ordinal) == true).Remove();
        Assert.Equal(evil + evil, answer.Value);
    }

    [Fact]
    public void Spans_of_a_turn_that_does_not_exist_are_listed_under_the_example()
    {
        var html = Render(Example("fine", new EvidenceSpan("fill", 9, 0, 2, "fi", "xx", -0.4, true, null)));
        Assert.Empty(html.Descendants("mark"));
        var note = html.Descendants("ul").Single(ul => (string?)ul.Attribute("class") == "spannotes");
        Assert.Contains("refers to turn 9, but the example has 2 turn(s)", note.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Examples_with_many_turns_show_the_turns_with_evidence_and_say_how_many_are_left_out()
    {
        var turns = Enumerable.Range(0, 20).Select(i => new ExampleTurn(i, i % 2 == 0 ? "user" : "assistant", $"turn {i}", null, null, null, null, null, null, null)).ToList();
        var example = new ScoredExample("many", "s", 0, "f", "keep", [], new Dictionary<string, double?>(), [], turns,
            [new EvidenceSpan("fill", 17, 0, 4, "turn", "step", -0.2, true, null)]);
        var html = Render(example, new ReportLimits { MaxTurnsPerExample = 4 });
        var shown = html.Descendants("div").Where(d => ((string?)d.Attribute("class"))?.StartsWith("turn ", StringComparison.Ordinal) == true)
            .Select(d => (string?)d.Attribute("data-turn")).ToList();
        Assert.Equal(["1", "3", "5", "17"], shown);
        Assert.Contains("… 11 turns not shown …", html.Value, StringComparison.Ordinal);
    }

    private static ScoredExample Example(string answer, params EvidenceSpan[] spans) =>
        new("id-1", "shard", 0, "shard.parquet", "remove", ["fill_compare_min<0"], new Dictionary<string, double?> { ["fill_compare_min"] = -0.82 }, [],
            [new ExampleTurn(0, "user", "Question?", null, null, null, null, null, null, null), new ExampleTurn(1, "assistant", answer, -0.82, 0.1, 3, 1, 0.2, 0.1, 0.3)],
            spans);

    private static XElement Render(ScoredExample example, ReportLimits? limits = null)
    {
        var html = new HtmlBuilder();
        ExampleWriter.Write(html, example, "fill_compare_min", limits ?? new ReportLimits());
        return XElement.Parse(html.ToString(), LoadOptions.PreserveWhitespace);
    }

    private static string FragmentText(IEnumerable<LayoutNode> nodes, int span)
    {
        var text = new System.Text.StringBuilder();
        Walk(nodes, inside: false);
        return text.ToString();

        void Walk(IEnumerable<LayoutNode> items, bool inside)
        {
            foreach (var node in items)
            {
                switch (node)
                {
                    case TextRun run when inside:
                        text.Append(run.Text);
                        break;
                    case SpanFragment fragment:
                        Walk(fragment.Children, inside || fragment.Span == span);
                        break;
                }
            }
        }
    }

    private static IEnumerable<string> TextRuns(IEnumerable<LayoutNode> nodes) =>
        nodes.SelectMany(node => node switch
        {
            TextRun run => [run.Text],
            SpanFragment fragment => TextRuns(fragment.Children),
            _ => [],
        });

    private static IEnumerable<int> Notes(IEnumerable<LayoutNode> nodes) =>
        nodes.SelectMany(node => node switch
        {
            SpanNote note => [note.Span],
            SpanFragment fragment => Notes(fragment.Children),
            _ => [],
        });

    /// <summary>Structural equality for layout trees (records compare child lists by reference).</summary>
    private sealed class NodeComparer : IEqualityComparer<LayoutNode>
    {
        public static NodeComparer Instance { get; } = new();

        public bool Equals(LayoutNode? x, LayoutNode? y) => (x, y) switch
        {
            (TextRun a, TextRun b) => a.Text == b.Text,
            (SpanNote a, SpanNote b) => a.Span == b.Span,
            (SpanFragment a, SpanFragment b) => a.Span == b.Span && a.IsFirst == b.IsFirst && a.IsLast == b.IsLast
                && a.Children.Count == b.Children.Count && a.Children.Zip(b.Children).All(pair => Equals(pair.First, pair.Second)),
            _ => false,
        };

        public int GetHashCode(LayoutNode obj) => obj.GetType().GetHashCode();
    }
}
