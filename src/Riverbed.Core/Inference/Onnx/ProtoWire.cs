using System.Buffers.Binary;
using System.Text;

namespace Riverbed.Inference.Onnx;

/// <summary>Protocol Buffers wire types (the low 3 bits of a field tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>Sizes of encoded protobuf pieces, so messages can announce their length before writing it.</summary>
internal static class ProtoSize
{
    public static int Varint(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    public static int Tag(int field) => Varint((ulong)field << 3);

    public static long VarintField(int field, long value) => Tag(field) + Varint(unchecked((ulong)value));

    public static long BytesField(int field, long length) => Tag(field) + Varint((ulong)length) + length;

    public static long StringField(int field, string value) => BytesField(field, Encoding.UTF8.GetByteCount(value));

    public static long MessageField(int field, long messageSize) => BytesField(field, messageSize);
}

/// <summary>
/// Writes protobuf fields to a stream through a small buffer. Message lengths come from the messages' own size
/// computation, so nested messages are streamed once and large initializers are never copied into a temporary array.
/// </summary>
internal sealed class ProtoOutput : IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _used;

    public ProtoOutput(Stream stream) => _stream = stream;

    private long _flushedBytes;

    /// <summary>Bytes written so far, buffered or not.</summary>
    public long Position => _flushedBytes + _used;

    public void WriteTag(int field, WireType wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    public void WriteVarint(ulong value)
    {
        EnsureRoom(10);
        while (value >= 0x80)
        {
            _buffer[_used++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_used++] = (byte)value;
    }

    public void WriteVarintField(int field, long value)
    {
        WriteTag(field, WireType.Varint);
        WriteVarint(unchecked((ulong)value));
    }

    public void WriteFloatField(int field, float value)
    {
        WriteTag(field, WireType.Fixed32);
        EnsureRoom(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_used), value);
        _used += 4;
    }

    public void WriteStringField(int field, string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)byteCount);
        if (byteCount <= _buffer.Length)
        {
            EnsureRoom(byteCount);
            _used += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
            }
        else
        {
            WriteRaw(Encoding.UTF8.GetBytes(value));
        }
    }

    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        WriteRaw(value);
    }

    /// <summary>Starts a nested message whose encoded size the caller computed.</summary>
    public void BeginMessage(int field, long size)
    {
        WriteTag(field, WireType.LengthDelimited);
        WriteVarint((ulong)size);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= _buffer.Length - _used)
        {
            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
                return;
        }
        Flush();
        _stream.Write(bytes);
        _flushedBytes += bytes.Length;
    }

    public void Flush()
    {
        if (_used > 0)
        {
            _stream.Write(_buffer, 0, _used);
            _flushedBytes += _used;
            _used = 0;
        }
    }

    public void Dispose() => Flush();

    private void EnsureRoom(int bytes)
    {
        if (_buffer.Length - _used < bytes)
        {
            Flush();
        }
    }
}

/// <summary>
/// Reads protobuf fields from a span. Only what Riverbed needs to inspect model files before handing them to the
/// runtime: walk fields, read varints and length-delimited payloads, skip everything else. Malformed input throws
/// <see cref="InvalidDataException"/> with the byte offset.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _baseOffset;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Offset of the next byte, relative to the start of the file this reader's span came from.</summary>
    public readonly long Offset => _baseOffset + _position;

    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (AtEnd)
        {
            field = 0;
            wireType = WireType.Varint;
            return false;
        }
        var tag = ReadVarint();
        field = checked((int)(tag >> 3));
        wireType = (WireType)(tag & 7);
        if (field == 0)
        {
            throw Malformed("field number 0");
        }
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw Malformed("truncated varint");
            }
            var b = _data[_position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
        throw Malformed("varint longer than 10 bytes");
    }

    /// <summary>Returns a length-delimited payload and the file offset where it starts.</summary>
    public ReadOnlySpan<byte> ReadLengthDelimited(out long payloadOffset)
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            throw Malformed($"length {length} runs past the end of its message");
        }
        payloadOffset = Offset;
        var payload = _data.Slice(_position, (int)length);
        _position += (int)length;
        return payload;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadLengthDelimited(out _));

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            case WireType.LengthDelimited:
                ReadLengthDelimited(out _);
                break;
            default:
                throw Malformed($"unsupported wire type {(int)wireType}");
        }
    }

    private void Advance(int count)
    {
        if (count > _data.Length - _position)
        {
            throw Malformed("truncated fixed-size field");
        }
        _position += count;
    }

    private readonly InvalidDataException Malformed(string what) =>
        new($"not a valid protobuf message: {what} at byte {Offset}");
}
