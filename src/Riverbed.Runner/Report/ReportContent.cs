using System.Reflection;
using Riverbed.Scoring;

namespace Riverbed.Runner.Report;

/// <summary>Caps that keep a report small and quick to open whatever the run's size.</summary>
internal sealed record ReportLimits
{
    /// <summary>Characters of one turn's text shown; a longer text shows an excerpt around its first flagged span.</summary>
    public int MaxTurnChars { get; init; } = 1500;

    /// <summary>Turns of one example shown; turns with evidence come first, the rest are summarized.</summary>
    public int MaxTurnsPerExample { get; init; } = 8;

    public int MaxRejectsShown { get; init; } = 20;

    public int MaxShardsListed { get; init; } = 200;

    /// <summary>Characters of a reject's raw record shown.</summary>
    public int MaxRawChars { get; init; } = 300;
}

/// <summary>Everything a report shows, gathered from the run folder; <see cref="ReportWriter"/> turns it into HTML.</summary>
internal sealed class ReportContent
{
    public required ScoredRun Run { get; init; }

    /// <summary>Per score, the threshold the run decided with (null: none).</summary>
    public required IReadOnlyDictionary<string, ScoreThreshold?> Thresholds { get; init; }

    /// <summary>Where the thresholds came from, in words.</summary>
    public required string ThresholdSource { get; init; }

    public required IReadOnlyList<ScoreSamples> Samples { get; init; }

    public required IReadOnlyList<RejectSample> Rejects { get; init; }

    public required SamplingOptions Sampling { get; init; }

    /// <summary>any or all: how the shown thresholds combine (null when unknown).</summary>
    public string? Combination { get; init; }

    /// <summary>A calibration.json from riverbed evaluate, when one was given or lies in the folder: its curves are drawn.</summary>
    public CalibrationReport? Calibration { get; init; }

    /// <summary>Where <see cref="Calibration"/> was read from.</summary>
    public string? CalibrationPath { get; init; }

    public required ReportLimits Limits { get; init; }

    /// <summary>The rows the explorer decides on (all, or a seeded sample) and its pool of examples.</summary>
    public required ExplorerData Explorer { get; init; }

    /// <summary>Where the explorer starts (the thresholds above) and the scored run's policy filter starts from.</summary>
    public required ExplorerStart ExplorerStart { get; init; }

    public required string Title { get; init; }

    public string GeneratorVersion { get; init; } =
        typeof(ReportContent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Reads a scored run folder and draws its samples.</summary>
    /// <param name="settings">Threshold settings that move the report's starting point (report --threshold).</param>
    /// <param name="rule">A combine rule for the starting point (report --combine).</param>
    /// <param name="calibrationPath">A calibration.json to draw; null looks for calibration.json in the folder.</param>
    public static ReportContent Gather(string folder, SamplingOptions sampling, ReportLimits limits, string? title = null,
        IReadOnlyList<ThresholdSetting>? settings = null, CombineRule? rule = null, string? calibrationPath = null, ExplorerOptions? explorer = null,
        CancellationToken cancellationToken = default)
    {
        var run = ScoredRun.Open(folder);
        var (thresholds, source) = ThresholdsOf(run);
        var combination = run.Run?.Combination;
        var baseThresholds = thresholds;
        var baseCombination = combination == "all" ? "all" : "any";
        if (settings is { Count: > 0 } || rule is not null)
        {
            var start = DecisionPolicy.Create(thresholds.Values.OfType<ScoreThreshold>(),
                combination == "all" ? ThresholdCombination.All : ThresholdCombination.Any).With(settings ?? [], rule);
            thresholds = ScoreNames.All.ToDictionary(score => score, score => start.Thresholds.FirstOrDefault(t => t.Score == score), StringComparer.Ordinal);
            combination = start.Combination == ThresholdCombination.All ? "all" : "any";
            var given = string.Join(" ", (settings ?? []).Select(s => $"--threshold {s}").Concat(rule is null ? [] : [$"--combine {rule}"]));
            source += $", changed by the report's options ({given})";
        }
        calibrationPath ??= File.Exists(Path.Combine(run.Folder, "calibration.json")) ? Path.Combine(run.Folder, "calibration.json") : null;
        CalibrationReport? calibration = null;
        if (calibrationPath is not null)
        {
            try
            {
                calibration = CalibrationReport.Parse(File.ReadAllBytes(calibrationPath), calibrationPath);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new RiverbedException($"--calibration {calibrationPath}: cannot read it ({error.Message})", error);
            }
        }
        var explorerStart = new ExplorerStart(baseThresholds, baseCombination, run.Run?.Thresholds is { Count: > 0 } && run.Run.Combination is not null,
            thresholds, combination == "all" ? "all" : "any");
        return new ReportContent
        {
            Explorer = ExplorerData.Gather(run, explorer ?? new ExplorerOptions(), sampling.Seed, cancellationToken),
            ExplorerStart = explorerStart,
            Run = run,
            Thresholds = thresholds,
            ThresholdSource = source,
            Combination = combination,
            Calibration = calibration,
            CalibrationPath = calibrationPath,
            Samples = ReportSampler.Sample(run, thresholds, sampling, cancellationToken),
            Rejects = RejectSamples.ReadFirst(run, limits.MaxRejectsShown),
            Sampling = sampling,
            Limits = limits,
            Title = title ?? $"Riverbed report · {Path.GetFileName(run.Folder)}",
        };
    }

    /// <summary>
    /// The thresholds the run decided with: run.json's policy; else the removal reasons in the stats (they are written
    /// as thresholds, e.g. fill_compare_min&lt;0); else Riverbed's defaults, said so.
    /// </summary>
    internal static (IReadOnlyDictionary<string, ScoreThreshold?> Thresholds, string Source) ThresholdsOf(ScoredRun run)
    {
        IReadOnlyList<ScoreThreshold> found;
        string source;
        if (run.Run?.Thresholds is { Count: > 0 } recorded)
        {
            (found, source) = (recorded, "the policy in run.json");
        }
        else if (ParseReasons(run.Statistics.RemovedByReason.Keys) is { Count: > 0 } reasons)
        {
            (found, source) = (reasons, "the removal reasons in the stats (run.json records no policy)");
        }
        else
        {
            (found, source) = (DecisionPolicy.Default.Thresholds, "Riverbed's default policy (the run records no policy and removed nothing)");
        }
        var byScore = ScoreNames.All.ToDictionary(score => score, score => found.FirstOrDefault(threshold => threshold.Score == score), StringComparer.Ordinal);
        return (byScore, source);
    }

    private static List<ScoreThreshold> ParseReasons(IEnumerable<string> reasons)
    {
        var parsed = new List<ScoreThreshold>();
        foreach (var reason in reasons)
        {
            try
            {
                var threshold = ScoreThreshold.Parse(reason);
                if (parsed.All(other => other.Score != threshold.Score))
                {
                    parsed.Add(threshold);
                }
            }
            catch (RiverbedException)
            {
                // A reason that is not a threshold (a future policy's own wording) says nothing about where a line goes.
            }
        }
        return parsed;
    }
}
