using System.Globalization;
using Riverbed.IO.DuckDb;
using Riverbed.IO.Reading;

namespace Riverbed.IO;

/// <summary>How a unit's <see cref="UnitRange.Start"/> and <see cref="UnitRange.End"/> are counted.</summary>
public enum UnitKind
{
    /// <summary>JSON Lines: a byte range cut just after a line end.</summary>
    Lines,

    /// <summary>A JSON array: the bytes from one element's first byte to another's last (commas between units left out).</summary>
    ArrayElements,

    /// <summary>Parquet: a row range covering whole row groups.</summary>
    RowGroups,
}

/// <summary>
/// Which part of a file one work unit covers. For JSON Lines and JSON arrays <see cref="Start"/>/<see cref="End"/> are
/// byte offsets in the file (end exclusive); for Parquet they are row numbers. <see cref="FirstRow"/> and
/// <see cref="FirstLine"/> are where the unit's first record stands in the whole file, so examples, ids and rejects keep
/// the numbers a whole-file read gives them.
/// </summary>
/// <param name="Index">0-based place among the file's units.</param>
/// <param name="Count">How many units the file has.</param>
/// <param name="FirstRow">0-based index of the unit's first record in the file (blank lines do not count).</param>
/// <param name="FirstLine">1-based line of the unit's first byte (1 for Parquet).</param>
/// <param name="Bytes">Input bytes the unit stands for (Parquet: its row groups' compressed bytes): what ranks are balanced by.</param>
public sealed record UnitRange(UnitKind Kind, int Index, int Count, long Start, long End, long FirstRow, long FirstLine, long Bytes)
{
    /// <summary>Whether this is the file's last unit (a JSON array's closing bracket and anything after it belong to it).</summary>
    public bool IsLast => Index == Count - 1;

    public override string ToString() => Kind == UnitKind.RowGroups
        ? string.Create(CultureInfo.InvariantCulture, $"unit {Index + 1} of {Count}: rows {Start:N0}-{End - 1:N0}")
        : string.Create(CultureInfo.InvariantCulture, $"unit {Index + 1} of {Count}: bytes {Start:N0}-{End - 1:N0} from line {FirstLine:N0}");
}

/// <summary>
/// Splits input files into work units of about <c>unitSize</c> input bytes: JSON Lines by byte ranges cut just after a
/// line end ('\n'; a CRLF's '\r' stays with its line), JSON arrays between elements, Parquet by whole row groups.
/// Compressed files cannot be entered in the middle, so each is one unit; so is any file no larger than the unit size,
/// and a file planned into a single unit keeps its plain name (its outputs are laid out as before units existed).
/// Planning reads each splittable file once from start to end (counting lines and records before each cut), and the
/// same file always gives the same units, so every rank plans alike without talking to the others.
/// </summary>
public static class UnitPlanner
{
    /// <summary>What <c>--unit-size</c> means when it is not given: 256 MiB of input.</summary>
    public const long DefaultUnitSize = 256L << 20;

    /// <summary>The smallest unit size accepted (a unit smaller than a few records' worth only adds overhead).</summary>
    public const long MinimumUnitSize = 4 << 10;

    private const int ChunkBytes = 1 << 20;

