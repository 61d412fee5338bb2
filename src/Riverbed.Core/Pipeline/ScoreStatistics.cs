using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>
/// Counters and a fixed-bin histogram for one score: the same bins in every shard, so summaries merge by adding.
/// Values outside [low, high] go to the first or last bin; null or NaN values count as missing.
/// </summary>
public sealed class ScoreSummary
{
    private readonly long[] _bins;
    private readonly ExactSum _sum = new();
    private readonly ExactSum _sumSquares = new();

    public ScoreSummary(double low, double high, int bins)
    {
        if (!(high > low) || bins < 1)
        {
            throw new ArgumentException($"a histogram needs low < high and at least one bin (got [{low}, {high}], {bins})");
        }
        Low = low;
        High = high;
        _bins = new long[bins];
    }

    public double Low { get; }

    public double High { get; }

    public long Count { get; private set; }

    public long Missing { get; private set; }

    /// <summary>The sum of the values, exact until rounded once (so it does not depend on the order of rows or merges).</summary>
    public double Sum => _sum.Value;

    public double SumSquares => _sumSquares.Value;

    public double? Min { get; private set; }

    public double? Max { get; private set; }

    public IReadOnlyList<long> Bins => _bins;

    /// <summary>The fixed bins of each score in stats.json: fill-and-compare over [-1, 1] in 40, the others over [0, 1] in 20.</summary>
    public static ScoreSummary For(string score) =>
        ScoreNames.LowerIsWorse(score) ? new ScoreSummary(-1, 1, 40) : new ScoreSummary(0, 1, 20);

    public void Add(double? value)
    {
        if (value is not { } v || double.IsNaN(v))
        {
            Missing++;
            return;
        }
        Count++;
        _sum.Add(v);
        _sumSquares.Add(v * v);
        Min = Min is { } min ? Math.Min(min, v) : v;
        Max = Max is { } max ? Math.Max(max, v) : v;
        _bins[BinOf(v)]++;
    }

    /// <summary>The bin a value falls in: [low + i·w, low + (i+1)·w), the last bin closed at high.</summary>
    public int BinOf(double value)
    {
        var position = (value - Low) / (High - Low) * _bins.Length;
        return position <= 0 ? 0 : position >= _bins.Length ? _bins.Length - 1 : (int)position;
    }

    public void Merge(ScoreSummary other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Low != Low || other.High != High || other.Bins.Count != _bins.Length)
        {
            throw new RiverbedException($"cannot merge score histograms with different bins ([{other.Low}, {other.High}] × {other.Bins.Count} vs [{Low}, {High}] × {_bins.Length})");
        }
        Count += other.Count;
        Missing += other.Missing;
        _sum.Add(other._sum);
        _sumSquares.Add(other._sumSquares);
        if (other.Min is { } otherMin)
        {
            Min = Min is { } min ? Math.Min(min, otherMin) : otherMin;
        }
        if (other.Max is { } otherMax)
        {
            Max = Max is { } max ? Math.Max(max, otherMax) : otherMax;
        }
        for (var i = 0; i < _bins.Length; i++)
        {
            _bins[i] += other._bins[i];
        }
    }

    internal StatsScore ToDocument() => new(Count, Missing, Sum, SumSquares, Min, Max, new StatsHistogram(Low, High, [.. _bins]));

    internal static ScoreSummary From(StatsScore document)
    {
        var summary = new ScoreSummary(document.Histogram.Low, document.Histogram.High, document.Histogram.Bins.Count)
        {
            Count = document.Count,
            Missing = document.Missing,
            Min = document.Min,
            Max = document.Max,
        };
        document.Histogram.Bins.ToArray().CopyTo(summary._bins, 0);
        summary._sum.Add(document.Sum);
        summary._sumSquares.Add(document.SumSquares);
        return summary;
    }
}

/// <summary>
/// One source file's share of a run: rows and decisions, so a threshold that removes far more of one source than of
/// another shows. All counts are integers, so they merge exactly.
/// </summary>
public sealed class SourceCounts
{
    private readonly SortedDictionary<string, long> _removedByReason = new(StringComparer.Ordinal);

    public long RowsOut { get; internal set; }

    public long RowsRejected { get; internal set; }

    public long RowsFailed { get; internal set; }

    public long RowsIn => RowsOut + RowsRejected + RowsFailed;

    public long Kept { get; internal set; }

    public long Removed { get; internal set; }

    public IReadOnlyDictionary<string, long> RemovedByReason => _removedByReason;

