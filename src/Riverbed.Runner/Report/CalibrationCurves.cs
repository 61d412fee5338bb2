using System.Globalization;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>
/// The report's calibration section, from a calibration.json: per score its ROC and precision–recall curves as inline
/// SVG, with the operating point of the report's threshold and the recommended one marked, and the metrics beside them.
/// </summary>
internal static class CalibrationCurves
{
    private const double Size = 220;
    private const double Margin = 30;

    public static void Write(HtmlBuilder html, ReportContent content)
    {
        if (content.Calibration is not { } calibration)
        {
            return;
        }
        var coverage = calibration.Coverage;
        html.Open("section", ("id", "calibration")).Element("h2", "Calibration against labels");
        html.Element("p", string.Create(CultureInfo.InvariantCulture,
            $"From {content.CalibrationPath}: {Html.Count(coverage.Labelled)} labelled example(s) ({Html.Count(coverage.Positive)} positive, {Html.Count(coverage.Negative)} negative) from {calibration.Labels}; {Html.Count(coverage.Unlabelled)} unlabelled row(s), {Html.Count(coverage.UnknownIds)} label id(s) not in the run. Intervals: {calibration.Bootstrap} bootstrap resamples, {calibration.Confidence:P0}."),
            ("class", "muted"));
        foreach (var score in calibration.Scores)
        {
            html.Open("div", ("class", "calibration"), ("data-score", score.Score)).Element("h3", score.Score);
            if (score.RocAuc is null)
            {
                html.Element("p", score.Note ?? "no metrics", ("class", "none")).Close("div");
                continue;
            }
            content.Thresholds.TryGetValue(score.Score, out var threshold);
            var at = threshold is null ? null : OperatingPoint(score, threshold.Reason) ?? Nearest(score, threshold);
            var recommended = score.Recommended is { } text ? OperatingPoint(score, text) : null;
            Curve(html, "roc", $"ROC of {score.Score}, AUC {F(score.RocAuc.Value)}", "false positive rate", "true positive rate", score.Roc, at?.Roc, recommended?.Roc);
            Curve(html, "pr", $"precision–recall of {score.Score}, AP {F(score.PrAuc!.Value)}", "recall", "precision", score.Pr, at?.Pr, recommended?.Pr);
            html.Open("table", ("class", "metrics"));
            html.Raw("<tr><th></th><th>threshold</th><th class=\"num\">removed</th><th class=\"num\">precision</th><th class=\"num\">recall</th><th class=\"num\">F1</th></tr>");
            Metric(html, "ROC-AUC", score.RocAuc);
            Metric(html, "PR-AUC", score.PrAuc);
            Result(html, "at the run's threshold", score.AtThreshold);
            Result(html, "best F1", score.F1Optimal);
            if (calibration.Target is { } target)
            {
                Result(html, target, score.ForTarget);
            }
            html.Close("table").Close("div");
        }
        if (calibration.Combined is { } rule)
        {
            html.Open("table", ("class", "metrics"));
            html.Raw("<tr><th></th><th>rule</th><th class=\"num\">removed</th><th class=\"num\">precision</th><th class=\"num\">recall</th><th class=\"num\">F1</th></tr>");
            Result(html, "combined rule", rule.Result);
            html.Close("table");
        }
        html.Close("section").Line();
    }

    private sealed record Points((double X, double Y) Roc, (double X, double Y)? Pr);

    /// <summary>A threshold's point on both curves: the curve point with that threshold, else computed from its counts.</summary>
    private static Points? OperatingPoint(ScoreCalibration score, string threshold)
    {
        var result = new[] { score.AtThreshold, score.F1Optimal, score.ForTarget }.FirstOrDefault(r => r?.Threshold == threshold);
        if (result is not null)
        {
            var fpr = score.Negative == 0 ? 0 : (double)result.FalsePositives / score.Negative;
            return new Points((fpr, result.Recall.Value), result.Precision is { } p ? (result.Recall.Value, p.Value) : null);
        }
        var roc = score.Roc.FirstOrDefault(p => p.Threshold == threshold);
        return roc is null ? null : new Points((roc.X, roc.Y), score.Pr.FirstOrDefault(p => p.Threshold == threshold) is { } pr ? (pr.X, pr.Y) : null);
    }

