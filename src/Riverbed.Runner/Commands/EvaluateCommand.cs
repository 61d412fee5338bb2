using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed evaluate</c>: judges a scored run's scores and decision rule against labels (a dataset column or an
/// id → label file) and writes calibration.json (<see cref="CalibrationReport"/>), which <c>filter --calibration</c>
/// and <c>report</c> read. The math lives in Scoring (<see cref="Calibrator"/>); this command reads rows and labels.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var scored = new Argument<string>("scored") { Description = "A folder written by riverbed score (it holds run.json and the scored shards)" };
        var labels = new Option<string>("--labels")
        {
            Description = "A label per example: a dataset column (e.g. hallucination, yes/no), or a file of id → label " +
                "(JSON Lines with \"id\" and \"label\", or CSV with id and label columns; ids as in riverbed_id). " +
                "Positive (yes/true/1) means the example is bad and should be removed",
            Required = true,
        };
        var labelSpans = new Option<string?>("--label-spans")
        {
            Description = "A dataset column listing the bad phrases of each example (e.g. hallucination_spans): scores flagged spans against them by character overlap",
        };
        var target = new Option<string?>("--target") { Description = "Also find the threshold reaching this: precision=P or recall=R" };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for the confidence intervals (0: none)", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the bootstrap's resampling", DefaultValueFactory = _ => 42 };
        var confidence = new Option<double>("--confidence") { Description = "Confidence level of the intervals", DefaultValueFactory = _ => 0.95 };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write calibration.json (default: calibration.json in the scored folder)" };
        var decisions = new DecisionOptions("How thresholds combine for the combined rule judged (default: the scored run's)");
        var command = new Command("evaluate", "Judge a scored run's scores and thresholds against labelled examples: ROC-AUC, PR-AUC, precision/recall/F1, best thresholds; writes calibration.json.")
        {
            scored, labels, labelSpans, target, bootstrap, seed, confidence, output,
        };
        decisions.AddTo(command);
        CommandAction.Set(command, async (parse, cancellationToken) =>
        {
            var source = Path.GetFullPath(parse.GetValue(scored)!);
            var runJson = Path.Combine(source, "run.json");
            if (!File.Exists(runJson))
            {
                throw new RiverbedException($"{source} has no run.json: evaluate reads a folder written by riverbed score");
            }
            var resamples = parse.GetValue(bootstrap);
            if (resamples is < 0 or > 100_000)
            {
                throw new RiverbedException($"--bootstrap must be between 0 and 100,000, got {resamples}");
            }
            var level = parse.GetValue(confidence);
            if (!(level > 0 && level < 1))
            {
                throw new RiverbedException($"--confidence must lie strictly between 0 and 1, got {level.ToString(CultureInfo.InvariantCulture)}");
            }
            var configuration = RunConfiguration.Load(runJson);
            var policy = decisions.Apply(parse, configuration.Policy);
            var goal = parse.GetValue(target) is { } text ? CalibrationTarget.Parse(text) : null;
            var labelSource = Labels.Open(parse.GetValue(labels)!);
            var spansColumn = parse.GetValue(labelSpans);
            var destination = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(source, "calibration.json"));
            if (Directory.Exists(destination))
            {
                throw new RiverbedException($"{destination} is a folder; give the file to write, e.g. -o {Path.Combine(destination, "calibration.json")}");
            }

            var rows = ReadRows(source, configuration, labelSource, spansColumn, cancellationToken);
            var settings = new CalibrationSettings(policy, goal, resamples, parse.GetValue(seed), level);
            var result = Calibrator.Evaluate(rows.Examples, settings);
            var unknown = labelSource.ById.Keys.Where(id => !rows.Seen.Contains(id)).ToList();
            var report = new CalibrationReport
            {
                Scored = source,
                ConfigHash = configuration.Hash,
                Labels = labelSource.Description,
                LabelSpans = spansColumn,
                Policy = policy.ToString(),
                Target = goal?.ToString(),
                Seed = settings.Seed,
                Bootstrap = resamples,
                Confidence = level,
                Coverage = new LabelCoverage
                {
                    Rows = rows.Rows,
                    Labelled = rows.Examples.Count,
                    Positive = rows.Examples.Count(e => e.Positive),
                    Negative = rows.Examples.Count(e => !e.Positive),
                    Unlabelled = rows.Unlabelled.Count,
                    UnlabelledSample = [.. rows.Unlabelled.Take(CalibrationReport.ListedIds)],
                    UnknownIds = unknown.Count,
                    UnknownSample = [.. unknown.Take(CalibrationReport.ListedIds)],
                    UnreadableLabels = rows.Unreadable.Count,
                    UnreadableSample = [.. rows.Unreadable.Take(CalibrationReport.ListedIds)],
                    PhrasesNotFound = result.PhrasesNotFound,
                    PhrasesNotFoundSample = result.PhrasesNotFoundSample,
                },
                Scores = result.Scores,
                Combined = result.Combined,
                Spans = result.Spans,
            };
            var folder = Path.GetDirectoryName(destination)!;
            if (!Directory.Exists(folder))
            {
                throw new RiverbedException($"cannot write {destination}: the folder {folder} does not exist");
            }
            RunRecord.WriteAtomically(destination, report.ToJson());
            await Console.Out.WriteAsync(Summary(report, destination)).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private sealed record LabelledRows(List<CalibrationExample> Examples, long Rows, List<string> Unlabelled, List<string> Unreadable, HashSet<string> Seen);

    private static LabelledRows ReadRows(string source, RunConfiguration configuration, Labels labels, string? spansColumn, CancellationToken cancellationToken)
    {
        var examples = new List<CalibrationExample>();
        var unlabelled = new List<string>();
        var unreadable = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long count = 0;
        var readerOptions = ScoredShardFilter.ReaderOptions(configuration);
        foreach (var shard in ScoredShardFilter.Find(source, configuration.Hash))
        {
            var input = ShardInput.FromFile(shard.DataPath, shard.Name, shard.DataPath);
            using var reader = ShardReader.Open(input, readerOptions);
            foreach (var record in reader.ReadRecords(cancellationToken))
            {
                if (record.Example is not { } example)
                {
                    continue;
                }
                count++;
                seen.Add(example.Id);
                using var document = JsonDocument.Parse(example.Record);
                var root = document.RootElement;
                string? text;
                if (labels.Column is { } column)
                {
                    text = root.TryGetProperty(column, out var value) ? Labels.Text(value) : null;
                }
                else
                {
                    text = labels.ById.TryGetValue(example.Id, out var value) ? value : null;
                }
                if (text is null)
                {
                    unlabelled.Add(example.Id);
                    continue;
                }
                if (Labels.Parse(text) is not { } positive)
                {
                    unlabelled.Add(example.Id);
                    unreadable.Add($"{example.Id}: {text}");
                    continue;
                }
                examples.Add(new CalibrationExample(example.Id, positive, ScoredShardFilter.SavedScores(example, input), Spans(root),
                    AssistantTurns(root), spansColumn is null ? null : Phrases(root, spansColumn, input, example)));
            }
        }
        return new LabelledRows(examples, count, unlabelled, unreadable, seen);
    }

    private static List<EvidenceSpan> Spans(JsonElement root)
    {
        var spans = new List<EvidenceSpan>();
        if (root.TryGetProperty(ScoredColumns.Spans, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var span in list.EnumerateArray())
            {
                spans.Add(new EvidenceSpan(span.GetProperty("kind").GetString()!, span.GetProperty("turn").GetInt32(),
                    span.GetProperty("start").GetInt32(), span.GetProperty("end").GetInt32(), span.GetProperty("flagged").GetBoolean()));
            }
        }
        return spans;
    }

    private static Dictionary<int, string> AssistantTurns(JsonElement root)
    {
        var turns = new Dictionary<int, string>();
        if (root.TryGetProperty(ScoredColumns.Turns, out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var turn in list.EnumerateArray())
            {
                if (turn.GetProperty("speaker").GetString() == "assistant")
                {
                    turns[turn.GetProperty("index").GetInt32()] = turn.GetProperty("text").GetString() ?? string.Empty;
                }
            }
        }
        return turns;
    }

    private static List<string>? Phrases(JsonElement root, string column, ShardInput input, Example example)
    {
        if (!root.TryGetProperty(column, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new RiverbedException($"{input.DisplayPath} row {example.Row}: --label-spans column {column} holds {value.ValueKind}, not a list of phrases");
        }
        return value.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    private static string Summary(CalibrationReport report, string path)
    {
        static string E(Estimate? e) => e is null ? "—" : e.Low is { } low && e.High is { } high
            ? string.Create(CultureInfo.InvariantCulture, $"{e.Value:0.000} [{low:0.000}, {high:0.000}]")
            : string.Create(CultureInfo.InvariantCulture, $"{e.Value:0.000}");
        var coverage = report.Coverage;
        var lines = new List<string>
        {
            FormattableString.Invariant(
                $"riverbed evaluate: {coverage.Labelled:N0} labelled example(s) of {coverage.Rows:N0} ({coverage.Positive:N0} positive, {coverage.Negative:N0} negative) from {report.Labels}; {coverage.Unlabelled:N0} unlabelled, {coverage.UnknownIds:N0} label id(s) not in the run; {report.Bootstrap} bootstrap resamples, {report.Confidence:P0} intervals"),
        };
        foreach (var score in report.Scores)
        {
            if (score.RocAuc is null)
            {
                lines.Add($"  {score.Score}: {score.Note}");
                continue;
            }
            lines.Add(FormattableString.Invariant($"  {score.Score}: ROC-AUC {E(score.RocAuc)}  PR-AUC {E(score.PrAuc)}  ({score.Examples:N0} example(s) with the score)"));
            if (score.AtThreshold is { } at)
            {
                lines.Add(FormattableString.Invariant($"    at {at.Threshold}: removes {at.Removed:N0}; precision {E(at.Precision)} recall {E(at.Recall)} F1 {E(at.F1)}"));
            }
            if (score.F1Optimal is { } best)
            {
                lines.Add(FormattableString.Invariant($"    best F1 at {best.Threshold}: removes {best.Removed:N0}; precision {E(best.Precision)} recall {E(best.Recall)} F1 {E(best.F1)}"));
            }
            if (report.Target is { } goal)
            {
                lines.Add(score.ForTarget is { } hit
                    ? FormattableString.Invariant($"    {goal} at {hit.Threshold}: removes {hit.Removed:N0}; precision {E(hit.Precision)} recall {E(hit.Recall)}")
                    : $"    {goal}: no threshold reaches it");
            }
        }
        if (report.Combined is { } rule)
        {
            lines.Add(FormattableString.Invariant($"  combined {rule.Policy}: removes {rule.Result.Removed:N0}; precision {E(rule.Result.Precision)} recall {E(rule.Result.Recall)} F1 {E(rule.Result.F1)}"));
        }
        foreach (var span in report.Spans)
        {
            var precision = span.Precision is { } p ? p.ToString("0.000", CultureInfo.InvariantCulture) : "—";
            var recall = span.Recall is { } r ? r.ToString("0.000", CultureInfo.InvariantCulture) : "—";
            lines.Add(FormattableString.Invariant($"  {span.Kind} spans vs labelled phrases: precision {precision}, recall {recall} ({span.FlaggedSpans:N0} flagged span(s))"));
        }
        if (coverage.PhrasesNotFound > 0)
        {
            lines.Add(FormattableString.Invariant($"  {coverage.PhrasesNotFound:N0} labelled phrase(s) occur in no assistant turn (listed in the file)"));
        }
        lines.Add($"wrote {path}");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}
