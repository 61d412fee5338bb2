using System.Security.Cryptography;
using System.Text;

namespace Riverbed.Runner.Report;

/// <summary>
/// The report's only style sheet and script, inlined into the page. The Content-Security-Policy allows exactly these
/// two (by SHA-256) and nothing else: no other script, style, font, image, frame or connection, so even markup that
/// slipped past escaping could neither run nor load anything.
/// </summary>
internal static partial class ReportAssets
{
    /// <summary>The page's one style sheet: the report's rules, then the explorer's.</summary>
    public const string Style = BaseStyle + ExplorerStyle;

    /// <summary>
    /// The page's one script: the evidence interactions, then the explorer. Wrapped in a CDATA section behind line
    /// comments, so the page still parses as XML (the explorer compares with &lt; and joins with &amp;&amp;) while to
    /// HTML and JavaScript the wrapper is two comments.
    /// </summary>
    public const string Script = "//<![CDATA[\n" + BaseScript + "\n" + ExplorerScript + "\n//]]>\n";

    private const string BaseStyle = """
        :root { --ink: #1d2330; --muted: #5d6677; --line: #d9dee7; --paper: #ffffff; --wash: #f5f7fa;
          --keep: #2f7d4f; --keep-wash: #e3f3e9; --remove: #b3261e; --remove-wash: #fbe6e4; --mixed: #9a8f6b;
          --fill: #ffd7d2; --fill-ink: #8c1d13; --entity: #dde7ff; --entity-strong: #a9c1ff; --contra: #fff1b8; --contra-strong: #ffd84d; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--wash); }
        header.top { background: var(--ink); color: #fff; padding: 14px 24px; }
        header.top h1 { margin: 0; font-size: 20px; font-weight: 600; }
        header.top .sub { color: #c5cbd6; font-size: 13px; overflow-wrap: anywhere; }
        nav { position: sticky; top: 0; z-index: 5; background: var(--paper); border-bottom: 1px solid var(--line); padding: 6px 24px; display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; }
        nav a { color: var(--ink); text-decoration: none; font-weight: 500; }
        nav a:hover { text-decoration: underline; }
        nav label { margin-left: auto; color: var(--muted); font-size: 13px; }
        main { padding: 16px 24px 48px; max-width: 1500px; margin: 0 auto; }
        section { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 18px; }
        h2 { margin: 0 0 12px; font-size: 18px; }
        h3 { margin: 18px 0 8px; font-size: 15px; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid var(--wash); }
        th { color: var(--muted); font-weight: 500; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 12px; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 120px; }
        .card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .card .k { color: var(--muted); font-size: 12px; }
        .card.keep .v { color: var(--keep); } .card.remove .v { color: var(--remove); }
        .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 8px 24px; }
        .notes { color: #7a4b00; background: #fff8e6; border: 1px solid #f0dca8; border-radius: 6px; padding: 8px 12px 8px 28px; margin: 8px 0; }
        .muted { color: var(--muted); }
        details > summary { cursor: pointer; color: var(--muted); }
        pre.config { background: var(--wash); padding: 8px; border-radius: 6px; max-height: 420px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
        .score-head { display: flex; flex-wrap: wrap; gap: 12px 28px; align-items: flex-start; }
        svg.hist { width: 660px; max-width: 100%; height: auto; background: var(--paper); }
        svg.hist .bar.kept { fill: #7cc49a; } svg.hist .bar.removed { fill: #e8877f; } svg.hist .bar.mixed { fill: #c9bf98; } svg.hist .bar.none { fill: #9db0c8; }
        svg.hist .bar:hover { opacity: .75; }
        svg.hist .threshold { stroke: var(--remove); stroke-width: 2; stroke-dasharray: 5 3; }
        svg.hist .axis { font-size: 11px; fill: var(--muted); }
        svg.hist .tlabel { font-size: 11px; fill: var(--remove); font-weight: 600; }
        svg.hist .base { stroke: var(--line); }
        .bucket { border-top: 1px solid var(--line); padding: 8px 0; }
        .bucket > summary { font-weight: 500; color: var(--ink); }
        .bucket.near > summary { color: var(--keep); }
        .bucket.near[data-bucket="NearTriggered"] > summary { color: var(--remove); }
        .bucket .counts { color: var(--muted); font-weight: 400; margin-left: 8px; }
        .bucket.empty > summary { list-style: none; cursor: default; color: var(--muted); }
        .side { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; margin-top: 8px; }
        .near-pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
        .near-pair > .bucket { border-top: 2px solid var(--keep); }
        .near-pair > .bucket[data-bucket="NearTriggered"] { border-top-color: var(--remove); }
        .stack > div { margin-top: 8px; }
        .side > div > h4 { margin: 0 0 6px; font-size: 13px; }
        .side > .kept-side > h4 { color: var(--keep); } .side > .removed-side > h4 { color: var(--remove); }
        .none { color: var(--muted); font-style: italic; }
        article.example { border: 1px solid var(--line); border-left: 4px solid var(--keep); border-radius: 6px; padding: 8px 10px; margin: 0 0 10px; background: var(--paper); }
        article.example.removed { border-left-color: var(--remove); }
        article.example > header { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: 12px; color: var(--muted); margin-bottom: 6px; }
        .badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
        .badge.keep { background: var(--keep-wash); color: var(--keep); } .badge.remove { background: var(--remove-wash); color: var(--remove); }
        .reason { background: var(--remove-wash); color: var(--remove); border-radius: 4px; padding: 0 5px; font-family: ui-monospace, Menlo, Consolas, monospace; }
        .ex-id { font-family: ui-monospace, Menlo, Consolas, monospace; color: var(--ink); overflow-wrap: anywhere; }
        .scores span { margin-right: 8px; white-space: nowrap; } .scores .current { color: var(--ink); font-weight: 700; }
        .turn { display: grid; grid-template-columns: 78px 1fr; gap: 2px 8px; padding: 3px 0; }
        .turn .speaker { color: var(--muted); font-size: 12px; text-align: right; padding-top: 1px; }
        .turn.assistant .speaker { color: #1f4fa3; font-weight: 600; }
        .turn .speaker .branch { font-weight: 400; color: var(--muted); font-size: 11px; }
        .turn .text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
        .turn .tscores, .turn .omitted { grid-column: 2; font-size: 11px; color: var(--muted); }
        .gap { color: var(--muted); font-size: 12px; font-style: italic; padding: 2px 0 2px 86px; }
        mark.sp { background: transparent; color: inherit; border-radius: 2px; }
        mark.k-fill.flagged { background: var(--fill); color: var(--fill-ink); text-decoration: line-through 1px; box-shadow: inset 0 -2px 0 var(--fill-ink); }
        mark.k-fill.ok { background: transparent; }
        body.all-evidence mark.k-fill.ok { box-shadow: inset 0 -2px 0 #7cc49a; }
        mark.k-entity { background: var(--entity); box-shadow: inset 0 -1px 0 #5b7fd6; }
        mark.k-entity.flagged { background: var(--entity-strong); box-shadow: inset 0 -2px 0 #2f56b8; }
        mark.k-contradiction { background: var(--contra); cursor: pointer; }
        mark.k-contradiction.quiet { background: transparent; }
        body.all-evidence mark.k-contradiction.quiet { background: transparent; box-shadow: inset 0 -2px 0 #e0c860; }
        .note.n-contra.quiet { display: none; }
        body.all-evidence .note.n-contra.quiet { display: inline; color: var(--muted); background: var(--wash); }
        mark.k-contradiction.pair-hot, .note.n-contra.pair-hot { background: var(--contra-strong); outline: 2px solid #c99a00; }
        mark.k-contradiction.pair-pinned, .note.n-contra.pair-pinned { background: var(--contra-strong); outline: 2px solid #8a6a00; }
        mark.k-other { box-shadow: inset 0 -2px 0 var(--muted); }
        .note { font-size: 11px; border-radius: 3px; padding: 0 3px; margin: 0 2px; white-space: nowrap; font-style: normal; text-decoration: none; }
        .note.n-fill { background: var(--wash); color: var(--ink); box-shadow: inset 0 0 0 1px var(--fill); }
        .note.n-fill.ok { display: none; }
        body.all-evidence .note.n-fill.ok { display: inline; color: var(--muted); background: var(--wash); }
        .note.n-entity { background: var(--entity); color: #2f56b8; }
        .note.n-contra { background: var(--contra); color: #6b5200; cursor: pointer; }
        .note.n-other { background: var(--wash); color: var(--muted); }
        .spannotes { margin: 4px 0 0; padding-left: 18px; font-size: 11px; color: #7a4b00; }
        .legend mark, .legend .note { margin-right: 4px; }
        .legend { font-size: 12px; color: var(--muted); margin: 6px 0 10px; }
        @media (max-width: 900px) { .side, .near-pair { grid-template-columns: 1fr; } }
        """;

