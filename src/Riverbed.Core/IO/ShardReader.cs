using Riverbed.IO.DuckDb;
using Riverbed.IO.Reading;

namespace Riverbed.IO;

/// <summary>
/// What the pipeline needs from a shard reader (the interface lets tests feed it records without files).
/// </summary>
public interface IShardReader : IDisposable
{
    ShardInput Input { get; }

    /// <summary>The schema and why; null until the first valid record has been read.</summary>
    SchemaDetection? Schema { get; }

    /// <summary>Counts so far; final once <see cref="ReadRecords"/> has been enumerated to the end.</summary>
    ShardReadStatistics Statistics { get; }

    /// <summary>Every record of the shard, once, in input order: an example or a reject for each.</summary>
    IEnumerable<ShardRecord> ReadRecords(CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads one shard as a stream of <see cref="ShardRecord"/>s in input order: every record becomes either an
/// <see cref="Example"/> or a <see cref="Reject"/>, so counts always reconcile. Nothing is held beyond the record being
/// read (JSON Lines line by line, JSON arrays element by element, Parquet chunk by chunk). Problems with the file as a
/// whole (corrupt Parquet, truncated gzip, zstd or xz data, a schema that cannot be detected) throw <see cref="ShardReadException"/>
/// naming the file.
/// </summary>
public sealed class ShardReader : IShardReader
{
    private readonly IRecordSource _source;
    private readonly RecordProcessor _processor;
    private bool _started;

    private ShardReader(ShardInput input, IRecordSource source, RecordProcessor processor)
    {
        Input = input;
        _source = source;
        _processor = processor;
    }

    public ShardInput Input { get; }

    /// <summary>How the file is laid out, e.g. "JSON array", "JSON Lines (gzip)", "Parquet".</summary>
    public string Layout => _source.Layout;

    /// <summary>The schema and why; null until the first valid record has been read (when it is detected).</summary>
    public SchemaDetection? Schema => _processor.Detection;

    /// <summary>Counts so far; final once <see cref="ReadRecords"/> has been enumerated to the end.</summary>
    public ShardReadStatistics Statistics => _processor.Statistics;

    /// <summary>For Parquet shards, the file's columns and their DuckDB types (the writer keeps them as they are).</summary>
    internal IReadOnlyList<DuckDbColumn>? ParquetColumns => (_source as ParquetSource)?.Columns;

    /// <param name="observeShapes">
    /// Give each example its record's JSON shape (field types), observed while the reader has it parsed: set it when
    /// the records go to Parquet output, whose writer then parses none of them again.
    /// </param>
    public static ShardReader Open(ShardInput input, ReaderOptions? options = null, bool observeShapes = false)
    {
        options ??= new ReaderOptions();
        options.Validate();
        var processor = new RecordProcessor(input, options, observeShapes);
        try
        {
            return new ShardReader(input, OpenSource(input, options), processor);
        }
        catch (Exception error) when (IsReadFailure(error))
        {
            throw Wrap(input, error, "cannot open");
        }
    }

    /// <summary>The records, once; each is produced as the enumeration reaches it.</summary>
    public IEnumerable<ShardRecord> ReadRecords(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("a shard's records can be read only once");
        }
        _started = true;
        return Enumerate(cancellationToken);
    }

    private IEnumerable<ShardRecord> Enumerate(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ShardRecord record;
            try
            {
                if (!_source.TryNext(_processor, _processor.Statistics, out record))
                {
                    yield break;
                }
            }
            catch (Exception error) when (IsReadFailure(error))
            {
                var line = _source.LineReached is { } reached ? $"at line {reached:N0}, " : string.Empty;
                throw Wrap(Input, error, $"failed {line}after {_processor.Statistics.Records:N0} records");
            }
            yield return record;
        }
    }

    public void Dispose() => _source.Dispose();

