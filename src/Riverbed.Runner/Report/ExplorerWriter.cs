namespace Riverbed.Runner.Report;

/// <summary>
/// The explorer's frame: its data (as an attribute of a hidden element, never as script), its controls, the places the
/// script fills in, and the pool of examples it shows either side of a threshold. The script builds the histograms,
/// counts and command from the data; dataset text reaches the page only through <see cref="HtmlBuilder"/>'s escaping
/// here and the DOM's textContent there.
/// </summary>
internal static class ExplorerWriter
{
    public static void Write(HtmlBuilder html, ReportContent content)
    {
        var data = content.Explorer;
        html.Open("section", ("id", "explorer")).Element("h2", "Explorer: choose thresholds");
        var basis = data.TotalRows == 0
            ? "No committed rows to explore."
            : data.IsSample
                ? $"A seeded sample of {Html.Count(data.Rows)} of the {Html.Count(data.TotalRows)} rows (the rows with the smallest md5 of seed and id, seed '{content.Sampling.Seed}') is embedded: counts below are the sample's, and percentages estimate the whole run's. `riverbed filter` decides every row."
                : $"All {Html.Count(data.Rows)} rows' scores are embedded: the counts below are exactly what `riverbed filter` with the command shown would keep and remove.";
        html.Element("p", basis, ("class", "muted"), ("id", "x-basis"), ("data-sampled", data.IsSample ? "true" : "false"));
        html.Element("p",
            "Drag a threshold line (or type a value), switch scores on and off, and choose how they combine. A row is removed when any (or all) of the scores that are on trigger; a missing score never triggers. " +
            "Evidence flags in the examples follow a threshold once it is moved from where the report started (before that they are the scorer's own).",
            ("class", "muted"));
        html.Open("div", ("id", "x-data"), ("hidden", "hidden"), ("data-explorer", data.ToJson(content.ExplorerStart, content.Run.Folder, content.Sampling.Seed))).Close("div");
        if (data.TotalRows == 0)
        {
            html.Close("section").Line();
            return;
        }

        html.Open("div", ("class", "x-controls"));
        html.Open("label").Text("combine ").Open("select", ("id", "x-combine"))
            .Element("option", "any: remove when any score that is on triggers", ("value", "any"))
            .Element("option", "all: remove only when every score that is on triggers", ("value", "all"))
            .Close("select").Close("label");
        html.Open("label").Void("input", ("type", "checkbox"), ("id", "x-log")).Text(" log-scale counts").Close("label");
        html.Open("button", ("type", "button"), ("id", "x-reset")).Text("back to the start").Close("button");
        html.Close("div");
        html.Open("div", ("id", "x-scores"), ("class", "x-scores")).Close("div");

        html.Open("div", ("class", "grid2"));
        html.Open("div").Element("h3", "Decision");
        html.Open("div", ("class", "cards"), ("id", "x-overall")).Close("div");
        html.Element("h3", "Per source file");
        html.Open("table", ("id", "x-sources"), ("class", "x-table")).Close("table");
        if (data.GroupColumn is not null)
        {
            html.Element("h3", $"Per value of the column {data.GroupColumn}");
            html.Open("table", ("id", "x-groups"), ("class", "x-table")).Close("table");
        }
        html.Close("div");
        html.Open("div").Element("h3", "The same decisions with riverbed filter");
        html.Element("p", "Run this to write the kept and removed rows with exactly these thresholds:", ("class", "muted"));
        html.Element("pre", string.Empty, ("id", "x-command"), ("class", "x-command"));
        html.Open("button", ("type", "button"), ("id", "x-copy")).Text("copy the command").Close("button");
        html.Element("span", string.Empty, ("id", "x-copied"), ("class", "muted"));
        html.Close("div");
        html.Close("div");

        html.Open("h3").Text("Examples either side of the ").Element("span", string.Empty, ("id", "x-near-score")).Text(" threshold").Close("h3");
        html.Element("p", $"The nearest of the report's examples ({Html.Count(data.Pool.Count)} drawn at evenly spaced ranks of each score, and the samples below) on each side of the threshold you moved last.", ("class", "muted"));
        html.Open("div", ("id", "x-near"), ("class", "near-pair")).Close("div");
        html.Open("div", ("id", "x-pool"), ("hidden", "hidden"));
        foreach (var example in data.Pool)
        {
            ExampleWriter.Write(html, example, string.Empty, content.Limits);
        }
        html.Close("div");
        html.Close("section").Line();
    }
}
