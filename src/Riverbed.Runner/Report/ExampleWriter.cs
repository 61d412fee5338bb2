using System.Globalization;

namespace Riverbed.Runner.Report;

/// <summary>
/// Renders one sampled example: its decision, scores and dialogue, with the evidence spans highlighted by kind. A turn's
/// spans are laid out by <see cref="SpanLayout"/> from their recorded offsets; spans it had to adjust (out of range,
/// inside a surrogate pair, outside the excerpt) are listed under the example, never silently dropped.
/// </summary>
internal static class ExampleWriter
{
    public static void Write(HtmlBuilder html, ScoredExample example, string currentScore, ReportLimits limits)
    {
        // Every score exactly (round-trip), so the explorer can place any shown example against any threshold.
        (string, string?)[] attributes =
        [
            ("class", example.IsKept ? "example kept" : "example removed"), ("data-id", example.Id),
            ("data-source", example.Source), ("data-row", example.Row.ToString(CultureInfo.InvariantCulture)),
            ("data-file", example.File),
            ("data-value", example.Scores.GetValueOrDefault(currentScore) is { } value ? value.ToString("R", CultureInfo.InvariantCulture) : null),
            .. example.Scores.Select(pair => ("data-v-" + pair.Key, pair.Value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : null)),
        ];
        html.Open("article", attributes);
        WriteHeader(html, example, currentScore);

        var notes = new List<string>();
        var spansByTurn = new Dictionary<int, List<EvidenceSpan>>();
        foreach (var span in example.Spans)
        {
            if (span.Turn < 0 || span.Turn >= example.Turns.Count)
            {
                notes.Add($"{Describe(span)} refers to turn {span.Turn}, but the example has {example.Turns.Count} turn(s): not shown.");
                continue;
            }
            if (!spansByTurn.TryGetValue(span.Turn, out var list))
            {
                spansByTurn[span.Turn] = list = [];
            }
            list.Add(span);
        }

        html.Open("div", ("class", "dialogue"));
        var shown = TurnsToShow(example, spansByTurn, limits.MaxTurnsPerExample);
        var previous = -1;
        foreach (var index in shown)
        {
            if (index > previous + 1)
            {
                Gap(html, index - previous - 1);
            }
            WriteTurn(html, example.Turns[index], spansByTurn.GetValueOrDefault(index) ?? [], limits, notes);
            previous = index;
        }
        if (example.Turns.Count > previous + 1)
        {
            Gap(html, example.Turns.Count - previous - 1);
        }
        if (example.Turns.Count == 0)
        {
            html.Element("p", "This row has no turns (riverbed_turns is empty or missing).", ("class", "none"));
        }
        html.Close("div");

        if (notes.Count > 0)
        {
            html.Open("ul", ("class", "spannotes"));
            foreach (var note in notes)
            {
                html.Element("li", note);
            }
            html.Close("ul");
        }
        html.Close("article").Line();
    }

    private static void WriteHeader(HtmlBuilder html, ScoredExample example, string currentScore)
    {
        html.Open("header");
        html.Element("span", example.IsKept ? "kept" : "removed", ("class", example.IsKept ? "badge keep" : "badge remove"));
        foreach (var reason in example.Reasons)
        {
            html.Element("span", reason, ("class", "reason"));
        }
        html.Element("span", example.Id, ("class", "ex-id"), ("title", "riverbed_id"));
        html.Element("span", $"{example.Source} · row {example.Row.ToString(CultureInfo.InvariantCulture)}", ("title", example.File));
        html.Open("span", ("class", "scores"));
        foreach (var (score, value) in example.Scores)
        {
            html.Element("span", $"{Abbreviation(score)} {Html.Score(value)}", ("class", score == currentScore ? "current" : null), ("title", score));
        }
        html.Close("span");
        foreach (var skipped in example.Skipped)
        {
            html.Element("span", "skipped: " + skipped, ("class", "muted"));
        }
        html.Close("header");
    }