    private static IRecordSource OpenSource(ShardInput input, ReaderOptions options)
    {
        if (input.Format == InputFormat.Parquet)
        {
            return new ParquetSource(input.Path, options.ParquetThreads, input.Unit);
        }
        if (input.Unit is { } unit)
        {
            return OpenUnit(input, unit, options);
        }
        Stream stream = input.Compression switch
        {
            InputCompression.Gzip => new VerifiedGzipStream(input.Path, options.Limits.MaxDecompressedBytes),
            InputCompression.Zstd => new ZstdFileStream(input.Path, options.Limits.MaxDecompressedBytes),
            InputCompression.Xz => new XzFileStream(input.Path, options.Limits.MaxDecompressedBytes),
            _ => new FileStream(input.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan),
        };
        try
        {
            var (prefix, first) = Sniff(stream);
            if (WideEncoding(prefix) is { } encoding)
            {
                throw new ShardReadException(
                    $"{input.DisplayPath}: this file is {encoding}, not UTF-8: Riverbed reads UTF-8 only and never converts text " +
                    "silently, so none of it is read; convert it first (e.g. iconv -f UTF-16 -t UTF-8, or -f UTF-32)");
            }
            var sniffed = new PrefixedStream(prefix, stream);
            var suffix = CompressionName(input.Compression) is { } name ? $" ({name})" : string.Empty;
            if (first == (byte)'[')
            {
                return new JsonArraySource(sniffed, options.Limits.MaxLineBytes, "JSON array" + suffix);
            }
            if (UsesCarriageReturnsOnly(prefix))
            {
                throw new ShardReadException(
                    $"{input.DisplayPath}: this file uses CR line endings (classic Mac OS: records end with \\r, never \\n), so its " +
                    "JSON Lines cannot be told apart and none is read; convert them first (e.g. tr '\\r' '\\n')");
            }
            var layout = input.Format == InputFormat.Json && first is not null ? "JSON Lines (detected from content)" : "JSON Lines";
            return new JsonLinesSource(sniffed, options.Limits.MaxLineBytes, layout + suffix);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One work unit of an uncompressed JSON Lines file or JSON array (the planner knew which it is): its byte range
    /// only; a JSON array unit is framed as an array of its own (see <see cref="JsonArraySource"/>).
    /// </summary>
    private static IRecordSource OpenUnit(ShardInput input, UnitRange unit, ReaderOptions options)
    {
        var file = new FileStream(input.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            file.Seek(unit.Start, SeekOrigin.Begin);
            var closing = unit.Kind == UnitKind.ArrayElements && !unit.IsLast ? "]"u8.ToArray() : [];
            var range = new RangeStream(file, unit.End - unit.Start, closing);
            var layout = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(unit.Kind == UnitKind.ArrayElements ? "JSON array" : "JSON Lines")}, {unit}");
            if (unit.Kind == UnitKind.ArrayElements)
            {
                return new JsonArraySource(new PrefixedStream("["u8.ToArray(), range), options.Limits.MaxLineBytes, layout, unit);
            }
            return new JsonLinesSource(range, options.Limits.MaxLineBytes, layout, unit);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// UTF-16 or UTF-32 text, known by its byte order mark or, without one, by the NUL bytes ASCII characters have in
    /// those encodings (JSON starts with ASCII: a brace, a bracket or whitespace); null for anything else.
    /// </summary>
    internal static string? WideEncoding(ReadOnlySpan<byte> start)
    {
        if (start.StartsWith(new byte[] { 0x00, 0x00, 0xFE, 0xFF }))
        {
            return "UTF-32 (big-endian, with a byte order mark)";
        }
        if (start.StartsWith(new byte[] { 0xFF, 0xFE, 0x00, 0x00 }))
        {
            return "UTF-32 (little-endian, with a byte order mark)";
        }
        if (start.StartsWith(new byte[] { 0xFE, 0xFF }))
        {
            return "UTF-16 (big-endian, with a byte order mark)";
        }
        if (start.StartsWith(new byte[] { 0xFF, 0xFE }))
        {
            return "UTF-16 (little-endian, with a byte order mark)";
        }
        if (start.Length < 4)
        {
            return null;
        }
        return (start[0] != 0, start[1] != 0, start[2] != 0, start[3] != 0) switch
        {
            (true, false, false, false) => "UTF-32 (little-endian, no byte order mark)",
            (false, false, false, true) => "UTF-32 (big-endian, no byte order mark)",
            (true, false, true, false) => "UTF-16 (little-endian, no byte order mark)",
            (false, true, false, true) => "UTF-16 (big-endian, no byte order mark)",
            _ => null,
        };
    }

    /// <summary>
    /// True when the start of a JSON Lines file ends lines with a bare CR and never with LF: a CR followed by more text
    /// and no LF anywhere in what was read. (A raw CR cannot be inside a JSON string, so it is a line end here.)
    /// </summary>
    internal static bool UsesCarriageReturnsOnly(ReadOnlySpan<byte> start)
    {
        if (start.IndexOf((byte)'\n') >= 0)
        {
            return false;
        }
        var cr = start.IndexOf((byte)'\r');
        return cr >= 0 && start[(cr + 1)..].IndexOfAnyExcept((byte)'\r', (byte)' ', (byte)'\t') >= 0;
    }

    /// <summary>Reads up to the first byte that is not whitespace or a byte order mark; returns what was read and that byte.</summary>
    private static (byte[] Prefix, byte? First) Sniff(Stream stream)
    {
        var prefix = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = stream.Read(buffer);
            if (read == 0)
            {
                return (prefix.ToArray(), null);
            }
            var start = prefix.Count;
            prefix.AddRange(buffer.AsSpan(0, read));
            for (var i = start; i < prefix.Count; i++)
            {
                var b = prefix[i];
                var inBom = i < 3 && prefix.Count >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF;
                if (!inBom && b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return (prefix.ToArray(), b);
                }
            }
            if (prefix.Count > 1 << 20)
            {
                // A megabyte of whitespace: read it as lines (blank lines are counted, not rejected).
                return (prefix.ToArray(), null);
            }
        }
    }

    private static string? CompressionName(InputCompression compression) => compression switch
    {
        InputCompression.Gzip => "gzip",
        InputCompression.Zstd => "zstd",
        InputCompression.Xz => "xz",
        _ => null,
    };

    private static bool IsReadFailure(Exception error) =>
        error is IOException or InvalidDataException or DuckDbException or UnauthorizedAccessException;

    private static ShardReadException Wrap(ShardInput input, Exception error, string context)
    {
        var what = error switch
        {
            DecompressedSizeLimitException => "the shard is refused: " + error.Message,
            // DuckDB stops a scan at the first STRING value that is not UTF-8. The Parquet reader then reads the file again
            // with its text as bytes and rejects only the bad rows; this is what is left when it cannot (the value is in
            // a column DuckDB renders, or the file is too large to copy in memory).
            DuckDbException duck when ParquetSource.IsInvalidText(duck) =>
                "a text (STRING) column holds bytes that are not valid UTF-8 where Riverbed cannot reject just that row, " +
                $"and DuckDB, Riverbed's Parquet engine, refuses the whole file at that value ({error.Message}); re-encode that " +
                "column as UTF-8, or store it as BINARY, whose values Riverbed checks row by row (rejecting only the bad rows)",
            DuckDbException => "cannot read it as Parquet: " + error.Message,
            InvalidDataException when CompressionName(input.Compression) is { } name => $"corrupt or truncated {name} data: " + error.Message,
            _ => error.Message,
        };
        return new ShardReadException($"{input.DisplayPath}: {context}: {what}", error);
    }
}