    internal void Add(SourceCounts other)
    {
        RowsOut += other.RowsOut;
        RowsRejected += other.RowsRejected;
        RowsFailed += other.RowsFailed;
        Kept += other.Kept;
        Removed += other.Removed;
        foreach (var (reason, count) in other._removedByReason)
        {
            _removedByReason[reason] = _removedByReason.GetValueOrDefault(reason) + count;
        }
    }

    internal void SetReasons(IEnumerable<KeyValuePair<string, long>> reasons)
    {
        _removedByReason.Clear();
        foreach (var (reason, count) in reasons)
        {
            _removedByReason[reason] = count;
        }
    }

    internal StatsSource ToDocument() => new(RowsIn, RowsOut, RowsRejected, RowsFailed, Kept, Removed, _removedByReason);

    internal static SourceCounts From(StatsSource document)
    {
        var counts = new SourceCounts
        {
            RowsOut = document.RowsOut,
            RowsRejected = document.RowsRejected,
            RowsFailed = document.RowsFailed,
            Kept = document.Kept,
            Removed = document.Removed,
        };
        counts.SetReasons(document.RemovedByReason);
        return counts;
    }
}

/// <summary>
/// stats.json (format <c>riverbed-stats/1</c>): the counts and score histograms of a shard, a rank or a run, in one
/// format. Merging adds counters and bins and takes the min of mins and max of maxes; <c>sum</c> and <c>sum_squares</c>
/// are exact sums (<see cref="ExactSum"/>) rounded once when written, so everything merges exactly and the result does
/// not depend on the order or grouping of the merges. Totals over shards are made from the shards' written statistics
/// (<see cref="Snapshot"/>), so a total made in one process equals one merged later from the files. Timing is not kept
/// here (it does not merge); it goes to run.json. Its file is written and read only here, through
/// <see cref="StatsDocument"/> and <see cref="StatsJson"/>.
/// </summary>
public sealed class ScoreStatistics
{
    public const string Format = "riverbed-stats/1";

    private readonly SortedDictionary<string, long> _removedByReason = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _rejectsByKind = new(StringComparer.Ordinal);
    private readonly long[] _tokens = new long[4];
    private readonly Dictionary<string, ScoreSummary> _scores;
    private readonly SortedDictionary<string, SourceCounts> _sources = new(StringComparer.Ordinal);

    public ScoreStatistics()
    {
        _scores = ScoreNames.All.ToDictionary(name => name, ScoreSummary.For, StringComparer.Ordinal);
    }

    public long Shards { get; set; }

    public long RowsIn => RowsOut + RowsRejected + RowsFailed;

    public long RowsOut { get; private set; }

    public long RowsRejected { get; private set; }

    public long RowsFailed { get; private set; }

    public long Kept { get; private set; }

    public long Removed { get; private set; }

    public IReadOnlyDictionary<string, long> RemovedByReason => _removedByReason;

    public IReadOnlyDictionary<string, long> RejectsByKind => _rejectsByKind;

    public long TurnsScored { get; private set; }

    public long MaskedPositions { get; private set; }

    public long Mismatches { get; private set; }

    public long Entities { get; private set; }

    public long SentencePairs { get; private set; }

    /// <summary>Real tokens sent to each model, in <see cref="Riverbed.Inference.ModelFolders.ModelRole"/> order (mlm, nli, rtd, ner).</summary>
    public IReadOnlyList<long> Tokens => _tokens;

    public long TotalTokens => _tokens.Sum();

    public IReadOnlyDictionary<string, ScoreSummary> Scores => _scores;

    /// <summary>Rows and decisions per source file (the input's name), in name order.</summary>
    public IReadOnlyDictionary<string, SourceCounts> Sources => _sources;

    /// <summary>
    /// Makes these statistics (one shard's) the counts of source <paramref name="source"/>: its only entry in
    /// <see cref="Sources"/>, replacing any earlier one. Totals merged from shards then hold every source's.
    /// </summary>
    public void AttributeTo(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var counts = new SourceCounts { RowsOut = RowsOut, RowsRejected = RowsRejected, RowsFailed = RowsFailed, Kept = Kept, Removed = Removed };
        counts.SetReasons(_removedByReason);
        _sources.Clear();
        _sources[source] = counts;
    }