    private const string BaseScript = """
        (function () {
          'use strict';
          function partners(element) {
            var example = element.closest('article.example');
            var pair = element.getAttribute('data-pair');
            if (!example || !/^-?[0-9]+$/.test(pair)) { return []; }
            return example.querySelectorAll('[data-pair="' + pair + '"]');
          }
          function mark(event, className, on) {
            var target = event.target instanceof Element ? event.target.closest('[data-pair]') : null;
            if (!target) { return; }
            partners(target).forEach(function (element) { element.classList.toggle(className, on === undefined ? !element.classList.contains(className) : on); });
          }
          document.addEventListener('mouseover', function (event) { mark(event, 'pair-hot', true); });
          document.addEventListener('mouseout', function (event) { mark(event, 'pair-hot', false); });
          document.addEventListener('focusin', function (event) { mark(event, 'pair-hot', true); });
          document.addEventListener('focusout', function (event) { mark(event, 'pair-hot', false); });
          document.addEventListener('click', function (event) { mark(event, 'pair-pinned'); });
          var toggle = document.getElementById('all-evidence');
          if (toggle) {
            toggle.addEventListener('change', function () { document.body.classList.toggle('all-evidence', toggle.checked); });
          }
        })();
        """;

    /// <summary>The CSP source for an inline block: <c>'sha256-…'</c> of its exact text.</summary>
    public static string HashSource(string inline) => "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline))) + "'";

    /// <summary>
    /// Nothing may load: no network, no other files. Only the two inline blocks run or apply. (frame-ancestors cannot be
    /// set from a meta tag; a report is a local file, so that is moot.)
    /// </summary>
    public static string ContentSecurityPolicy =>
        $"default-src 'none'; script-src {HashSource(Script)}; style-src {HashSource(Style)}; img-src 'none'; font-src 'none'; " +
        "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; " +
        "base-uri 'none'; form-action 'none'";
}
