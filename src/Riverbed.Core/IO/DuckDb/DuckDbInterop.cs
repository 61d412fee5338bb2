using System.Runtime.InteropServices;
using System.Text;

namespace Riverbed.IO.DuckDb;

/// <summary><c>duckdb_state</c>: every fallible call returns one.</summary>
internal enum DuckDbState
{
    Success = 0,
    Error = 1,
}

/// <summary><c>duckdb_type</c> (the values are fixed by duckdb.h and never renumbered).</summary>
internal enum DuckDbType
{
    Invalid = 0,
    Boolean = 1,
    TinyInt = 2,
    SmallInt = 3,
    Integer = 4,
    BigInt = 5,
    UTinyInt = 6,
    USmallInt = 7,
    UInteger = 8,
    UBigInt = 9,
    Float = 10,
    Double = 11,
    Timestamp = 12,
    Date = 13,
    Time = 14,
    Interval = 15,
    HugeInt = 16,
    Varchar = 17,
    Blob = 18,
    Decimal = 19,
    TimestampS = 20,
    TimestampMs = 21,
    TimestampNs = 22,
    Enum = 23,
    List = 24,
    Struct = 25,
    Map = 26,
    Uuid = 27,
    Union = 28,
    Bit = 29,
    TimeTz = 30,
    TimestampTz = 31,
    UHugeInt = 32,
    Array = 33,
}

/// <summary>
/// <c>duckdb_result</c>: six machine words. Only DuckDB reads the fields; Riverbed allocates it in native memory so its
/// address stays fixed, and passes it by pointer or (for <c>duckdb_fetch_chunk</c>) by value.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResultStruct
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public IntPtr DeprecatedColumns;
    public IntPtr DeprecatedErrorMessage;
    public IntPtr InternalData;
}

/// <summary>
/// <c>duckdb_string_t</c>: 16 bytes. A length, then either the bytes inlined (up to 12) or a 4-byte prefix and a pointer.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal unsafe struct DuckDbStringT
{
    public const int InlineLimit = 12;

    [FieldOffset(0)]
    public uint Length;

    [FieldOffset(8)]
    public byte* Pointer;

    /// <summary>The bytes of a string element; valid while the vector that holds <paramref name="value"/> lives.</summary>
    public static ReadOnlySpan<byte> Bytes(DuckDbStringT* value) =>
        value->Length <= InlineLimit
            ? new ReadOnlySpan<byte>((byte*)value + 4, (int)value->Length)
            : new ReadOnlySpan<byte>(value->Pointer, checked((int)value->Length));
}

/// <summary><c>duckdb_list_entry</c>: where one row's list lives in the child vector.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbListEntry
{
    public ulong Offset;
    public ulong Length;
}

/// <summary>UTF-8 conversions at the boundary: managed strings become NUL-terminated bytes, C strings become strings.</summary>
internal static unsafe class DuckDbText
{
    /// <summary>NUL-terminated UTF-8 for a C API argument. A NUL inside would silently cut the text short, so it is refused.</summary>
    public static byte[] ToNative(string text)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new DuckDbException($"text passed to DuckDB contains a NUL character: '{text.Replace("\0", "\\0", StringComparison.Ordinal)}'");
        }
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    public static string? FromNative(byte* text) => text is null ? null : Marshal.PtrToStringUTF8((IntPtr)text);
}