    /// <summary>Counts one written row: its decision (every triggered reason counts once) and its scores.</summary>
    public void AddRow(ExampleFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        RowsOut++;
        if (facts.Decision.Keep)
        {
            Kept++;
        }
        else
        {
            Removed++;
            foreach (var reason in facts.Decision.Reasons)
            {
                _removedByReason[reason] = _removedByReason.GetValueOrDefault(reason) + 1;
            }
        }
        TurnsScored += facts.TurnsScored;
        MaskedPositions += facts.MaskedPositions;
        Mismatches += facts.Mismatches;
        Entities += facts.Entities;
        SentencePairs += facts.SentencePairs;
        _tokens[0] += facts.Tokens.Mlm;
        _tokens[1] += facts.Tokens.Nli;
        _tokens[2] += facts.Tokens.Rtd;
        _tokens[3] += facts.Tokens.Ner;
        foreach (var name in ScoreNames.All)
        {
            _scores[name].Add(facts.Scores.TryGetValue(name, out var value) ? value : null);
        }
    }

    public void AddReject(string kind)
    {
        RowsRejected++;
        _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + 1;
    }

    public void AddFailed() => RowsFailed++;

    public void Merge(ScoreStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Shards += other.Shards;
        RowsOut += other.RowsOut;
        RowsRejected += other.RowsRejected;
        RowsFailed += other.RowsFailed;
        Kept += other.Kept;
        Removed += other.Removed;
        foreach (var (reason, count) in other._removedByReason)
        {
            _removedByReason[reason] = _removedByReason.GetValueOrDefault(reason) + count;
        }
        foreach (var (kind, count) in other._rejectsByKind)
        {
            _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + count;
        }
        TurnsScored += other.TurnsScored;
        MaskedPositions += other.MaskedPositions;
        Mismatches += other.Mismatches;
        Entities += other.Entities;
        SentencePairs += other.SentencePairs;
        for (var i = 0; i < _tokens.Length; i++)
        {
            _tokens[i] += other._tokens[i];
        }
        foreach (var name in ScoreNames.All)
        {
            _scores[name].Merge(other._scores[name]);
        }
        foreach (var (source, counts) in other._sources)
        {
            if (!_sources.TryGetValue(source, out var mine))
            {
                _sources[source] = mine = new SourceCounts();
            }
            mine.Add(counts);
        }
    }

    /// <summary>These statistics as their stats.json holds them (sums rounded once): what merges of written files start from.</summary>
    public ScoreStatistics Snapshot() => Parse(ToJson(), "statistics");

    /// <summary>
    /// The same statistics (one shard's) with the decisions counted again: what <c>riverbed filter</c> writes; the
    /// shard's source entry is counted again with them (<paramref name="source"/> names it when the scored statistics
    /// predate per-source counts).
    /// </summary>
    internal void ReplaceDecisions(long kept, long removed, IReadOnlyDictionary<string, long> removedByReason, string source)
    {
        Kept = kept;
        Removed = removed;
        _removedByReason.Clear();
        foreach (var (reason, count) in removedByReason)
        {
            _removedByReason[reason] = count;
        }
        AttributeTo(_sources.Count == 1 ? _sources.Keys.First() : source);
    }

    public byte[] ToJson() => PersistedJson.ToFile(new StatsDocument
    {
        Format = Format,
        Shards = Shards,
        RowsIn = RowsIn,
        RowsOut = RowsOut,
        RowsRejected = RowsRejected,
        RowsFailed = RowsFailed,
        Kept = Kept,
        Removed = Removed,
        RemovedByReason = _removedByReason,
        RejectsByKind = _rejectsByKind,
        TurnsScored = TurnsScored,
        MaskedPositions = MaskedPositions,
        Mismatches = Mismatches,
        Entities = Entities,
        SentencePairs = SentencePairs,
        Tokens = new StatsTokens(_tokens[0], _tokens[1], _tokens[2], _tokens[3]),
        Scores = RunConfiguration.Ordered(ScoreNames.All, name => name, name => _scores[name].ToDocument()),
        Sources = RunConfiguration.Ordered(_sources, source => source.Key, source => source.Value.ToDocument()),
    }, StatsJson.Persisted.StatsDocument);

