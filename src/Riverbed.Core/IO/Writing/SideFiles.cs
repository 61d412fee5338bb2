using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Riverbed.IO.Writing;

/// <summary>
/// A JSON Lines file of rejects or failures, written under a temporary name until commit. Each line names the file,
/// row, line, byte offset, kind and message, and carries the raw bytes capped at a few KB. Raw bytes that are valid
/// UTF-8 are kept as text ("raw_encoding": "utf-8"); otherwise every byte that is not part of a valid UTF-8 sequence is
/// written as the four characters \xNN and every backslash as \\ ("raw_encoding": "utf-8+hex-escapes"), so invalid
/// bytes stay visible and the original can be recovered exactly — never replaced by U+FFFD. Each line is a
/// <see cref="RejectLine"/>, the one type of the format.
/// </summary>
internal sealed class SideFile : IDisposable
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly FileStream _stream;
    private readonly Utf8JsonWriter _writer;
    private readonly int _rawCap;
    private bool _completed;

    public SideFile(string temporaryPath, int rawCap)
    {
        TemporaryPath = temporaryPath;
        _rawCap = rawCap;
        _stream = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _writer = new Utf8JsonWriter(_stream, Options);
    }

    public string TemporaryPath { get; }

    public long Rows { get; private set; }

    public void WriteReject(Reject reject) => Write(new RejectLine
    {
        File = reject.File,
        Row = reject.Row,
        Line = reject.Line,
        ByteOffset = reject.ByteOffset,
        Kind = RejectKinds.Name(reject.Kind),
        Message = reject.Message,
    }, reject.Raw.Span, reject.RawLength);

    public void WriteFailure(string file, Example example, string kind, string message) => Write(new RejectLine
    {
        File = file,
        Id = example.Id,
        Row = example.Row,
        Line = example.Line,
        ByteOffset = example.ByteOffset,
        Kind = kind,
        Message = message,
    }, example.Record.Span, example.Record.Length);

    /// <summary>Flushes and fsyncs; the file is then ready to be renamed to its final name.</summary>
    public void Complete()
    {
        _writer.Dispose();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _completed = true;
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _writer.Dispose();
        }
        _stream.Dispose();
    }

    /// <summary>Writes one line: <paramref name="line"/> with the raw bytes, capped, as text (see <see cref="RejectLine"/>).</summary>
    private void Write(RejectLine line, ReadOnlySpan<byte> raw, long fullLength)
    {
        var truncated = raw.Length > _rawCap || fullLength > raw.Length;
        if (raw.Length > _rawCap)
        {
            raw = raw[.._rawCap];
        }
        if (truncated)
        {
            raw = TrimCutCharacter(raw);
        }
        var valid = Utf8.IsValid(raw);
        _writer.Reset();
        JsonSerializer.Serialize(_writer, line with
        {
            Raw = valid ? Encoding.UTF8.GetString(raw) : EscapeInvalid(raw),
            RawEncoding = valid ? RejectLine.Utf8 : RejectLine.Utf8WithHexEscapes,
            RawBytes = fullLength,
            RawTruncated = truncated,
        }, RejectLineJson.Lines.RejectLine);
        EndLine();
    }

    private void EndLine()
    {
        _writer.Flush();
        _stream.WriteByte((byte)'\n');
        Rows++;
    }

    /// <summary>A cap can cut a multi-byte character in half; that half is not an encoding error of the record.</summary>
    private static ReadOnlySpan<byte> TrimCutCharacter(ReadOnlySpan<byte> raw)
    {
        for (var back = 1; back <= 3 && back <= raw.Length; back++)
        {
            var tail = raw[^back..];
            if (System.Text.Rune.DecodeFromUtf8(tail, out _, out _) == OperationStatus.NeedMoreData && (tail[0] & 0xC0) == 0xC0)
            {
                return raw[..^back];
            }
        }
        return raw;
    }

    public static string EscapeInvalid(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length + 16);
        while (!raw.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(raw, out var rune, out var consumed);
            if (status == OperationStatus.Done)
            {
                if (rune.Value == '\\')
                {
                    text.Append("\\\\");
                }
                else
                {
                    text.Append(rune.ToString());
                }
            }
            else
            {
                consumed = Math.Max(consumed, 1);
                for (var i = 0; i < consumed; i++)
                {
                    text.Append("\\x").Append(raw[i].ToString("X2", CultureInfo.InvariantCulture));
                }
            }
            raw = raw[consumed..];
        }
        return text.ToString();
    }
}
