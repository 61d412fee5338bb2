using System.Runtime.InteropServices;
using System.Text;

namespace Riverbed.Bench.Legacy;

/// <summary>UTF-8, NUL-terminated strings for the C API.</summary>
internal static unsafe class Utf8
{
    public static string? ToString(byte* text) =>
        text is null ? null : Marshal.PtrToStringUTF8((nint)text);

    /// <summary>A native, NUL-terminated UTF-8 copy of <paramref name="text"/>; free it with <see cref="Free"/>.</summary>
    public static byte* Allocate(string text)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("names and paths passed to ONNX Runtime cannot contain NUL characters", nameof(text));
        }
        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }

    public static void Free(byte* text) => NativeMemory.Free(text);
}

/// <summary>A native UTF-8 copy of a string for the duration of one call (<c>using var name = new Utf8String(s)</c>).</summary>
internal readonly unsafe ref struct Utf8String
{
    public Utf8String(string text) => Pointer = Utf8.Allocate(text);

    public byte* Pointer { get; }

    public void Dispose() => Utf8.Free(Pointer);
}
