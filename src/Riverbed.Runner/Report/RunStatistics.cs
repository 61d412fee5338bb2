using System.Text.Json;

namespace Riverbed.Runner.Report;

/// <summary>A score's fixed-range histogram from stats.json: values outside [low, high] are counted in the end bins.</summary>
internal sealed record ScoreHistogram(double Low, double High, IReadOnlyList<long> Bins)
{
    public double BinWidth => (High - Low) / Bins.Count;
}

/// <summary>One score's summary in stats.json.</summary>
internal sealed record ScoreSummary(string Name, long Count, long Missing, double Sum, double SumSquares, double? Min, double? Max, ScoreHistogram? Histogram)
{
    public double? Mean => Count == 0 ? null : Sum / Count;

    public double? StandardDeviation => Count == 0 ? null : Math.Sqrt(Math.Max(0, (SumSquares / Count) - ((Sum / Count) * (Sum / Count))));
}

/// <summary>
/// A run's <c>stats.json</c> (format riverbed-stats/1; the same shape per shard and per run). Counts are exact and merge
/// by addition, which is how a report can rebuild run totals from shard stats when stats.json is missing.
/// </summary>
internal sealed class RunStatistics
{
    public const string FormatName = "riverbed-stats/1";

    public long Shards { get; init; }

    public long RowsIn { get; init; }

    public long RowsOut { get; init; }

    public long RowsRejected { get; init; }

    public long RowsFailed { get; init; }

    public long Kept { get; init; }

    public long Removed { get; init; }