    /// <summary>
    /// A threshold the calibration did not evaluate (the report's own): the curve points nearest to it, by threshold
    /// value — exact when the threshold lies between the same two scores as a point's, close otherwise.
    /// </summary>
    private static Points? Nearest(ScoreCalibration score, ScoreThreshold threshold)
    {
        CurvePoint? Closest(IReadOnlyList<CurvePoint> points) => points
            .Select(p => (Point: p, Parsed: TryParse(p.Threshold)))
            .Where(p => p.Parsed is { } t && t.Direction == threshold.Direction)
            .OrderBy(p => Math.Abs(p.Parsed!.Value - threshold.Value))
            .Select(p => p.Point)
            .FirstOrDefault();
        var roc = Closest(score.Roc);
        var pr = Closest(score.Pr);
        return roc is null ? null : new Points((roc.X, roc.Y), pr is null ? null : (pr.X, pr.Y));
    }

    private static ScoreThreshold? TryParse(string text)
    {
        try
        {
            return ScoreThreshold.Parse(text);
        }
        catch (RiverbedException)
        {
            return null;
        }
    }

    private static void Curve(HtmlBuilder html, string kind, string title, string xLabel, string yLabel, IReadOnlyList<CurvePoint> points,
        (double X, double Y)? at, (double X, double Y)? recommended)
    {
        var plot = Size - (2 * Margin);
        string X(double x) => N(Margin + (x * plot));
        string Y(double y) => N(Size - Margin - (y * plot));
        html.Open("svg", ("class", "curve " + kind), ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", $"0 0 {N(Size)} {N(Size)}"), ("role", "img"), ("aria-label", title));
        html.Element("title", title);
        html.Raw($"<rect class=\"frame\" x=\"{N(Margin)}\" y=\"{N(Margin)}\" width=\"{N(plot)}\" height=\"{N(plot)}\" fill=\"none\" stroke=\"#999\"/>");
        if (kind == "roc")
        {
            html.Raw($"<line class=\"chance\" x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(1)}\" y2=\"{Y(1)}\" stroke=\"#ccc\" stroke-dasharray=\"3 3\"/>");
        }
        var path = string.Join(" ", points.Select(p => $"{X(p.X)},{Y(p.Y)}"));
        html.Raw($"<polyline class=\"line\" fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"1.5\" points=\"{path}\"/>");
        if (recommended is { } r)
        {
            html.Open("circle", ("class", "recommended"), ("cx", X(r.X)), ("cy", Y(r.Y)), ("r", "4"), ("fill", "none"), ("stroke", "#2f855a"), ("stroke-width", "2"))
                .Element("title", "recommended threshold").Close("circle");
        }
        if (at is { } a)
        {
            html.Open("circle", ("class", "operating"), ("cx", X(a.X)), ("cy", Y(a.Y)), ("r", "4"), ("fill", "#c53030"))
                .Element("title", string.Create(CultureInfo.InvariantCulture, $"the report's threshold: {xLabel} {a.X:0.000}, {yLabel} {a.Y:0.000}")).Close("circle");
        }
        html.Open("text", ("class", "axis"), ("x", N(Size / 2)), ("y", N(Size - 8)), ("text-anchor", "middle")).Text(xLabel).Close("text");
        html.Open("text", ("class", "axis"), ("x", "10"), ("y", N(Size / 2)), ("text-anchor", "middle"), ("transform", $"rotate(-90 10 {N(Size / 2)})")).Text(yLabel).Close("text");
        html.Close("svg");
    }

    private static void Metric(HtmlBuilder html, string name, Estimate? value) =>
        html.Open("tr").Element("td", name).Element("td", E(value), ("colspan", "5")).Close("tr");

    private static void Result(HtmlBuilder html, string name, ThresholdResult? result)
    {
        if (result is null)
        {
            html.Open("tr").Element("td", name).Element("td", "no threshold reaches it", ("colspan", "5")).Close("tr");
            return;
        }
        html.Open("tr").Element("td", name).Open("td").Element("code", result.Threshold).Close("td")
            .Element("td", Html.Count(result.Removed), ("class", "num"))
            .Element("td", E(result.Precision), ("class", "num"))
            .Element("td", E(result.Recall), ("class", "num"))
            .Element("td", E(result.F1), ("class", "num")).Close("tr");
    }

    private static string E(Estimate? e) => e is null ? "—" : e.Low is { } low && e.High is { } high
        ? string.Create(CultureInfo.InvariantCulture, $"{e.Value:0.000} [{low:0.000}, {high:0.000}]")
        : F(e.Value);

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    private static string N(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
}
