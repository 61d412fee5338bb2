using System.Globalization;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>
/// A score's histogram as inline SVG: the stats' bins as bars (coloured by the side of the threshold they fall on),
/// the threshold as a dashed line, and each bar's range and count on hover.
/// </summary>
internal static class Histogram
{
    private const double Width = 660;
    private const double Height = 190;
    private const double Left = 46;
    private const double Right = 10;
    private const double Top = 18;
    private const double Bottom = 26;

    public static void Write(HtmlBuilder html, string score, ScoreSummary histogram, ScoreThreshold? threshold)
    {
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var max = Math.Max(1, histogram.Bins.Max());
        var barWidth = plotWidth / histogram.Bins.Count;
        var binWidth = (histogram.High - histogram.Low) / histogram.Bins.Count;
        var total = histogram.Bins.Sum();
        html.Open("svg", ("class", "hist"), ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", $"0 0 {N(Width)} {N(Height)}"),
            ("role", "img"), ("aria-label", $"histogram of {score}: {Html.Count(total)} values in {histogram.Bins.Count} bins"), ("data-score", score));
        html.Element("title", $"{score}: {Html.Count(total)} values, {histogram.Bins.Count} bins from {N(histogram.Low)} to {N(histogram.High)}");
        html.Raw($"<line class=\"base\" x1=\"{N(Left)}\" y1=\"{N(Top + plotHeight)}\" x2=\"{N(Left + plotWidth)}\" y2=\"{N(Top + plotHeight)}\"/>");
        for (var i = 0; i < histogram.Bins.Count; i++)
        {
            var count = histogram.Bins[i];
            var from = histogram.Low + (i * binWidth);
            var to = histogram.Low + ((i + 1) * binWidth);
            var height = count == 0 ? 0 : Math.Max(2, plotHeight * count / max);
            var side = Side(from, to, threshold);
            var range = i == 0 ? $"below {N(to)}" : i == histogram.Bins.Count - 1 ? $"{N(from)} and above" : $"[{N(from)}, {N(to)})";
            html.Open("rect", ("class", "bar " + side), ("x", N(Left + (i * barWidth) + 0.5)), ("y", N(Top + plotHeight - height)),
                ("width", N(Math.Max(0.5, barWidth - 1))), ("height", N(height)), ("data-count", count.ToString(CultureInfo.InvariantCulture)));
            html.Element("title", $"{range}: {Html.Count(count)} ({Html.Percent(count, total)})").Close("rect");
        }
        Label(html, Left, Top + plotHeight + 16, N(histogram.Low), "start");
        Label(html, Left + (plotWidth / 2), Top + plotHeight + 16, N((histogram.Low + histogram.High) / 2), "middle");
        Label(html, Left + plotWidth, Top + plotHeight + 16, N(histogram.High), "end");
        Label(html, Left - 6, Top + 4, Html.Count(max), "end");
        Label(html, Left - 6, Top + plotHeight, "0", "end");
        if (threshold is not null)
        {
            var position = Math.Clamp((threshold.Value - histogram.Low) / (histogram.High - histogram.Low), 0, 1);
            var x = Left + (position * plotWidth);
            html.Open("line", ("class", "threshold"), ("x1", N(x)), ("y1", N(Top - 6)), ("x2", N(x)), ("y2", N(Top + plotHeight)))
                .Element("title", "threshold: remove when " + threshold.Reason).Close("line");
            var anchor = position > 0.8 ? "end" : "start";
            html.Open("text", ("class", "tlabel"), ("x", N(x + (anchor == "end" ? -4 : 4))), ("y", N(Top - 6)), ("text-anchor", anchor))
                .Text(threshold.Reason).Close("text");
        }
        html.Close("svg");
    }

    /// <summary>Which side of the threshold a bin lies on: removed, kept, or mixed (the threshold falls inside it).</summary>
    internal static string Side(double from, double to, ScoreThreshold? threshold)
    {
        if (threshold is null)
        {
            return "none";
        }
        var t = threshold.Value;
        return threshold.Direction == ThresholdDirection.Below
            ? (to <= t ? "removed" : from >= t ? "kept" : "mixed")
            : (from >= t ? "removed" : to <= t ? "kept" : "mixed");
    }

    private static void Label(HtmlBuilder html, double x, double y, string text, string anchor) =>
        html.Open("text", ("class", "axis"), ("x", N(x)), ("y", N(y)), ("text-anchor", anchor)).Text(text).Close("text");

    private static string N(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
}
