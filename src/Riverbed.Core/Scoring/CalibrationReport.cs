using System.Text.Json;
using System.Text.Json.Serialization;

namespace Riverbed.Scoring;

/// <summary>A metric with its bootstrap confidence interval (null bounds when no resample could compute it).</summary>
public sealed record Estimate(double Value, double? Low, double? High);

/// <summary>One threshold's results: the threshold (as <c>--threshold</c> takes it) and what it removes.</summary>
public sealed record ThresholdResult(
    string Threshold,
    long Removed,
    long TruePositives,
    long FalsePositives,
    Estimate? Precision,
    Estimate Recall,
    Estimate? F1);

/// <summary>One point of a curve: the threshold that gives it and the two coordinates (ROC: fpr, tpr; PR: recall, precision).</summary>
public sealed record CurvePoint(string Threshold, double X, double Y);

/// <summary>Calibration of one score against the labels.</summary>
public sealed record ScoreCalibration
{
    public required string Score { get; init; }

    /// <summary>"below" (lower is more suspect) or "above".</summary>
    public required string Direction { get; init; }

    /// <summary>Labelled examples that have this score (the metrics are over these).</summary>
    public required long Examples { get; init; }

    public required long Positive { get; init; }

    public required long Negative { get; init; }

    /// <summary>Labelled examples without this score (its scorer skipped them): a threshold never removes them.</summary>
    public required long WithoutScore { get; init; }

    public Estimate? RocAuc { get; init; }

    public Estimate? PrAuc { get; init; }

    /// <summary>At the scored run's (or given) threshold for this score; null when the policy has none.</summary>
    public ThresholdResult? AtThreshold { get; init; }

    public ThresholdResult? F1Optimal { get; init; }

    public ThresholdResult? ForTarget { get; init; }

    /// <summary>The threshold <c>filter --calibration</c> applies: the target's when one was given, else the F1-optimal one.</summary>
    public string? Recommended { get; init; }

    public IReadOnlyList<CurvePoint> Roc { get; init; } = [];

    public IReadOnlyList<CurvePoint> Pr { get; init; } = [];

    /// <summary>Why metrics are missing (e.g. all examples of one label), when they are.</summary>
    public string? Note { get; init; }
}

/// <summary>The combined decision rule against the labels (a yes/no prediction: no curve, no threshold to choose).</summary>
public sealed record RuleCalibration(string Policy, long Examples, ThresholdResult Result, Estimate? RocAuc, Estimate? PrAuc);

/// <summary>Evidence against labelled phrases for one kind of span: character overlap, summed over examples.</summary>
public sealed record SpanCalibration(string Kind, long FlaggedSpans, long FlaggedCharacters, long LabelledCharacters, long OverlapCharacters,
    double? Precision, double? Recall);

/// <summary>How the labels matched the scored rows: nothing is guessed, everything unmatched is counted and listed.</summary>
public sealed record LabelCoverage
{
    public required long Rows { get; init; }

    public required long Labelled { get; init; }

    public required long Positive { get; init; }

    public required long Negative { get; init; }

    /// <summary>Scored rows with no usable label (missing, null, or a value that is not yes/no).</summary>
    public required long Unlabelled { get; init; }

    /// <summary>Ids the labels file names that no scored row has.</summary>
    public required long UnknownIds { get; init; }

    /// <summary>Up to <see cref="CalibrationReport.ListedIds"/> of each, in order of appearance.</summary>
    public IReadOnlyList<string> UnlabelledSample { get; init; } = [];

    public IReadOnlyList<string> UnknownSample { get; init; } = [];

    /// <summary>Labels that were present but not readable as yes/no, e.g. "maybe", with a sample.</summary>
    public long UnreadableLabels { get; init; }

    public IReadOnlyList<string> UnreadableSample { get; init; } = [];

    /// <summary>Labelled phrases (<c>--label-spans</c>) that occur in no assistant turn of their example.</summary>
    public long PhrasesNotFound { get; init; }

    public IReadOnlyList<string> PhrasesNotFoundSample { get; init; } = [];
}

/// <summary>
/// calibration.json: what <c>riverbed evaluate</c> found, read back by <c>filter --calibration</c> and <c>report</c>.
/// One type, one serializer (<see cref="CalibrationJson"/>).
/// </summary>
public sealed record CalibrationReport
{
    public const int CurrentVersion = 1;

    /// <summary>How many unmatched ids each list keeps.</summary>
    public const int ListedIds = 50;

    public int Version { get; init; } = CurrentVersion;

    public required string Scored { get; init; }

    public required string ConfigHash { get; init; }

    /// <summary>Where the labels came from: "column hallucination" or "file labels.csv".</summary>
    public required string Labels { get; init; }

    public string? LabelSpans { get; init; }

    public required string Policy { get; init; }

    public string? Target { get; init; }

    public required long Seed { get; init; }

    public required int Bootstrap { get; init; }

    public required double Confidence { get; init; }

    public required LabelCoverage Coverage { get; init; }

    public required IReadOnlyList<ScoreCalibration> Scores { get; init; }

    public RuleCalibration? Combined { get; init; }

    public IReadOnlyList<SpanCalibration> Spans { get; init; } = [];

    public byte[] ToJson() => [.. JsonSerializer.SerializeToUtf8Bytes(this, CalibrationJson.Default.CalibrationReport), (byte)'\n'];

    /// <summary>Reads calibration.json; <paramref name="name"/> names the file in errors.</summary>
    public static CalibrationReport Parse(ReadOnlySpan<byte> json, string name)
    {
        CalibrationReport? report;
        try
        {
            report = JsonSerializer.Deserialize(json, CalibrationJson.Default.CalibrationReport);
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{name}: not a calibration.json written by riverbed evaluate ({error.Message})", error);
        }
        if (report is null || report.Version != CurrentVersion)
        {
            throw new RiverbedException($"{name}: not a version-{CurrentVersion} calibration.json written by riverbed evaluate");
        }
        return report;
    }

    /// <summary>The recommended thresholds as settings, in score order.</summary>
    public IReadOnlyList<ThresholdSetting> RecommendedSettings() =>
        Scores.Where(s => s.Recommended is not null).Select(s => ThresholdSetting.Parse(s.Recommended!)).ToList();
}

/// <summary>The one serializer of calibration.json (source-generated, snake_case).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(CalibrationReport))]
public sealed partial class CalibrationJson : JsonSerializerContext;