    private static void WriteTurn(HtmlBuilder html, ExampleTurn turn, List<EvidenceSpan> spans, ReportLimits limits, List<string> notes)
    {
        var speakerClass = turn.Speaker is "assistant" or "user" or "system" ? turn.Speaker : "other";
        html.Open("div", ("class", "turn " + speakerClass), ("data-turn", turn.Index.ToString(CultureInfo.InvariantCulture)));
        html.Open("div", ("class", "speaker"));
        html.Text(turn.Speaker);
        if (turn.Place(turn.Index - 1) is { } place)
        {
            // Preference pairs and OASST trees put several answers after one prompt; the label says which one this is.
            html.Element("div", place, ("class", "branch"));
        }
        html.Close("div");
        var ranges = spans.Select(span => new SpanRange(span.Start, span.End, span.NestingRank, span.Flagged)).ToList();
        var layout = SpanLayout.Lay(turn.Text, ranges, limits.MaxTurnChars);
        html.Open("div", ("class", "text"));
        if (layout.OmittedBefore > 0)
        {
            html.Element("span", $"[… {Html.Count(layout.OmittedBefore)} characters before …] ", ("class", "muted"));
        }
        WriteNodes(html, layout.Nodes, spans);
        if (layout.OmittedAfter > 0)
        {
            html.Element("span", $" [… {Html.Count(layout.OmittedAfter)} characters after …]", ("class", "muted"));
        }
        html.Close("div");
        if (turn.Speaker == "assistant" && TurnScores(turn) is { Length: > 0 } scores)
        {
            html.Element("div", scores, ("class", "tscores"));
        }
        html.Close("div");
        foreach (var adjustment in layout.Adjustments)
        {
            notes.Add($"turn {turn.Index}: {Describe(spans[adjustment.Span])} {Explain(adjustment, turn.Text.Length)}");
        }
    }

