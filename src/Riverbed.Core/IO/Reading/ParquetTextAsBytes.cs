using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Riverbed.IO.Reading;

/// <summary>
/// A copy of a Parquet file, held in memory, whose text (STRING/UTF8 and ENUM) columns are declared plain BINARY, so
/// DuckDB hands their values over as bytes instead of refusing the whole file at the first value that is not UTF-8.
/// Riverbed then checks each value itself and rejects only the rows that hold invalid text. Only the footer changes: the
/// data pages are copied as they are, at the same offsets, so every column chunk the footer points to is where it was.
/// The copy lives in an anonymous memory file (memfd), which DuckDB opens through /proc/self/fd; nothing is written to
/// any file system, and the memory is freed when the copy is disposed.
/// </summary>
internal sealed partial class ParquetTextAsBytes : IDisposable
{
    private readonly SafeFileHandle _file;

    private ParquetTextAsBytes(SafeFileHandle file, string path)
    {
        _file = file;
        Path = path;
    }

    /// <summary>A path DuckDB can open while this copy is alive.</summary>
    public string Path { get; }

    /// <summary>
    /// The largest file re-read this way: a quarter of the memory this process may use (the container's limit where
    /// there is one), since the copy is held in memory while the file is read.
    /// </summary>
    public static long MaxBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>
    /// Copies <paramref name="path"/> with the text annotations removed from the leaves under the top-level columns
    /// named in <paramref name="columns"/> (the others keep theirs). Throws <see cref="InvalidDataException"/> when the
    /// footer cannot be parsed.
    /// </summary>
    public static ParquetTextAsBytes Create(string path, IReadOnlySet<string> columns)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("re-reading Parquet text as bytes needs Linux memory files");
        }
        using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var length = source.Length;
        if (length < 12)
        {
            throw new InvalidDataException("the file is too short to be Parquet");
        }
        var tail = new byte[8];
        source.Position = length - 8;
        source.ReadExactly(tail);
        var footerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (!tail.AsSpan(4).SequenceEqual("PAR1"u8) || footerLength > length - 12)
        {
            throw new InvalidDataException("the file does not end with a Parquet footer");
        }
        var footerStart = length - 8 - footerLength;
        var footer = new byte[footerLength];
        source.Position = footerStart;
        source.ReadExactly(footer);
        var patched = PatchFooter(footer, columns);

        var descriptor = MemfdCreate("riverbed-parquet", CloseOnExec);
        if (descriptor < 0)
        {
            throw new IOException($"cannot create a memory file (memfd_create failed, errno {Marshal.GetLastPInvokeError()})");
        }
        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        try
        {
            // RandomAccess writes through the handle without taking it over (a FileStream would close it when disposed).
            source.Position = 0;
            var buffer = new byte[1 << 20];
            long written = 0;
            while (written < footerStart)
            {
                var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, footerStart - written));
                if (read == 0)
                {
                    throw new IOException("the file shrank while it was copied");
                }
                RandomAccess.Write(handle, buffer.AsSpan(0, read), written);
                written += read;
            }
            RandomAccess.Write(handle, patched, written);
            BinaryPrimitives.WriteUInt32LittleEndian(tail, (uint)patched.Length);
            RandomAccess.Write(handle, tail, written + patched.Length);
            return new ParquetTextAsBytes(handle, $"/proc/self/fd/{descriptor}");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>
    /// FileMetaData (Thrift compact protocol) with field 2, the flattened schema, rewritten: in each SchemaElement under
    /// a chosen top-level column, converted_type (field 6) UTF8 or ENUM and logicalType (field 10) STRING or ENUM are
    /// left out. Every other byte of the footer is copied as it is.
    /// </summary>
    internal static byte[] PatchFooter(ReadOnlySpan<byte> footer, IReadOnlySet<string> columns)
    {
        var reader = new ThriftReader(footer);
        var output = new List<byte>(footer.Length);
        short last = 0;
        foreach (var field in reader.ReadStructFields())
        {
            ThriftReader.WriteFieldHeader(output, last, field.Id, field.Type);
            last = field.Id;
            if (field.Id == 2 && field.Type == ThriftReader.List)
            {
                PatchSchema(footer[field.Start..field.End], columns, output);
            }
            else
            {
                output.AddRange(footer[field.Start..field.End]);
            }
        }
        output.Add(0);
        return [.. output];
    }

    private static void PatchSchema(ReadOnlySpan<byte> list, IReadOnlySet<string> columns, List<byte> output)
    {
        var reader = new ThriftReader(list);
        var (count, elementType, headerEnd) = reader.ReadListHeader();
        if (elementType != ThriftReader.Struct)
        {
            throw new InvalidDataException("the Parquet schema is not a list of elements");
        }
        output.AddRange(list[..headerEnd]);
        // The schema is a depth-first list: the root, then each top-level column and its subtree (num_children says
        // how many children an element has). `open` counts the elements still to come under the current top-level column.
        var remainingTopLevel = -1;
        var open = new Stack<int>();
        var patching = false;
        for (var i = 0; i < count; i++)
        {
            var fields = reader.ReadStructFields().ToList();
            var name = fields.FirstOrDefault(f => f.Id == 4) is { Type: ThriftReader.Binary } nameField ? ThriftReader.ReadString(list[nameField.Start..nameField.End]) : null;
            var children = fields.FirstOrDefault(f => f.Id == 5) is { Type: ThriftReader.I32 } childField ? (int)ThriftReader.ReadInt(list[childField.Start..childField.End]) : 0;
            if (i == 0)
            {
                remainingTopLevel = children;
            }
            else
            {
                if (open.Count == 0)
                {
                    remainingTopLevel--;
                    patching = name is not null && columns.Contains(name);
                }
                else
                {
                    open.Push(open.Pop() - 1);
                }
                if (children > 0)
                {
                    open.Push(children);
                }
                while (open.Count > 0 && open.Peek() == 0)
                {
                    open.Pop();
                }
            }
            short last = 0;
            foreach (var field in fields)
            {
                if (patching && IsTextAnnotation(list, field))
                {
                    continue;
                }
                ThriftReader.WriteFieldHeader(output, last, field.Id, field.Type);
                last = field.Id;
                output.AddRange(list[field.Start..field.End]);
            }
            output.Add(0);
        }
        if (remainingTopLevel != 0 || open.Count != 0)
        {
            throw new InvalidDataException("the Parquet schema's element counts do not add up");
        }
    }

    private static bool IsTextAnnotation(ReadOnlySpan<byte> list, ThriftField field)
    {
        // ConvertedType UTF8 = 0, ENUM = 4; LogicalType is a union whose member STRING is field 1 and ENUM field 4.
        if (field.Id == 6 && field.Type == ThriftReader.I32)
        {
            return ThriftReader.ReadInt(list[field.Start..field.End]) is 0 or 4;
        }
        if (field.Id == 10 && field.Type == ThriftReader.Struct)
        {
            var members = new ThriftReader(list[field.Start..field.End]).ReadStructFields().ToList();
            return members.Count == 1 && members[0].Id is 1 or 4;
        }
        return false;
    }

    private const int CloseOnExec = 1; // MFD_CLOEXEC

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, int flags);
}