    /// <summary>Every file's units, in file order then unit order.</summary>
    public static IReadOnlyList<ShardInput> Plan(IReadOnlyList<ShardInput> files, long unitSize, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var planned = new IReadOnlyList<ShardInput>[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(4, System.Environment.ProcessorCount)) },
            i =>
            {
                try
                {
                    planned[i] = PlanFile(files[i], unitSize, options);
                }
                catch (ShardReadException)
                {
                    // A file that cannot be read through is one unit: reading it fails that unit alone, with the reader's
                    // message, as for any unreadable shard (and every rank decides the same).
                    planned[i] = [files[i]];
                }
            });
        return planned.SelectMany(units => units).ToList();
    }

    /// <summary>One file's units; the file itself when it is one unit.</summary>
    public static IReadOnlyList<ShardInput> PlanFile(ShardInput file, long unitSize, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfLessThan(unitSize, MinimumUnitSize);
        options ??= new ReaderOptions();
        if (file.Unit is not null || file.Compression != InputCompression.None || file.Size <= unitSize)
        {
            return [file];
        }
        try
        {
            var ranges = file.Format == InputFormat.Parquet
                ? RowGroups(file, unitSize, options)
                : FirstByte(file) == (byte)'['
                    ? ArrayElements(file, unitSize, options.Limits.MaxLineBytes)
                    : Lines(file, unitSize, options.Limits.MaxLineBytes);
            return ranges.Count <= 1 ? [file] : ranges.Select(file.ForUnit).ToList();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidDataException or DuckDbException)
        {
            throw new ShardReadException($"{file.DisplayPath}: cannot be split into work units: {error.Message}", error);
        }
    }

    /// <summary>Parses a size such as <c>64MB</c>, <c>256MiB</c>, <c>1GB</c>, <c>500k</c> or a plain byte count (MB = MiB: units are powers of two).</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var trimmed = text.Trim();
        var digits = 0;
        while (digits < trimmed.Length && (char.IsAsciiDigit(trimmed[digits]) || trimmed[digits] == '.'))
        {
            digits++;
        }
        if (digits == 0 || !double.TryParse(trimmed.AsSpan(0, digits), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }
        long scale = trimmed[digits..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0,
        };
        if (scale == 0 || number * scale > long.MaxValue / 2)
        {
            return false;
        }
        bytes = (long)Math.Round(number * scale);
        return bytes > 0;
    }

    /// <summary>A size as <c>--unit-size</c> would be written (for messages and records).</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        _ when bytes % (1L << 30) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 30}GB"),
        _ when bytes % (1L << 20) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 20}MB"),
        _ when bytes % (1L << 10) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes >> 10}KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes}"),
    };

    /// <summary>The first byte that is not a byte order mark or whitespace (what the reader sniffs: '[' is a JSON array).</summary>
    private static byte? FirstByte(ShardInput file)
    {
        using var stream = Open(file.Path);
        var buffer = new byte[64 * 1024];
        var offset = 0L;
        while (true)
        {
            var read = stream.Read(buffer);
            if (read == 0 || offset > 1 << 20)
            {
                return null;
            }
            for (var i = 0; i < read; i++)
            {
                var position = offset + i;
                var inBom = position < 3 && buffer[0] == 0xEF && read >= 3 && buffer[1] == 0xBB && buffer[2] == 0xBF && offset == 0;
                if (!inBom && buffer[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return buffer[i];
                }
            }
            offset += read;
        }
    }

    /// <summary>
    /// JSON Lines: a cut is the first line start at or after each multiple of the unit size. The reader numbers lines
    /// from 1 and counts a record for every line that is not blank (only spaces, tabs, '\r') or is over the line limit,
    /// so the same is counted here up to each cut.
    /// </summary>
    private static List<UnitRange> Lines(ShardInput file, long unitSize, int maxLineBytes)
    {
        var cuts = new List<(long Offset, long Line, long Row)> { (0, 1, 0) };
        using var stream = Open(file.Path);
        var buffer = new byte[ChunkBytes];
        long offset = 0;
        long line = 1;
        long rows = 0;
        long lineLength = 0;
        var lineHasText = false;
        var nextCut = unitSize;
        var first = true;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            var span = buffer.AsSpan(0, read);
            var start = 0;
            if (first)
            {
                first = false;
                // The reader skips a leading byte order mark before the first line.
                if (span.StartsWith("\uFEFF"u8))
                {
                    start = 3;
                }
            }
            while (start < span.Length)
            {
                var rest = span[start..];
                var newline = rest.IndexOf((byte)'\n');
                var part = newline < 0 ? rest : rest[..newline];
                lineLength += part.Length;
                lineHasText |= part.IndexOfAnyExcept(" \t\r"u8) >= 0;
                if (newline < 0)
                {
                    break;
                }
                if (lineHasText || lineLength > maxLineBytes)
                {
                    rows++;
                }
                line++;
                lineLength = 0;
                lineHasText = false;
                start += newline + 1;
                var next = offset + start;
                if (next >= nextCut && next < file.Size)
                {
                    cuts.Add((next, line, rows));
                    nextCut = (next / unitSize + 1) * unitSize;
                }
            }
            offset += read;
        }
        var ranges = new List<UnitRange>(cuts.Count);
        for (var i = 0; i < cuts.Count; i++)
        {
            var end = i + 1 < cuts.Count ? cuts[i + 1].Offset : offset;
            ranges.Add(new UnitRange(UnitKind.Lines, i, cuts.Count, cuts[i].Offset, end, cuts[i].Row, cuts[i].Line, end - cuts[i].Offset));
        }
        return ranges;
    }

    /// <summary>
    /// A JSON array: cut before the first element that starts at or after each multiple of the unit size, only between
    /// two well-formed elements (a cut next to a broken one could change how the reader recovers from it).
    /// </summary>
    private static List<UnitRange> ArrayElements(ShardInput file, long unitSize, int maxElementBytes)
    {
        var starts = new List<(long Offset, long Line, long Row, long PreviousEnd)>();
        using var stream = Open(file.Path);
        var splitter = new JsonArraySplitter(stream, maxElementBytes);
        long index = 0;
        var nextCut = unitSize;
        long previousEnd = -1;
        while (splitter.TryReadElement(out var element))
        {
            var clean = element.Problem == ElementProblem.None && !element.TooLong;
            if (index == 0 && clean)
            {
                starts.Add((element.ByteOffset, element.Line, 0, -1));
            }
            else if (clean && previousEnd >= 0 && starts.Count > 0 && element.ByteOffset >= nextCut)
            {
                starts.Add((element.ByteOffset, element.Line, index, previousEnd));
                nextCut = (element.ByteOffset / unitSize + 1) * unitSize;
            }
            previousEnd = clean ? element.ByteOffset + element.Length : -1;
            if (index == 0 && !clean)
            {
                return [];
            }
            index++;
        }
        var ranges = new List<UnitRange>(starts.Count);
        for (var i = 0; i < starts.Count; i++)
        {
            // The last unit runs to the end of the file: the closing bracket and whatever follows it are read there.
            var end = i + 1 < starts.Count ? starts[i + 1].PreviousEnd : file.Size;
            ranges.Add(new UnitRange(UnitKind.ArrayElements, i, starts.Count, starts[i].Offset, end, starts[i].Row, starts[i].Line, end - starts[i].Offset));
        }
        return ranges;
    }

    /// <summary>Parquet: consecutive whole row groups, a new unit once the current one holds the unit size (compressed bytes).</summary>
    private static List<UnitRange> RowGroups(ShardInput file, long unitSize, ReaderOptions options)
    {
        var groups = new List<(long Rows, long Bytes)>();
        using (var database = DuckDbDatabase.SharedForScans(options.ParquetThreads))
        using (var connection = database.Connect())
        using (var query = connection.Stream(
            $"SELECT row_group_id, max(row_group_num_rows)::BIGINT, sum(total_compressed_size)::BIGINT FROM parquet_metadata({DuckDbSql.Literal(file.Path)}) GROUP BY row_group_id ORDER BY row_group_id"))
        {
            while (query.FetchChunk() is { } chunk)
            {
                using (chunk)
                {
                    for (var row = 0UL; row < (ulong)chunk.RowCount; row++)
                    {
                        groups.Add((Convert.ToInt64(chunk.GetVector(1).GetScalar(query.Columns[1].Type, row), CultureInfo.InvariantCulture),
                            Convert.ToInt64(chunk.GetVector(2).GetScalar(query.Columns[2].Type, row), CultureInfo.InvariantCulture)));
                    }
                }
            }
        }
        var spans = new List<(long Start, long End, long Bytes)>();
        long first = 0;
        long rows = 0;
        long bytes = 0;
        foreach (var group in groups)
        {
            rows += group.Rows;
            bytes += group.Bytes;
            if (bytes >= unitSize)
            {
                spans.Add((first, rows, bytes));
                first = rows;
                bytes = 0;
            }
        }
        if (rows > first || spans.Count == 0)
        {
            spans.Add((first, rows, bytes));
        }
        return spans.Select((span, i) => new UnitRange(UnitKind.RowGroups, i, spans.Count, span.Start, span.End, span.Start, 1, span.Bytes)).ToList();
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
}