    /// <summary>Reads a stats.json; <paramref name="path"/> names the file in errors.</summary>
    public static ScoreStatistics Parse(ReadOnlySpan<byte> json, string path)
    {
        StatsDocument document;
        try
        {
            document = JsonSerializer.Deserialize(json, StatsJson.Persisted.StatsDocument) ?? throw new JsonException("the statistics are null");
            if (document.Format != Format)
            {
                throw new RiverbedException($"{path}: format '{document.Format}' is not {Format}");
            }
            var statistics = new ScoreStatistics
            {
                Shards = document.Shards,
                RowsOut = document.RowsOut,
                RowsRejected = document.RowsRejected,
                RowsFailed = document.RowsFailed,
                Kept = document.Kept,
                Removed = document.Removed,
                TurnsScored = document.TurnsScored,
                MaskedPositions = document.MaskedPositions,
                Mismatches = document.Mismatches,
                Entities = document.Entities,
                SentencePairs = document.SentencePairs,
            };
            if (document.RowsIn != statistics.RowsIn)
            {
                throw new RiverbedException($"{path}: rows_in is not rows_out + rows_rejected + rows_failed");
            }
            foreach (var (reason, count) in document.RemovedByReason)
            {
                statistics._removedByReason[reason] = count;
            }
            foreach (var (kind, count) in document.RejectsByKind)
            {
                statistics._rejectsByKind[kind] = count;
            }
            (statistics._tokens[0], statistics._tokens[1], statistics._tokens[2], statistics._tokens[3]) =
                (document.Tokens.Mlm, document.Tokens.Nli, document.Tokens.Rtd, document.Tokens.Ner);
            foreach (var name in ScoreNames.All)
            {
                statistics._scores[name] = document.Scores.TryGetValue(name, out var score)
                    ? ScoreSummary.From(score)
                    : throw new JsonException($"the scores lack {name}");
            }
            // Statistics written before per-source counts have none; they still read.
            foreach (var (source, counts) in document.Sources ?? new Dictionary<string, StatsSource>())
            {
                statistics._sources[source] = SourceCounts.From(counts);
            }
            return statistics;
        }
        catch (Exception error) when (error is JsonException or ArgumentException)
        {
            throw new RiverbedException($"{path}: not a readable {Format} file ({error.Message})", error);
        }
    }

    public static ScoreStatistics Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new RiverbedException($"{path}: cannot read the stats ({error.Message})", error);
        }
        return Parse(bytes, path);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{RowsIn} in, {RowsOut} out ({Kept} kept, {Removed} removed), {RowsRejected} rejected, {RowsFailed} failed");
}

/// <summary>stats.json as its file holds it (properties in file order); <see cref="ScoreStatistics"/> is made from and into it.</summary>
internal sealed record StatsDocument
{
    [JsonRequired] public required string Format { get; init; }
    [JsonRequired] public long Shards { get; init; }
    [JsonRequired] public long RowsIn { get; init; }
    [JsonRequired] public long RowsOut { get; init; }
    [JsonRequired] public long RowsRejected { get; init; }
    [JsonRequired] public long RowsFailed { get; init; }
    [JsonRequired] public long Kept { get; init; }
    [JsonRequired] public long Removed { get; init; }
    [JsonRequired] public required IReadOnlyDictionary<string, long> RemovedByReason { get; init; }
    [JsonRequired] public required IReadOnlyDictionary<string, long> RejectsByKind { get; init; }
    [JsonRequired] public long TurnsScored { get; init; }
    [JsonRequired] public long MaskedPositions { get; init; }
    [JsonRequired] public long Mismatches { get; init; }
    [JsonRequired] public long Entities { get; init; }
    [JsonRequired] public long SentencePairs { get; init; }
    [JsonRequired] public required StatsTokens Tokens { get; init; }
    [JsonRequired] public required IReadOnlyDictionary<string, StatsScore> Scores { get; init; }

    /// <summary>Absent from statistics written before per-source counts; they still read.</summary>
    public IReadOnlyDictionary<string, StatsSource>? Sources { get; init; }
}

internal sealed record StatsTokens([property: JsonRequired] long Mlm, [property: JsonRequired] long Nli, [property: JsonRequired] long Rtd, [property: JsonRequired] long Ner);

internal sealed record StatsScore(
    [property: JsonRequired] long Count,
    [property: JsonRequired] long Missing,
    [property: JsonRequired] double Sum,
    [property: JsonRequired] double SumSquares,
    [property: JsonRequired] double? Min,
    [property: JsonRequired] double? Max,
    [property: JsonRequired] StatsHistogram Histogram);

internal sealed record StatsHistogram([property: JsonRequired] double Low, [property: JsonRequired] double High, [property: JsonRequired] IReadOnlyList<long> Bins);

internal sealed record StatsSource(
    [property: JsonRequired] long RowsIn,
    [property: JsonRequired] long RowsOut,
    [property: JsonRequired] long RowsRejected,
    [property: JsonRequired] long RowsFailed,
    [property: JsonRequired] long Kept,
    [property: JsonRequired] long Removed,
    [property: JsonRequired] IReadOnlyDictionary<string, long> RemovedByReason);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(StatsDocument))]
internal sealed partial class StatsJson : JsonSerializerContext
{
    public static StatsJson Persisted { get; } = new(PersistedJson.Options());
}
