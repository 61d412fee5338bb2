using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
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

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("count", Count);
        writer.WriteNumber("missing", Missing);
        writer.WriteNumber("sum", Sum);
        writer.WriteNumber("sum_squares", SumSquares);
        WriteNullable(writer, "min", Min);
        WriteNullable(writer, "max", Max);
        writer.WriteStartObject("histogram");
        writer.WriteNumber("low", Low);
        writer.WriteNumber("high", High);
        writer.WriteStartArray("bins");
        foreach (var bin in _bins)
        {
            writer.WriteNumberValue(bin);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    internal static ScoreSummary Read(JsonElement element)
    {
        var histogram = element.GetProperty("histogram");
        var bins = histogram.GetProperty("bins").EnumerateArray().Select(bin => bin.GetInt64()).ToArray();
        var summary = new ScoreSummary(histogram.GetProperty("low").GetDouble(), histogram.GetProperty("high").GetDouble(), bins.Length)
        {
            Count = element.GetProperty("count").GetInt64(),
            Missing = element.GetProperty("missing").GetInt64(),
            Min = ReadNullable(element.GetProperty("min")),
            Max = ReadNullable(element.GetProperty("max")),
        };
        bins.CopyTo(summary._bins, 0);
        summary._sum.Add(element.GetProperty("sum").GetDouble());
        summary._sumSquares.Add(element.GetProperty("sum_squares").GetDouble());
        return summary;
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static double? ReadNullable(JsonElement element) => element.ValueKind == JsonValueKind.Null ? null : element.GetDouble();
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

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("rows_in", RowsIn);
        writer.WriteNumber("rows_out", RowsOut);
        writer.WriteNumber("rows_rejected", RowsRejected);
        writer.WriteNumber("rows_failed", RowsFailed);
        writer.WriteNumber("kept", Kept);
        writer.WriteNumber("removed", Removed);
        writer.WriteStartObject("removed_by_reason");
        foreach (var (reason, count) in _removedByReason)
        {
            writer.WriteNumber(reason, count);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    internal static SourceCounts Read(JsonElement element)
    {
        var counts = new SourceCounts
        {
            RowsOut = element.GetProperty("rows_out").GetInt64(),
            RowsRejected = element.GetProperty("rows_rejected").GetInt64(),
            RowsFailed = element.GetProperty("rows_failed").GetInt64(),
            Kept = element.GetProperty("kept").GetInt64(),
            Removed = element.GetProperty("removed").GetInt64(),
        };
        counts.SetReasons(element.GetProperty("removed_by_reason").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt64())));
        return counts;
    }
}

/// <summary>
/// stats.json (format <c>riverbed-stats/1</c>): the counts and score histograms of a shard, a rank or a run, in one
/// format. Merging adds counters and bins and takes the min of mins and max of maxes; <c>sum</c> and <c>sum_squares</c>
/// are exact sums (<see cref="ExactSum"/>) rounded once when written, so everything merges exactly and the result does
/// not depend on the order or grouping of the merges. Totals over shards are made from the shards' written statistics
/// (<see cref="Snapshot"/>), so a total made in one process equals one merged later from the files. Timing is not kept
/// here (it does not merge); it goes to run.json.
/// </summary>
public sealed class ScoreStatistics
{
    public const string Format = "riverbed-stats/1";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteNumber("shards", Shards);
            writer.WriteNumber("rows_in", RowsIn);
            writer.WriteNumber("rows_out", RowsOut);
            writer.WriteNumber("rows_rejected", RowsRejected);
            writer.WriteNumber("rows_failed", RowsFailed);
            writer.WriteNumber("kept", Kept);
            writer.WriteNumber("removed", Removed);
            WriteCounts(writer, "removed_by_reason", _removedByReason);
            WriteCounts(writer, "rejects_by_kind", _rejectsByKind);
            writer.WriteNumber("turns_scored", TurnsScored);
            writer.WriteNumber("masked_positions", MaskedPositions);
            writer.WriteNumber("mismatches", Mismatches);
            writer.WriteNumber("entities", Entities);
            writer.WriteNumber("sentence_pairs", SentencePairs);
            writer.WriteStartObject("tokens");
            writer.WriteNumber("mlm", _tokens[0]);
            writer.WriteNumber("nli", _tokens[1]);
            writer.WriteNumber("rtd", _tokens[2]);
            writer.WriteNumber("ner", _tokens[3]);
            writer.WriteEndObject();
            writer.WriteStartObject("scores");
            foreach (var name in ScoreNames.All)
            {
                writer.WritePropertyName(name);
                _scores[name].Write(writer);
            }
            writer.WriteEndObject();
            writer.WriteStartObject("sources");
            foreach (var (source, counts) in _sources)
            {
                writer.WritePropertyName(source);
                counts.Write(writer);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads a stats.json; <paramref name="path"/> names the file in errors.</summary>
    public static ScoreStatistics Parse(ReadOnlySpan<byte> json, string path)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var format = root.GetProperty("format").GetString();
            if (format != Format)
            {
                throw new RiverbedException($"{path}: format '{format}' is not {Format}");
            }
            var statistics = new ScoreStatistics
            {
                Shards = root.GetProperty("shards").GetInt64(),
                RowsOut = root.GetProperty("rows_out").GetInt64(),
                RowsRejected = root.GetProperty("rows_rejected").GetInt64(),
                RowsFailed = root.GetProperty("rows_failed").GetInt64(),
                Kept = root.GetProperty("kept").GetInt64(),
                Removed = root.GetProperty("removed").GetInt64(),
                TurnsScored = root.GetProperty("turns_scored").GetInt64(),
                MaskedPositions = root.GetProperty("masked_positions").GetInt64(),
                Mismatches = root.GetProperty("mismatches").GetInt64(),
                Entities = root.GetProperty("entities").GetInt64(),
                SentencePairs = root.GetProperty("sentence_pairs").GetInt64(),
            };
            if (root.GetProperty("rows_in").GetInt64() != statistics.RowsIn)
            {
                throw new RiverbedException($"{path}: rows_in is not rows_out + rows_rejected + rows_failed");
            }
            foreach (var p in root.GetProperty("removed_by_reason").EnumerateObject())
            {
                statistics._removedByReason[p.Name] = p.Value.GetInt64();
            }
            foreach (var p in root.GetProperty("rejects_by_kind").EnumerateObject())
            {
                statistics._rejectsByKind[p.Name] = p.Value.GetInt64();
            }
            var tokens = root.GetProperty("tokens");
            string[] roles = ["mlm", "nli", "rtd", "ner"];
            for (var i = 0; i < roles.Length; i++)
            {
                statistics._tokens[i] = tokens.GetProperty(roles[i]).GetInt64();
            }
            var scores = root.GetProperty("scores");
            foreach (var name in ScoreNames.All)
            {
                statistics._scores[name] = ScoreSummary.Read(scores.GetProperty(name));
            }
            // Statistics written before per-source counts have none; they still read.
            if (root.TryGetProperty("sources", out var sources))
            {
                foreach (var source in sources.EnumerateObject())
                {
                    statistics._sources[source.Name] = SourceCounts.Read(source.Value);
                }
            }
            return statistics;
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
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

    private static void WriteCounts(Utf8JsonWriter writer, string name, SortedDictionary<string, long> counts)
    {
        writer.WriteStartObject(name);
        foreach (var (key, count) in counts)
        {
            writer.WriteNumber(key, count);
        }
        writer.WriteEndObject();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{RowsIn} in, {RowsOut} out ({Kept} kept, {Removed} removed), {RowsRejected} rejected, {RowsFailed} failed");
}
