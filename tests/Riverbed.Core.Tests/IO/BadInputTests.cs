using System.Globalization;
using System.IO.Compression;
using System.Text;
using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>Malformed records become rejects with exact kinds and positions; a bad record never costs its neighbours.</summary>
public sealed class BadInputTests
{
    private static readonly ReaderOptions Options = new() { Limits = new ReaderLimits { MaxLineBytes = MalformedDataset.MaxLineBytes } };

    [Fact]
    public void Each_kind_of_malformed_line_is_rejected_with_its_line_and_kind()
    {
        using var scratch = new ScratchFolder("bad");
        var path = scratch.File("bad.jsonl");
        var bytes = MalformedDataset.Bytes();
        File.WriteAllBytes(path, bytes);
        using var reader = ShardReader.Open(ShardInput.FromFile(path), Options);
        var records = reader.ReadRecords().ToList();

        var rejects = records.Where(r => r.IsReject).Select(r => r.Reject!).ToList();
        Assert.Equal(MalformedDataset.Rejects, rejects.Select(r => ((int)r.Line!.Value, RejectKinds.Name(r.Kind))).ToList());
        Assert.Equal(MalformedDataset.GoodLines, records.Where(r => !r.IsReject).Select(r => (int)r.Example!.Line!.Value).ToList());
        Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (long)i), records.Select(r => r.Row));
        Assert.Equal(MalformedDataset.BlankLines, reader.Statistics.BlankLines);
        Assert.Equal(records.Count, reader.Statistics.Records);

        var lineStarts = LineStarts(bytes);
        foreach (var reject in rejects)
        {
            Assert.Equal(lineStarts[(int)reject.Line!.Value - 1], reject.ByteOffset);
            Assert.Equal(path, reject.File);
            Assert.True(reject.Raw.Length <= 4096);
        }
        Assert.Equal(lineStarts[15] - lineStarts[14] - 1, rejects.Single(r => r.Kind == RejectKind.LineTooLong).RawLength);
        Assert.Contains("byte order mark", rejects.Single(r => r.Line == 9).Message, StringComparison.Ordinal);
        Assert.Contains("FF", rejects.Single(r => r.Line == 10).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Depth_limit_and_surrogate_escapes_are_judged_exactly()
    {
        using var scratch = new ScratchFolder("bad");
        var path = scratch.File("edge.jsonl");
        File.WriteAllLines(path,
        [
            """{"instruction":"q","output":"a","d":[[[{"x":[]}]]]}""",
            """{"instruction":"q","output":"a","d":[[[{"x":[[]]}]]]}""",
            """{"instruction":"q \ud83d\ude00","output":"a \\ud800 is text"}""",
            """{"instruction":"q","output":"a \udc00"}""",
        ]);
        var options = new ReaderOptions { Limits = new ReaderLimits { MaxDepth = 6 } };
        using var reader = ShardReader.Open(ShardInput.FromFile(path), options);
        var records = reader.ReadRecords().ToList();
        Assert.False(records[0].IsReject);
        Assert.Equal(RejectKind.TooDeep, records[1].Reject!.Kind);
        Assert.Equal("q 😀", records[2].Example!.Turns[0].Text);
        Assert.Equal("a \\ud800 is text", records[2].Example!.Turns[1].Text);
        Assert.Equal(RejectKind.InvalidJson, records[3].Reject!.Kind);
        Assert.Contains("surrogate", records[3].Reject!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_invalid_byte_in_the_middle_costs_exactly_its_own_line()
    {
        using var scratch = new ScratchFolder("bad");
        var path = scratch.File("big.jsonl");
        using (var file = File.Create(path))
        {
            for (var i = 1; i <= 2000; i++)
            {
                file.Write(Encoding.UTF8.GetBytes($"{{\"instruction\":\"q{i}\",\"output\":\"a{i} é\""));
                if (i == 1000)
                {
                    file.WriteByte(0xFF);
                }
                file.Write("}\n"u8);
            }
        }
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();
        Assert.Equal(1999, records.Count(r => !r.IsReject));
        Assert.Equal(1000, records.Single(r => r.IsReject).Reject!.Line);
        Assert.Equal("a2000 é", records[^1].Example!.Turns[1].Text);
    }

    [Fact]
    public void Array_elements_that_are_malformed_are_rejected_one_by_one_with_their_positions()
    {
        using var scratch = new ScratchFolder("bad");
        var path = scratch.File("array.json");
        File.WriteAllText(path, """
            [
              {"instruction": "a", "output": "b"},
              {"instruction": "c", "output": },
              {"instruction": "d", "output": "e", "instruction": "f"},
              {"instruction": "g", "output": "h"},
              {"instruction": ["x", "output": "i"},
              {"instruction": "j", "output": "k"},
            ]
            """);
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();
        Assert.Equal(["a", "g", "j"], records.Where(r => !r.IsReject).Select(r => r.Example!.Turns[0].Text));
        var rejects = records.Where(r => r.IsReject).Select(r => r.Reject!).ToList();
        Assert.Equal([(3L, RejectKind.InvalidJson), (4L, RejectKind.DuplicateKey), (6L, RejectKind.InvalidJson), (8L, RejectKind.InvalidJson)],
            rejects.Select(r => (r.Line!.Value, r.Kind)));
        Assert.Contains("element 1", rejects[0].Message, StringComparison.Ordinal);
        Assert.Contains("trailing comma", rejects[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_array_cut_short_keeps_its_complete_elements_and_rejects_the_cut_one()
    {
        using var scratch = new ScratchFolder("bad");
        var path = scratch.File("cut.json");
        File.WriteAllText(path, "[{\"instruction\": \"a\", \"output\": \"b\"}, {\"instruction\": \"c\", \"outp");
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();
        Assert.Equal(2, records.Count);
        Assert.False(records[0].IsReject);
        Assert.Contains("ends inside element 1", records[1].Reject!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_gzip_file_is_an_error_not_a_clean_end()
    {
        using var scratch = new ScratchFolder("gz");
        var full = scratch.File("full.jsonl.gz");
        WriteGzip(full, string.Concat(Enumerable.Range(0, 5000).Select(i => $"{{\"instruction\":\"q{i}\",\"output\":\"a\"}}\n")));
        var bytes = File.ReadAllBytes(full);
        using (var reader = ShardReader.Open(ShardInput.FromFile(full)))
        {
            Assert.Equal(5000, reader.ReadRecords().Count());
        }
        foreach (var cut in new[] { bytes.Length - 4, bytes.Length - 8, bytes.Length / 2 })
        {
            var path = scratch.File($"cut{cut}.jsonl.gz");
            File.WriteAllBytes(path, bytes[..cut]);
            using var reader = ShardReader.Open(ShardInput.FromFile(path));
            var error = Assert.Throws<ShardReadException>(() => reader.ReadRecords().Count());
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_gzip_file_over_the_decompression_limit_fails_the_shard()
    {
        using var scratch = new ScratchFolder("gz");
        var path = scratch.File("bomb.jsonl.gz");
        WriteGzip(path, new string(' ', 1 << 20));
        var options = new ReaderOptions { Limits = new ReaderLimits { MaxDecompressedBytes = 100_000 } };
        var error = Assert.Throws<ShardReadException>(() =>
        {
            using var reader = ShardReader.Open(ShardInput.FromFile(path), options);
            return reader.ReadRecords().Count();
        });
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(SettingNames.OptionName(Setting.MaxDecompressedBytes), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n  \n\r\n")]
    [InlineData("empty.json", "[]")]
    public void Empty_inputs_have_no_records(string name, string content)
    {
        using var scratch = new ScratchFolder("empty");
        var path = scratch.File(name);
        File.WriteAllText(path, content);
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        Assert.Empty(reader.ReadRecords());
        Assert.Null(reader.Schema);
    }

    [Fact]
    public void An_empty_gzip_file_has_no_records_but_a_zero_byte_one_fails_the_shard()
    {
        using var scratch = new ScratchFolder("empty");
        // What `gzip` makes of no data: a header, an empty final deflate block, CRC-32 0 and length 0 (20 bytes).
        File.WriteAllBytes(scratch.File("empty.jsonl.gz"), [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        using (var reader = ShardReader.Open(ShardInput.FromFile(scratch.File("empty.jsonl.gz"))))
        {
            Assert.Empty(reader.ReadRecords());
        }
        var zero = scratch.File("zero.jsonl.gz");
        File.WriteAllBytes(zero, []);
        var error = Assert.Throws<ShardReadException>(() =>
        {
            using var reader = ShardReader.Open(ShardInput.FromFile(zero));
            return reader.ReadRecords().Count();
        });
        Assert.Contains(zero, error.Message, StringComparison.Ordinal);
        Assert.Contains("0 bytes, so it is not gzip", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated_footer.parquet")]
    [InlineData("truncated_midfile.parquet")]
    [InlineData("zero_bytes.parquet")]
    [InlineData("footer_body_cut_tail_intact.parquet")]
    public void A_broken_parquet_file_is_a_clear_error_naming_the_file(string name)
    {
        var path = TestPaths.Fixture("parquet", "broken", name);
        var error = Assert.ThrowsAny<ShardReadException>(() =>
        {
            using var reader = ShardReader.Open(ShardInput.FromFile(path));
            return reader.ReadRecords().Count();
        });
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("Parquet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_in_binary_parquet_columns_is_read_as_utf8_and_a_value_that_is_not_utf8_rejects_only_its_row()
    {
        using var scratch = new ScratchFolder("blob");
        var path = scratch.File("blob.parquet");
        DuckDbProbe.Query(
            "COPY (SELECT * FROM (VALUES " +
            "(0, 'Say caf\\xC3\\xA9'::BLOB, 'It is caf\\xC3\\xA9 \\xF0\\x9F\\x8C\\x8A'::BLOB), " +
            "(1, 'Say hi'::BLOB, 'caf\\xE9 in Latin-1'::BLOB), " +
            "(2, 'Say bye'::BLOB, 'Bye.'::BLOB)) t(n, instruction, output) ORDER BY n) " +
            $"TO {DuckDbProbe.Literal(path)} (FORMAT parquet)");
        Assert.Equal("BLOB", DuckDbProbe.Scalar($"SELECT typeof(output) FROM read_parquet({DuckDbProbe.Literal(path)}) LIMIT 1"));

        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();

        Assert.Equal([0L, 1L, 2L], records.Select(r => r.Row));
        var first = records[0].Example!;
        Assert.Equal(["Say café", "It is café \U0001F30A"], first.Turns.Select(turn => turn.Text));
        Assert.DoesNotContain("\\x", Encoding.UTF8.GetString(first.Record.Span), StringComparison.Ordinal);
        var reject = records[1].Reject!;
        Assert.Equal(RejectKind.InvalidUtf8, reject.Kind);
        Assert.Equal(1, reject.Row);
        Assert.Contains("column 'output'", reject.Message, StringComparison.Ordinal);
        Assert.Contains("BLOB", reject.Message, StringComparison.Ordinal);
        Assert.Contains("byte 3 of 15: E920696E", reject.Message, StringComparison.Ordinal);
        Assert.Contains($"{path} row 1", reject.ToString(), StringComparison.Ordinal);
        Assert.Equal("Bye.", records[2].Example!.Turns[^1].Text);
        Assert.Equal(1, reader.Statistics.RejectsByKind[RejectKind.InvalidUtf8]);
    }

    [Fact]
    public void An_invalid_utf8_string_value_in_parquet_rejects_only_its_row_naming_the_column_and_keeping_its_bytes()
    {
        using var scratch = new ScratchFolder("varchar");
        var path = scratch.File("varchar.parquet");
        byte[] broken = [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)' ', 0xFF, 0xFE, (byte)'!'];
        WriteParquetWithBrokenText(path,
            "SELECT * FROM (VALUES (0, 'Say hi', 'Hello there.', ['a', 'b']), (1, 'Say it', 'QQMARKQQ', ['c']), (2, 'Say bye', 'Bye.', ['QQMARKQQ'])) " +
            "t(n, instruction, output, tags) ORDER BY n", broken);

        // DuckDB stops its scan at the first STRING value that is not UTF-8; the reader then reads the file again with
        // its text as bytes and checks every value itself, so only the rows holding invalid text are rejected.
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();

        Assert.Equal([0L, 1L, 2L], records.Select(r => r.Row));
        Assert.Equal("Hello there.", records[0].Example!.Turns[^1].Text);
        var reject = records[1].Reject!;
        Assert.Equal(RejectKind.InvalidUtf8, reject.Kind);
        Assert.Contains("column 'output' holds text that is not valid UTF-8 (byte 3 of 8: E920FFFE)", reject.Message, StringComparison.Ordinal);
        Assert.Equal(broken, reject.Raw.ToArray());
        Assert.Contains("column 'tags[0]'", records[2].Reject!.Message, StringComparison.Ordinal);
        Assert.Equal(2, reader.Statistics.RejectsByKind[RejectKind.InvalidUtf8]);
        Assert.Equal(1, reader.Statistics.Examples);
        // The columns keep their declared types (the writer copies them): text is still VARCHAR.
        Assert.Equal("VARCHAR", reader.ParquetColumns!.Single(column => column.Name == "output").Type.ToString());
    }

    [Fact]
    public void Rows_read_before_duckdb_refuses_a_later_string_are_produced_once_and_in_order()
    {
        using var scratch = new ScratchFolder("varchar-late");
        var path = scratch.File("late.parquet");
        // Five row groups of 1,000 rows; the bad value is in the fifth, so DuckDB has produced 4,000 rows (over
        // several chunks) when it stops, and the second pass must pass over exactly those.
        WriteParquetWithBrokenText(path,
            "SELECT i AS n, 'Question ' || i AS instruction, CASE WHEN i = 4321 THEN 'QQMARKQQ' ELSE 'Answer ' || i END AS output " +
            "FROM range(5000) t(i) ORDER BY i", [(byte)'b', (byte)'a', (byte)'d', 0xC3, (byte)'(', (byte)'!', (byte)'!', (byte)'!'],
            "ROW_GROUP_SIZE 1000");

        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var records = reader.ReadRecords().ToList();

        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), records.Select(r => r.Row));
        Assert.Equal(4321, records.Single(r => r.Reject is not null).Row);
        Assert.All(records.Where(r => r.Example is not null),
            r => Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"Answer {r.Row}"), r.Example!.Turns[^1].Text));
        Assert.Equal(4999, reader.Statistics.Examples);
    }

    [Fact]
    public void Invalid_text_that_only_duckdb_renders_fails_the_shard_naming_the_file_the_value_and_the_way_out()
    {
        using var scratch = new ScratchFolder("varchar-json");
        var path = scratch.File("nested.parquet");
        // A struct with a DATE goes through DuckDB's to_json, which would print bytes as \xNN escapes, so its text
        // cannot be read as bytes and checked here: the shard fails, and says why and what would make it readable.
        WriteParquetWithBrokenText(path,
            "SELECT * FROM (VALUES (0, 'Say hi', 'Hello.', {'day': DATE '2024-01-01', 'note': 'fine'}), " +
            "(1, 'Say it', 'Fine.', {'day': DATE '2024-01-02', 'note': 'QQMARKQQ'})) t(n, instruction, output, meta) ORDER BY n",
            [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)' ', 0xFF, 0xFE, (byte)'!']);

        var error = Assert.Throws<ShardReadException>(() =>
        {
            using var reader = ShardReader.Open(ShardInput.FromFile(path));
            return reader.ReadRecords().Count();
        });
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains("caf\\xE9", error.Message, StringComparison.Ordinal);
        Assert.Contains("store it as BINARY", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// DuckDB will not write invalid text, so it writes a marker (QQMARKQQ) that is then overwritten in place with
    /// <paramref name="broken"/>, 8 bytes like the marker (uncompressed, so the marker is in the file as is; the
    /// dictionary and the statistics hold it too).
    /// </summary>
    internal static void WriteParquetWithBrokenText(string path, string select, byte[] broken, string options = "")
    {
        Assert.Equal(8, broken.Length);
        DuckDbProbe.Query($"COPY ({select}) TO {DuckDbProbe.Literal(path)} (FORMAT parquet, COMPRESSION uncompressed{(options.Length > 0 ? ", " + options : "")})");
        var bytes = File.ReadAllBytes(path);
        var marker = "QQMARKQQ"u8.ToArray();
        var patched = 0;
        for (var at = bytes.AsSpan().IndexOf(marker); at >= 0; at = bytes.AsSpan().IndexOf(marker))
        {
            broken.CopyTo(bytes, at);
            patched++;
        }
        Assert.True(patched > 0);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void A_file_with_no_recognisable_schema_is_an_error_naming_its_fields()
    {
        using var scratch = new ScratchFolder("schema");
        var path = scratch.File("odd.jsonl");
        File.WriteAllText(path, "not json\n{\"alpha\": 1, \"beta\": 2}\n");
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        var error = Assert.Throws<ShardReadException>(() => reader.ReadRecords().Count());
        Assert.Contains($"{path}:2", error.Message, StringComparison.Ordinal);
        Assert.Contains("alpha, beta", error.Message, StringComparison.Ordinal);
        Assert.Contains(SettingNames.OptionName(Setting.Schema), error.Message, StringComparison.Ordinal);
    }

    private static void WriteGzip(string path, string text)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(text));
    }

    private static List<long> LineStarts(byte[] bytes)
    {
        var starts = new List<long> { 0 };
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }
        return starts;
    }
}