/// <summary>One field of a Thrift struct: its id, compact type and where its value's bytes are.</summary>
internal readonly record struct ThriftField(short Id, byte Type, int Start, int End);

/// <summary>
/// Just enough of the Thrift compact protocol to walk a Parquet footer and copy its values as bytes: field headers,
/// varints, lists and the extent of any value.
/// </summary>
internal ref struct ThriftReader
{
    public const byte True = 1;
    public const byte False = 2;
    public const byte Byte = 3;
    public const byte I16 = 4;
    public const byte I32 = 5;
    public const byte I64 = 6;
    public const byte Double = 7;
    public const byte Binary = 8;
    public const byte List = 9;
    public const byte Set = 10;
    public const byte Map = 11;
    public const byte Struct = 12;

    private readonly ReadOnlySpan<byte> _bytes;
    private int _at;

    public ThriftReader(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes;
        _at = 0;
    }

    /// <summary>The fields of the struct that starts here, up to and past its stop byte.</summary>
    public List<ThriftField> ReadStructFields()
    {
        var fields = new List<ThriftField>();
        short last = 0;
        while (true)
        {
            var header = Next();
            if (header == 0)
            {
                return fields;
            }
            var type = (byte)(header & 0x0F);
            var delta = header >> 4;
            var id = delta == 0 ? checked((short)ZigZag(ReadVarint())) : checked((short)(last + delta));
            last = id;
            var start = _at;
            if (type is not (True or False))
            {
                Skip(type);
            }
            fields.Add(new ThriftField(id, type, start, _at));
        }
    }

    /// <summary>A list header: element count, element type and where the elements begin.</summary>
    public (int Count, byte ElementType, int End) ReadListHeader()
    {
        var header = Next();
        var count = header >> 4;
        if (count == 15)
        {
            count = checked((int)ReadVarint());
        }
        return (count, (byte)(header & 0x0F), _at);
    }

    public static long ReadInt(ReadOnlySpan<byte> value) => ZigZag(new ThriftReader(value).ReadVarint());

    public static string ReadString(ReadOnlySpan<byte> value)
    {
        var reader = new ThriftReader(value);
        var length = checked((int)reader.ReadVarint());
        return System.Text.Encoding.UTF8.GetString(value.Slice(reader._at, length));
    }

    /// <summary>Writes a field header in the compact form (a delta from the previous id) or the long form.</summary>
    public static void WriteFieldHeader(List<byte> output, short last, short id, byte type)
    {
        var delta = id - last;
        if (delta is > 0 and <= 15)
        {
            output.Add((byte)((delta << 4) | type));
            return;
        }
        output.Add(type);
        for (var value = (uint)((id << 1) ^ (id >> 15)); ; value >>= 7)
        {
            if (value < 0x80)
            {
                output.Add((byte)value);
                return;
            }
            output.Add((byte)((value & 0x7F) | 0x80));
        }
    }

    private void Skip(byte type)
    {
        switch (type)
        {
            case True or False:
                Next(); // a boolean inside a list or map is a whole byte
                break;
            case Byte:
                Next();
                break;
            case I16 or I32 or I64:
                ReadVarint();
                break;
            case Double:
                Advance(8);
                break;
            case Binary:
                Advance(checked((int)ReadVarint()));
                break;
            case List or Set:
                var (count, element, _) = ReadListHeader();
                for (var i = 0; i < count; i++)
                {
                    Skip(element);
                }
                break;
            case Map:
                var entries = checked((int)ReadVarint());
                if (entries > 0)
                {
                    var types = Next();
                    for (var i = 0; i < entries; i++)
                    {
                        Skip((byte)(types >> 4));
                        Skip((byte)(types & 0x0F));
                    }
                }
                break;
            case Struct:
                ReadStructFields();
                break;
            default:
                throw new InvalidDataException($"the Parquet footer holds an unknown Thrift type {type}");
        }
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Next();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("the Parquet footer holds a varint longer than 64 bits");
    }

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private byte Next()
    {
        if (_at >= _bytes.Length)
        {
            throw new InvalidDataException("the Parquet footer ends in the middle of a value");
        }
        return _bytes[_at++];
    }

    private void Advance(int count)
    {
        if (count < 0 || _at + count > _bytes.Length)
        {
            throw new InvalidDataException("the Parquet footer ends in the middle of a value");
        }
        _at += count;
    }
}