    public IReadOnlyDictionary<string, long> RemovedByReason { get; init; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, long> RejectsByKind { get; init; } = new Dictionary<string, long>();

    public long TurnsScored { get; init; }

    public long MaskedPositions { get; init; }

    public long Mismatches { get; init; }

    public long Entities { get; init; }

    public long SentencePairs { get; init; }

    public IReadOnlyDictionary<string, long> Tokens { get; init; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, ScoreSummary> Scores { get; init; } = new Dictionary<string, ScoreSummary>();

    /// <summary>Reads a stats file; a file that is not riverbed-stats/1 fails with its path and the field at fault.</summary>
    public static RunStatistics Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{path}: cannot be read: {error.Message}");
        }
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return Parse(document.RootElement, path);
        }
        catch (JsonException error)
        {
            throw new RiverbedException($"{path} {JsonErrors.NotValidJson(error)}");
        }
    }

    public static RunStatistics Merge(IReadOnlyList<RunStatistics> parts)
    {
        var scores = new Dictionary<string, ScoreSummary>(StringComparer.Ordinal);
        foreach (var summary in parts.SelectMany(part => part.Scores.Values))
        {
            scores[summary.Name] = scores.TryGetValue(summary.Name, out var sofar) ? Add(sofar, summary) : summary;
        }
        return new RunStatistics
        {
            Shards = parts.Sum(part => part.Shards),
            RowsIn = parts.Sum(part => part.RowsIn),
            RowsOut = parts.Sum(part => part.RowsOut),
            RowsRejected = parts.Sum(part => part.RowsRejected),
            RowsFailed = parts.Sum(part => part.RowsFailed),
            Kept = parts.Sum(part => part.Kept),
            Removed = parts.Sum(part => part.Removed),
            RemovedByReason = AddCounts(parts.Select(part => part.RemovedByReason)),
            RejectsByKind = AddCounts(parts.Select(part => part.RejectsByKind)),
            TurnsScored = parts.Sum(part => part.TurnsScored),
            MaskedPositions = parts.Sum(part => part.MaskedPositions),
            Mismatches = parts.Sum(part => part.Mismatches),
            Entities = parts.Sum(part => part.Entities),
            SentencePairs = parts.Sum(part => part.SentencePairs),
            Tokens = AddCounts(parts.Select(part => part.Tokens)),
            Scores = scores,
        };
    }

    private static RunStatistics Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new RiverbedException($"{path}: expected a JSON object ({FormatName})");
        }
        var format = root.TryGetProperty("format", out var formatElement) && formatElement.ValueKind == JsonValueKind.String ? formatElement.GetString() : null;
        if (format != FormatName)
        {
            throw new RiverbedException($"{path}: format is '{format ?? "(missing)"}', expected '{FormatName}'; is this a stats file of a scored run?");
        }
        var scores = new Dictionary<string, ScoreSummary>(StringComparer.Ordinal);
        if (root.TryGetProperty("scores", out var scoresElement))
        {
            Expect(scoresElement, JsonValueKind.Object, path, "scores");
            foreach (var score in scoresElement.EnumerateObject())
            {
                scores[score.Name] = ParseScore(score.Name, score.Value, path);
            }
        }
        return new RunStatistics
        {
            Shards = Long(root, "shards", path),
            RowsIn = Long(root, "rows_in", path),
            RowsOut = Long(root, "rows_out", path),
            RowsRejected = Long(root, "rows_rejected", path),
            RowsFailed = Long(root, "rows_failed", path),
            Kept = Long(root, "kept", path),
            Removed = Long(root, "removed", path),
            RemovedByReason = Counts(root, "removed_by_reason", path),
            RejectsByKind = Counts(root, "rejects_by_kind", path),
            TurnsScored = Long(root, "turns_scored", path),
            MaskedPositions = Long(root, "masked_positions", path),
            Mismatches = Long(root, "mismatches", path),
            Entities = Long(root, "entities", path),
            SentencePairs = Long(root, "sentence_pairs", path),
            Tokens = Counts(root, "tokens", path),
            Scores = scores,
        };
    }

    private static ScoreSummary ParseScore(string name, JsonElement element, string path)
    {
        var at = "scores." + name;
        Expect(element, JsonValueKind.Object, path, at);
        ScoreHistogram? histogram = null;
        if (element.TryGetProperty("histogram", out var histogramElement) && histogramElement.ValueKind != JsonValueKind.Null)
        {
            Expect(histogramElement, JsonValueKind.Object, path, at + ".histogram");
            var low = Double(histogramElement, "low", path, at + ".histogram") ?? throw Missing(path, at + ".histogram.low");
            var high = Double(histogramElement, "high", path, at + ".histogram") ?? throw Missing(path, at + ".histogram.high");
            if (!histogramElement.TryGetProperty("bins", out var binsElement) || binsElement.ValueKind != JsonValueKind.Array)
            {
                throw Missing(path, at + ".histogram.bins");
            }
            var bins = binsElement.EnumerateArray().Select((bin, i) => bin.ValueKind == JsonValueKind.Number && bin.TryGetInt64(out var count) && count >= 0
                ? count
                : throw new RiverbedException($"{path}: {at}.histogram.bins[{i}] is not a count")).ToArray();
            if (bins.Length == 0 || !(high > low))
            {
                throw new RiverbedException($"{path}: {at}.histogram needs low < high and at least one bin");
            }
            histogram = new ScoreHistogram(low, high, bins);
        }
        return new ScoreSummary(
            name,
            Long(element, "count", path, at),
            Long(element, "missing", path, at),
            Double(element, "sum", path, at) ?? 0,
            Double(element, "sum_squares", path, at) ?? 0,
            Double(element, "min", path, at),
            Double(element, "max", path, at),
            histogram);
    }

    private static ScoreSummary Add(ScoreSummary a, ScoreSummary b)
    {
        ScoreHistogram? histogram = (a.Histogram, b.Histogram) switch
        {
            (null, var other) => other,
            (var other, null) => other,
            ({ } x, { } y) when x.Low == y.Low && x.High == y.High && x.Bins.Count == y.Bins.Count =>
                x with { Bins = x.Bins.Zip(y.Bins, (p, q) => p + q).ToArray() },
            _ => throw new RiverbedException($"shard stats disagree on the histogram of '{a.Name}' (range or bin count); rerun `riverbed score` with one configuration"),
        };
        return new ScoreSummary(a.Name, a.Count + b.Count, a.Missing + b.Missing, a.Sum + b.Sum, a.SumSquares + b.SumSquares,
            MinOf(a.Min, b.Min, Math.Min), MinOf(a.Max, b.Max, Math.Max), histogram);
    }

    private static double? MinOf(double? a, double? b, Func<double, double, double> pick) =>
        a is null ? b : b is null ? a : pick(a.Value, b.Value);

    private static Dictionary<string, long> AddCounts(IEnumerable<IReadOnlyDictionary<string, long>> parts)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, count) in parts.SelectMany(part => part))
        {
            total[key] = total.GetValueOrDefault(key) + count;
        }
        return total;
    }

    private static void Expect(JsonElement element, JsonValueKind kind, string path, string at)
    {
        if (element.ValueKind != kind)
        {
            throw new RiverbedException($"{path}: '{at}' is {element.ValueKind.ToString().ToLowerInvariant()}, expected {kind.ToString().ToLowerInvariant()}");
        }
    }

    private static RiverbedException Missing(string path, string at) => new($"{path}: '{at}' is missing or not a number");

    private static long Long(JsonElement parent, string name, string path, string? at = null)
    {
        var field = at is null ? name : at + "." + name;
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Missing(path, field);
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : throw Missing(path, field);
    }

    private static double? Double(JsonElement parent, string name, string path, string at)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw Missing(path, at + "." + name);
    }

    private static Dictionary<string, long> Counts(JsonElement parent, string name, string path)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return counts;
        }
        Expect(element, JsonValueKind.Object, path, name);
        foreach (var entry in element.EnumerateObject())
        {
            counts[entry.Name] = entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt64(out var count) ? count : throw Missing(path, name + "." + entry.Name);
        }
        return counts;
    }
}