    /// <summary>Writes laid-out nodes: text escaped, fragments as marks carrying their span's kind, notes after a span's last fragment.</summary>
    internal static void WriteNodes(HtmlBuilder html, IReadOnlyList<LayoutNode> nodes, IReadOnlyList<EvidenceSpan> spans)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextRun run:
                    html.Text(run.Text);
                    break;
                case SpanFragment fragment:
                    var span = spans[fragment.Span];
                    var kind = KindClass(span);
                    var pair = kind == "contradiction" && span.Pair is { } number ? number.ToString(CultureInfo.InvariantCulture) : null;
                    var state = span.Flagged ? " flagged" : kind switch { "fill" => " ok", "contradiction" => " quiet", _ => string.Empty };
                    var piece = fragment.IsFirst && fragment.IsLast ? null : fragment.IsFirst ? "first" : fragment.IsLast ? "last" : "middle";
                    html.Open("mark", ("class", $"sp k-{kind}{state}"), ("data-pair", pair), ("data-piece", piece),
                        ("tabindex", pair is null ? null : "0"), ("title", Title(span)), ("data-score", ScoreAttribute(span)));
                    WriteNodes(html, fragment.Children, spans);
                    html.Close("mark");
                    break;
                case SpanNote note:
                    WriteNote(html, spans[note.Span]);
                    break;
            }
        }
    }

    private static void WriteNote(HtmlBuilder html, EvidenceSpan span)
    {
        switch (KindClass(span))
        {
            case "fill":
                html.Element("span", $"→ {span.Replacement ?? "?"} {Html.Score(span.Score)}", ("class", span.Flagged ? "note n-fill" : "note n-fill ok"), ("title", Title(span)), ("data-score", ScoreAttribute(span)));
                break;
            case "entity":
                html.Element("span", $"{span.Replacement ?? "entity"} {Html.Score(span.Score)}", ("class", "note n-entity"), ("title", Title(span)));
                break;
            case "contradiction":
                var pair = span.Pair?.ToString(CultureInfo.InvariantCulture);
                html.Element("span", $"⇄{pair ?? "?"} {Html.Score(span.Score)}", ("class", span.Flagged ? "note n-contra" : "note n-contra quiet"), ("data-pair", pair), ("title", Title(span)), ("data-score", ScoreAttribute(span)));
                break;
            default:
                html.Element("span", $"{span.Kind} {Html.Score(span.Score)}", ("class", "note n-other"), ("title", Title(span)));
                break;
        }
    }

    /// <summary>The span's score exactly, for the explorer to flag it again against a moved threshold.</summary>
    private static string? ScoreAttribute(EvidenceSpan span) => span.Score is { } score ? score.ToString("R", CultureInfo.InvariantCulture) : null;

    private static string KindClass(EvidenceSpan span) => span.Kind switch
    {
        EvidenceSpan.Fill => "fill",
        EvidenceSpan.Entity => "entity",
        EvidenceSpan.Contradiction => "contradiction",
        _ => "other",
    };

    /// <summary>The hover text of a span: what it is, what the model put there, and the score.</summary>
    internal static string Title(EvidenceSpan span) => KindClass(span) switch
    {
        "fill" => $"masked word “{span.Original}”, model's fill “{span.Replacement}”, position score {Html.Score(span.Score)}" + (span.Flagged ? " — the fill contradicted the original" : " — agreed"),
        "entity" => $"entity{(span.Replacement is { Length: > 0 } entityKind ? " (" + entityKind + ")" : string.Empty)} “{span.Original}”, P(replaced) {Html.Score(span.Score)}" + (span.Flagged ? " — flagged" : string.Empty),
        "contradiction" => $"sentence of {(span.Flagged ? "contradicting " : string.Empty)}pair {span.Pair?.ToString(CultureInfo.InvariantCulture) ?? "?"}, P(contradiction) {Html.Score(span.Score)} — hover or click to highlight its partner",
        _ => $"{span.Kind} span, score {Html.Score(span.Score)}",
    };

    private static string Describe(EvidenceSpan span) =>
        $"{span.Kind} span [{span.Start}, {span.End})" + (span.Original is { Length: > 0 } original ? $" “{Shorten(original)}”" : string.Empty);

    private static string Explain(SpanAdjustment adjustment, int length) => adjustment.Kind switch
    {
        SpanAdjustmentKind.Clamped => $"lies outside the turn's {length} characters; clamped to [{adjustment.Start}, {adjustment.End}).",
        SpanAdjustmentKind.Widened => $"splits a surrogate pair; widened to [{adjustment.Start}, {adjustment.End}) to take the whole character.",
        SpanAdjustmentKind.Reversed => "ends before it starts: not shown.",
        SpanAdjustmentKind.Empty => "is empty (after clamping): not shown.",
        SpanAdjustmentKind.OutsideExcerpt => "lies in the part of this long turn that is not shown.",
        SpanAdjustmentKind.CutByExcerpt => $"is cut at the excerpt's edge: only [{adjustment.Start}, {adjustment.End}) is highlighted.",
        _ => adjustment.Kind.ToString(),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..ReportWriter.SafeCut(text, 40)] + "…";

    private static string TurnScores(ExampleTurn turn)
    {
        var parts = new List<string>();
        if (turn.FillCompareMin is not null || turn.Masked is not null)
        {
            parts.Add($"fill min {Html.Score(turn.FillCompareMin)}, mean {Html.Score(turn.FillCompareMean)}, {turn.Masked?.ToString(CultureInfo.InvariantCulture) ?? "?"} masked, {turn.Mismatches?.ToString(CultureInfo.InvariantCulture) ?? "?"} differed");
        }
        if (turn.ReplacedEntityMax is not null || turn.ReplacedTokenMax is not null)
        {
            parts.Add($"entity max {Html.Score(turn.ReplacedEntityMax)}, token mean {Html.Score(turn.ReplacedTokenMean)}, max {Html.Score(turn.ReplacedTokenMax)}");
        }
        return string.Join(" · ", parts);
    }

    private static string Abbreviation(string score) => score switch
    {
        "fill_compare_min" => "fill min",
        "fill_compare_mean" => "fill mean",
        "replaced_entity_max" => "entity max",
        "contradiction_max" => "contra max",
        _ => score,
    };

    private static void Gap(HtmlBuilder html, int count) =>
        html.Element("div", count == 1 ? "… 1 turn not shown …" : $"… {count} turns not shown …", ("class", "gap"));

    /// <summary>
    /// Which turns to show when there are more than <paramref name="max"/>: those with flagged evidence, then with any
    /// evidence, then assistant turns, then the rest; shown in dialogue order.
    /// </summary>
    internal static IReadOnlyList<int> TurnsToShow(ScoredExample example, Dictionary<int, List<EvidenceSpan>> spansByTurn, int max)
    {
        var all = Enumerable.Range(0, example.Turns.Count);
        if (example.Turns.Count <= max)
        {
            return all.ToList();
        }
        return all
            .OrderByDescending(i => spansByTurn.TryGetValue(i, out var spans) && spans.Any(span => span.Flagged))
            .ThenByDescending(spansByTurn.ContainsKey)
            .ThenByDescending(i => example.Turns[i].Speaker == "assistant")
            .ThenBy(i => i)
            .Take(max)
            .Order()
            .ToList();
    }
}
