using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Riverbed.IO.Reading;

namespace Riverbed.Core.Tests.IO;

/// <summary>
/// Any split of a byte stream into reads of any sizes yields the same records, line numbers and byte offsets, and a
/// multi-byte character is never torn, however the reads cut it (checklist E2, B3).
/// </summary>
public sealed class SplitterPropertyTests
{
    // One-, two-, three- and four-byte UTF-8 characters, a carriage return and JSON's structural characters.
    private static readonly string[] Pieces = ["a", "Z", " ", "é", "€", "𝄞", "\r", "\"", "\\", "{", "}", "[", "]", ","];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    [Fact]
    public void Lines_are_the_same_whatever_the_read_sizes()
    {
        var cases =
            from lines in Gen.ListOf(Gen.ListOf(Gen.Elements(Pieces)).Select(string.Concat))
            from crlf in Gen.Elements(false, true)
            from finalNewline in Gen.Elements(false, true)
            from chunks in Gen.NonEmptyListOf(Gen.Choose(1, 23))
            from bufferSize in Gen.Choose(1, 64)
            from maxLine in Gen.Elements(6, 40, 1 << 20)
            select (Text: string.Join(crlf ? "\r\n" : "\n", lines) + (finalNewline && lines.Count > 0 ? "\n" : ""), Chunks: chunks, BufferSize: bufferSize, MaxLine: maxLine);
        Check.One(Runs, Prop.ForAll(cases.ToArbitrary(), test =>
        {
            var bytes = Encoding.UTF8.GetBytes(test.Text);
            var expected = ReferenceLines(bytes, test.MaxLine);
            var splitter = new LineSplitter(new ChunkedStream(bytes, test.Chunks), test.MaxLine, test.BufferSize);
            var actual = new List<(string Bytes, long Number, long Offset, long Length, bool TooLong)>();
            while (splitter.TryReadLine(out var line))
            {
                actual.Add((Convert.ToHexString(line.Bytes), line.Number, line.ByteOffset, line.Length, line.TooLong));
            }
            Assert.Equal(expected, actual);
        }));
    }

    [Fact]
    public void Array_elements_are_the_same_whatever_the_read_sizes_and_parse_back_to_the_records()
    {
        var texts = Gen.ListOf(Gen.Elements(Pieces)).Select(string.Concat);
        var records = Gen.ListOf(Gen.ListOf(texts).Select(values => values.Select((value, i) => ($"k{i}", value)).ToList()));
        var cases =
            from items in records
            from indented in Gen.Elements(false, true)
            from chunks in Gen.NonEmptyListOf(Gen.Choose(1, 23))
            from bufferSize in Gen.Choose(1, 64)
            select (Items: items, Indented: indented, Chunks: chunks, BufferSize: bufferSize);
        Check.One(Runs, Prop.ForAll(cases.ToArbitrary(), test =>
        {
            var objects = test.Items.Select(fields => fields.ToDictionary(field => field.Item1, field => field.Item2)).ToList();
            var bytes = test.Indented ? JsonSerializer.SerializeToUtf8Bytes(objects, Indented) : JsonSerializer.SerializeToUtf8Bytes(objects);
            var whole = ReadElements(new MemoryStream(bytes), 1 << 16);
            var chunked = ReadElements(new ChunkedStream(bytes, test.Chunks), test.BufferSize);
            Assert.Equal(whole, chunked);
            Assert.Equal(objects.Count, chunked.Count);
            for (var i = 0; i < objects.Count; i++)
            {
                Assert.Equal(ElementProblem.None, chunked[i].Problem);
                var parsed = JsonSerializer.Deserialize<Dictionary<string, string>>(Convert.FromHexString(chunked[i].Bytes));
                Assert.Equal(objects[i], parsed);
                Assert.Equal(1 + bytes.AsSpan(0, (int)chunked[i].Offset).Count((byte)'\n'), chunked[i].Line);
            }
        }));
    }

    [Theory]
    [InlineData(4 * 1024)]
    [InlineData(64 * 1024)]
    public void A_character_split_exactly_across_a_read_buffer_boundary_stays_intact(int boundary)
    {
        // Each line puts a four-byte character across the boundary at a different byte.
        for (var shift = 1; shift <= 3; shift++)
        {
            var prefix = "{\"text\": \"" + new string('a', boundary - 10 - shift);
            var text = prefix + "𝄞 and é€\"}\n{\"text\": \"second 𝄞\"}\n";
            var bytes = Encoding.UTF8.GetBytes(text);
            Assert.Equal(0xF0, bytes[boundary - shift]);
            var splitter = new LineSplitter(new ChunkedStream(bytes, [boundary]), 1 << 20, boundary);
            Assert.True(splitter.TryReadLine(out var first));
            Assert.Equal(prefix + "𝄞 and é€\"}", new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(first.Bytes));
            Assert.True(splitter.TryReadLine(out var second));
            Assert.Equal("{\"text\": \"second 𝄞\"}", Encoding.UTF8.GetString(second.Bytes));
            Assert.Equal(2, second.Number);
            Assert.False(splitter.TryReadLine(out _));
        }
    }

    private static List<(string, long, long, long, bool)> ReferenceLines(byte[] bytes, int maxLine)
    {
        var lines = new List<(string, long, long, long, bool)>();
        var start = 0;
        var number = 0L;
        while (start < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            var end = newline < 0 ? bytes.Length : newline;
            var contentEnd = end > start && bytes[end - 1] == (byte)'\r' ? end - 1 : end;
            var length = contentEnd - start;
            var tooLong = end - start > maxLine;
            var shown = tooLong ? bytes.AsSpan(start, Math.Min(maxLine, 64 * 1024)) : bytes.AsSpan(start, length);
            lines.Add((Convert.ToHexString(shown), ++number, start, length, tooLong));
            start = end + 1;
        }
        return lines;
    }

    private static List<(string Bytes, long Line, long Offset, ElementProblem Problem)> ReadElements(Stream stream, int bufferSize)
    {
        var splitter = new JsonArraySplitter(stream, 1 << 20, bufferSize);
        var elements = new List<(string, long, long, ElementProblem)>();
        while (splitter.TryReadElement(out var element))
        {
            elements.Add((Convert.ToHexString(element.Bytes), element.Line, element.ByteOffset, element.Problem));
        }
        return elements;
    }
}
