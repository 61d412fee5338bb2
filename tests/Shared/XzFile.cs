using System.Buffers.Binary;

namespace Riverbed.Testing;

/// <summary>
/// Writes .xz files for tests (SharpCompress reads xz but cannot write it): one xz stream with one block whose LZMA2
/// data is stored in uncompressed chunks. The container is complete — stream header and footer, block header, CRC-32
/// check of the data, index — so any xz reader must accept it and verify it (the `xz` tool and Python's lzma do).
/// Layout facts from the .xz file format specification (tukaani.org/xz/xz-file-format.txt).
/// </summary>
internal static class XzFile
{
    private const int ChunkBytes = 1 << 16; // the largest uncompressed LZMA2 chunk

    private static readonly uint[] CrcTable = MakeCrcTable();

    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        var file = new List<byte>();
        byte[] streamFlags = [0x00, 0x01]; // check type 1: CRC-32
        file.AddRange([0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00]);
        file.AddRange(streamFlags);
        AddUInt32(file, Crc32(streamFlags));

        var blockStart = file.Count;
        // Block header: its size in 4-byte units minus one, flags (one filter, no sizes), the LZMA2 filter (id 0x21)
        // with one property byte (dictionary size 1 MiB), zero padding to a multiple of 4, then its CRC-32.
        var header = new List<byte> { 0, 0x00, 0x21, 0x01, 0x10 };
        PadToFour(header, 0);
        header[0] = (byte)((header.Count + 4) / 4 - 1);
        AddUInt32(header, Crc32(header.ToArray()));
        file.AddRange(header);
        for (var at = 0; at < data.Length; at += ChunkBytes)
        {
            var size = Math.Min(ChunkBytes, data.Length - at);
            // 0x01: uncompressed chunk that resets the dictionary (the first); 0x02: uncompressed chunk, no reset.
            file.Add(at == 0 ? (byte)0x01 : (byte)0x02);
            file.Add((byte)((size - 1) >> 8));
            file.Add((byte)((size - 1) & 0xFF));
            file.AddRange(data.Slice(at, size).ToArray());
        }
        file.Add(0x00); // end of LZMA2 data
        var unpaddedSize = file.Count - blockStart + 4;
        PadToFour(file, blockStart);
        AddUInt32(file, Crc32(data));

        var indexStart = file.Count;
        file.Add(0x00);
        AddVarint(file, 1);
        AddVarint(file, (ulong)unpaddedSize);
        AddVarint(file, (ulong)data.Length);
        PadToFour(file, indexStart);
        AddUInt32(file, Crc32(file.ToArray().AsSpan(indexStart)));
        var indexSize = file.Count - indexStart;

        var footer = new List<byte>();
        AddUInt32(footer, (uint)(indexSize / 4 - 1));
        footer.AddRange(streamFlags);
        AddUInt32(file, Crc32(footer.ToArray()));
        file.AddRange(footer);
        file.AddRange([(byte)'Y', (byte)'Z']);
        return [.. file];
    }

    private static void AddUInt32(List<byte> to, uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        to.AddRange(bytes);
    }

    private static void AddVarint(List<byte> to, ulong value)
    {
        while (value >= 0x80)
        {
            to.Add((byte)(value | 0x80));
            value >>= 7;
        }
        to.Add((byte)value);
    }

    private static void PadToFour(List<byte> bytes, int from)
    {
        while ((bytes.Count - from) % 4 != 0)
        {
            bytes.Add(0);
        }
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }
}
