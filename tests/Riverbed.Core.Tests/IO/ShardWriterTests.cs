using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

/// <summary>The writer: typed extra columns, split outputs, reconciliation, abort, and the manifest check.</summary>
public sealed class ShardWriterTests
{
    private static readonly ColumnType SpanType = ColumnType.ListOf(ColumnType.StructOf(
        new StructField("kind", ColumnType.String),
        new StructField("turn", ColumnType.Int32),
        new StructField("start", ColumnType.Int32),
        new StructField("end", ColumnType.Int32),
        new StructField("original", ColumnType.String),
        new StructField("replacement", ColumnType.String),
        new StructField("score", ColumnType.Double),
        new StructField("flagged", ColumnType.Boolean)));

    private static readonly ColumnDefinition[] Extras =
    [
        new("score", ColumnType.Double),
        new("tokens", ColumnType.Int64),
        new("flagged", ColumnType.Boolean),
        new("label", ColumnType.String),
        new("tags", ColumnType.ListOf(ColumnType.String)),
        new("spans", SpanType),
    ];

    [Theory]
    [InlineData(OutputFormat.Parquet)]
    [InlineData(OutputFormat.JsonLines)]
    public async Task Extra_columns_of_every_declared_type_are_written_with_their_values(OutputFormat format)
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 3);
        var manifest = await Convert(input, Options(scratch, format, Extras), (example, writer) => writer.WriteRow(example, ExtraValues(example.Row)));
        Assert.Equal((3L, 3L, 0L, 0L), (manifest.RowsIn, manifest.RowsOut, manifest.RowsRejected, manifest.RowsFailed));
        var output = scratch.File("out", manifest.Outputs.Single().File.Path);
        List<JsonElement> rows;
        if (format == OutputFormat.Parquet)
        {
            var types = DuckDbProbe.Query($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbProbe.Literal(output)}))");
            Assert.Equal(
                ["instruction", "output", "riverbed_id", "riverbed_source", "riverbed_row", "score", "tokens", "flagged", "label", "tags", "spans"],
                types.Select(t => (string)t[0]!));
            Assert.Equal("DOUBLE", types[5][1]);
            Assert.Equal("BIGINT", types[6][1]);
            Assert.Equal("VARCHAR[]", types[9][1]);
            Assert.Equal("STRUCT(kind VARCHAR, turn INTEGER, \"start\" INTEGER, \"end\" INTEGER, original VARCHAR, replacement VARCHAR, score DOUBLE, flagged BOOLEAN)[]", types[10][1]);
            rows = DuckDbProbe.ParquetRows(output);
        }
        else
        {
            rows = File.ReadAllLines(output).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        }
        Assert.Equal(3, rows.Count);
        Assert.Equal("q1", rows[1].GetProperty("instruction").GetString());
        Assert.Equal("in.jsonl#1", rows[1].GetProperty("riverbed_id").GetString());
        Assert.Equal("in.jsonl", rows[1].GetProperty("riverbed_source").GetString());
        Assert.Equal(1, rows[1].GetProperty("riverbed_row").GetInt64());
        Assert.Equal(0.25, rows[1].GetProperty("score").GetDouble());
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("score").ValueKind);
        Assert.Equal(42, rows[1].GetProperty("tokens").GetInt64());
        Assert.True(rows[1].GetProperty("flagged").GetBoolean());
        Assert.Equal("été 𝄞", rows[1].GetProperty("label").GetString());
        Assert.Equal(["a", "b"], rows[1].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0, rows[2].GetProperty("tags").GetArrayLength());
        var span = rows[1].GetProperty("spans")[1];
        Assert.Equal(("entity", 1, 4, 9, "Paris", "Rome", 0.875, true),
            (span.GetProperty("kind").GetString(), span.GetProperty("turn").GetInt32(), span.GetProperty("start").GetInt32(), span.GetProperty("end").GetInt32(),
             span.GetProperty("original").GetString(), span.GetProperty("replacement").GetString(), span.GetProperty("score").GetDouble(), span.GetProperty("flagged").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("spans")[0].GetProperty("replacement").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[2].GetProperty("spans").ValueKind);
    }

    [Theory]
    [InlineData(OutputFormat.Parquet)]
    [InlineData(OutputFormat.JsonLines)]
    public async Task Split_outputs_route_rows_to_kept_and_removed_reason_folders(OutputFormat format)
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 10);
        var options = Options(scratch, format, [], split: true);
        var manifest = await Convert(input, options, (example, writer) => writer.WriteRow(example, default,
            example.Row % 3 == 0 ? RowDecision.Remove("low_score") : example.Row == 5 ? RowDecision.Remove("contradiction") : RowDecision.Keep));
        var extension = format == OutputFormat.Parquet ? "parquet" : "jsonl";
        Assert.Equal(
            [("kept", $"kept/in.{extension}", 5L), ("removed/contradiction", $"removed/contradiction/in.{extension}", 1L), ("removed/low_score", $"removed/low_score/in.{extension}", 4L)],
            manifest.Outputs.Select(o => (o.Route, o.File.Path, o.File.Rows)));
        Assert.Equal(10, manifest.RowsOut);
        var kept = scratch.File("out", "kept", $"in.{extension}");
        var keptRows = format == OutputFormat.Parquet
            ? DuckDbProbe.Query($"SELECT riverbed_row FROM read_parquet({DuckDbProbe.Literal(kept)})").Select(r => (long)r[0]!).ToList()
            : File.ReadAllLines(kept).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("riverbed_row").GetInt64()).ToList();
        Assert.Equal([1L, 2, 4, 7, 8], keptRows);
    }

    [Fact]
    public async Task A_commit_that_would_lose_rows_is_refused_and_leaves_nothing()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 5);
        using var reader = ShardReader.Open(input);
        var options = Options(scratch, OutputFormat.Parquet, []);
        using (var writer = ShardWriter.Create(input, options))
        {
            foreach (var record in reader.ReadRecords().Where(r => r.Row != 2))
            {
                writer.WriteRow(record.Example!);
            }
            var error = await Assert.ThrowsAsync<ShardWriteException>(() => writer.CommitAsync(reader.Statistics));
            Assert.Contains("5 records were read but 4 were written", error.Message, StringComparison.Ordinal);
        }
        Assert.Empty(VisibleFiles(scratch.File("out")));
        Assert.Empty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(OutputFormat.Parquet)]
    [InlineData(OutputFormat.JsonLines)]
    public void Disposing_a_writer_without_committing_removes_its_temporary_files(OutputFormat format)
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 3000);
        using var reader = ShardReader.Open(input);
        using (var writer = ShardWriter.Create(input, Options(scratch, format, [])))
        {
            foreach (var record in reader.ReadRecords())
            {
                writer.WriteRow(record.Example!);
            }
            Assert.NotEmpty(Directory.EnumerateFiles(scratch.File("out"), "*.tmp"));
        }
        Assert.Equal([Path.Combine(scratch.File("out"), ".in.lock")], Directory.EnumerateFiles(scratch.File("out"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Rows_must_arrive_in_input_order()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 3);
        using var reader = ShardReader.Open(input);
        var examples = reader.ReadRecords().Select(r => r.Example!).ToList();
        using var writer = ShardWriter.Create(input, Options(scratch, OutputFormat.JsonLines, []));
        writer.WriteRow(examples[1]);
        Assert.Throws<InvalidOperationException>(() => writer.WriteRow(examples[0]));
    }

    [Fact]
    public void Values_that_do_not_fit_their_declared_column_are_refused()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 1);
        using var reader = ShardReader.Open(input);
        var example = reader.ReadRecords().Single().Example!;
        using var writer = ShardWriter.Create(input, Options(scratch, OutputFormat.Parquet, [new ColumnDefinition("score", ColumnType.Double)]));
        Assert.Throws<ArgumentException>(() => writer.WriteRow(example, [ColumnValue.From("high")]));
        Assert.Throws<ArgumentException>(() => writer.WriteRow(example, []));
    }

    [Fact]
    public void Two_writers_cannot_hold_the_same_shard()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 1);
        var options = Options(scratch, OutputFormat.JsonLines, []);
        using var first = ShardWriter.Create(input, options);
        var error = Assert.ThrowsAny<ShardWriteException>(() => ShardWriter.Create(input, options));
        Assert.Contains("another process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_examples_go_to_a_failures_file_and_counts_reconcile()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 4);
        var manifest = await Convert(input, Options(scratch, OutputFormat.Parquet, []), (example, writer) =>
        {
            if (example.Row == 2)
            {
                writer.WriteFailed(example, "inference_fault", "the NLI session threw twice");
            }
            else
            {
                writer.WriteRow(example);
            }
        });
        Assert.Equal((4L, 3L, 0L, 1L), (manifest.RowsIn, manifest.RowsOut, manifest.RowsRejected, manifest.RowsFailed));
        var failure = JsonDocument.Parse(File.ReadAllLines(scratch.File("out", "in.failures.jsonl")).Single()).RootElement;
        Assert.Equal(("in.jsonl#2", 2L, 3L, "inference_fault"), (failure.GetProperty("id").GetString(), failure.GetProperty("row").GetInt64(), failure.GetProperty("line").GetInt64(), failure.GetProperty("kind").GetString()));
        Assert.Equal(ShardStatus.Complete, ShardCompletion.Check(Options(scratch, OutputFormat.Parquet, []).LayoutFor(input), input, "test-config").Status);
    }

    [Fact]
    public async Task Json_fields_keep_their_types_in_parquet_and_unmergeable_ones_keep_their_exact_json()
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File("typed.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt":"p0","response":"r0","n":1,"x":1,"s":"a","b":true,"meta":{"src":"w","k":[1,2]},"mixed":"text","nothing":null,"empty":{},"riverbed_id":"old"}""",
            """{"prompt":"p1","response":"r1","n":2,"x":2.5,"s":"b","b":false,"meta":{"src":"v"},"mixed":{"a":1},"nothing":null,"empty":{},"late":[ "z" ]}""",
        ]);
        var input = ShardInput.FromFile(path);
        var manifest = await Convert(input, Options(scratch, OutputFormat.Parquet, []), (example, writer) => writer.WriteRow(example));
        var output = scratch.File("out", manifest.Outputs.Single().File.Path);
        var types = DuckDbProbe.Query($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbProbe.Literal(output)}))")
            .ToDictionary(t => (string)t[0]!, t => (string)t[1]!);
        Assert.Equal("BIGINT", types["n"]);
        Assert.Equal("DOUBLE", types["x"]);
        Assert.Equal("VARCHAR", types["s"]);
        Assert.Equal("BOOLEAN", types["b"]);
        Assert.Equal("STRUCT(src VARCHAR, k BIGINT[])", types["meta"]);
        Assert.Equal("JSON", types["mixed"]);
        Assert.Equal("JSON", types["nothing"]);
        Assert.Equal("JSON", types["empty"]);
        Assert.Equal("VARCHAR[]", types["late"]);
        var values = DuckDbProbe.Query($"SELECT x, mixed::VARCHAR, meta.k[2], riverbed_id, late[1], empty::VARCHAR FROM read_parquet({DuckDbProbe.Literal(output)}) ORDER BY riverbed_row");
        Assert.Equal([1.0, "\"text\"", 2L, "typed.jsonl#0", null, "{}"], values[0]);
        Assert.Equal([2.5, "{\"a\":1}", null, "typed.jsonl#1", "z", "{}"], values[1]);
        // The JSON columns, structs and lists read back the same through an independent Parquet implementation.
        Assert.Equal(2, DuckDbProbe.ParquetRows(output).Count);
    }

    [Fact]
    public async Task Field_names_that_differ_only_in_case_cannot_go_to_parquet_but_can_go_to_json_lines()
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File("case.jsonl");
        File.WriteAllLines(path, ["""{"prompt":"p","response":"r","Note":1,"note":2}"""]);
        var input = ShardInput.FromFile(path);
        var error = await Assert.ThrowsAsync<ShardWriteException>(() => Convert(input, Options(scratch, OutputFormat.Parquet, []), (e, w) => w.WriteRow(e)));
        Assert.Contains("'Note' and 'note' differ only in case", error.Message, StringComparison.Ordinal);
        Assert.Contains("Setting.OutputFormat jsonl", error.Message, StringComparison.Ordinal);
        Assert.Empty(VisibleFiles(scratch.File("out")));
        var manifest = await Convert(input, Options(scratch, OutputFormat.JsonLines, []), (e, w) => w.WriteRow(e));
        Assert.Equal(1, manifest.RowsOut);
    }

    [Fact]
    public async Task A_field_named_like_a_staging_column_is_refused_for_parquet_rather_than_dropped()
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File("staging.jsonl");
        File.WriteAllLines(path, ["""{"prompt":"p","response":"r","__rb_row":5}"""]);
        var error = await Assert.ThrowsAsync<ShardWriteException>(() => Convert(ShardInput.FromFile(path), Options(scratch, OutputFormat.Parquet, []), (e, w) => w.WriteRow(e)));
        Assert.Contains("'__rb_row'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_inputs_keep_their_original_column_types_and_values()
    {
        using var scratch = new ScratchFolder("writer");
        var fixture = TestPaths.Fixture("parquet", "halueval_labels.zstd.parquet");
        var input = ShardInput.FromFile(fixture);
        var manifest = await Convert(input, Options(scratch, OutputFormat.Parquet, []), (e, w) => w.WriteRow(e));
        var output = scratch.File("out", manifest.Outputs.Single().File.Path);
        var differences = DuckDbProbe.Scalar(
            $"SELECT count(*) FROM (SELECT * FROM read_parquet({DuckDbProbe.Literal(fixture)}) EXCEPT ALL " +
            $"SELECT * EXCLUDE (riverbed_id, riverbed_source, riverbed_row) FROM read_parquet({DuckDbProbe.Literal(output)}))");
        Assert.Equal(0L, differences);
        Assert.Equal(4507L, DuckDbProbe.Scalar($"SELECT count(*) FROM read_parquet({DuckDbProbe.Literal(output)})"));
        Assert.Equal("VARCHAR[]", DuckDbProbe.Scalar($"SELECT typeof(hallucination_spans) FROM read_parquet({DuckDbProbe.Literal(output)}) LIMIT 1"));
    }

    [Fact]
    public async Task Parquet_columns_of_other_types_are_rendered_by_duckdb_and_kept_exactly_in_parquet_output()
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File("typed.parquet");
        DuckDbProbe.Query(
            "COPY (SELECT 'q' || i AS prompt, 'a' || i AS response, DATE '2024-02-29' + i::INTEGER AS day, (i * 1.25)::DECIMAL(10,2) AS price, " +
            "MAP {'k': i::INTEGER} AS counts, 'caf\\xC3\\xA9\\x00'::BLOB AS bytes, [i, i + 1, i + 2]::INTEGER[3] AS triple, " +
            "TIMESTAMP '2024-01-01 12:00:00' AS at, 12345678901234567890123456789::DECIMAL(38,0) AS huge, i::UTINYINT AS small " +
            $"FROM range(3) t(i)) TO {DuckDbProbe.Literal(path)} (FORMAT parquet)");
        var input = ShardInput.FromFile(path);
        using (var reader = ShardReader.Open(input))
        {
            var first = reader.ReadRecords().First().Example!;
            using var record = JsonDocument.Parse(first.Record);
            var root = record.RootElement;
            Assert.Equal("2024-02-29", root.GetProperty("day").GetString());
            Assert.Equal(0.0, root.GetProperty("price").GetDouble());
            Assert.Equal(0, root.GetProperty("counts").GetProperty("k").GetInt32());
            Assert.Equal([0, 1, 2], root.GetProperty("triple").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("12345678901234567890123456789", root.GetProperty("huge").GetRawText());
            // Binary columns hold text as UTF-8 bytes (as Arrow and pandas read them), not DuckDB's \xNN rendering.
            Assert.Equal("café\0", root.GetProperty("bytes").GetString());
        }
        var manifest = await Convert(input, Options(scratch, OutputFormat.Parquet, []), (e, w) => w.WriteRow(e));
        var output = scratch.File("out", manifest.Outputs.Single().File.Path);
        Assert.Equal(0L, DuckDbProbe.Scalar(
            $"SELECT count(*) FROM (SELECT * FROM read_parquet({DuckDbProbe.Literal(path)}) EXCEPT ALL " +
            $"SELECT * EXCLUDE (riverbed_id, riverbed_source, riverbed_row) FROM read_parquet({DuckDbProbe.Literal(output)}))"));
        Assert.Equal("MAP(VARCHAR, INTEGER)", DuckDbProbe.Scalar($"SELECT typeof(counts) FROM read_parquet({DuckDbProbe.Literal(output)}) LIMIT 1"));
    }

    [Fact]
    public async Task A_complete_shard_is_recognised_and_tampering_or_a_changed_input_is_not()
    {
        using var scratch = new ScratchFolder("writer");
        var input = WriteInput(scratch, "in.jsonl", 20);
        var options = Options(scratch, OutputFormat.Parquet, []);
        await Convert(input, options, (e, w) => w.WriteRow(e));
        var layout = options.LayoutFor(input);
        Assert.Equal(ShardStatus.Complete, ShardCompletion.Check(layout, input, "test-config").Status);
        Assert.Equal(ShardStatus.ConfigMismatch, ShardCompletion.Check(layout, input, "other-config").Status);

        var output = scratch.File("out", "in.parquet");
        var original = File.ReadAllBytes(output);
        var tampered = (byte[])original.Clone();
        tampered[original.Length / 2] ^= 0x01;
        File.WriteAllBytes(output, tampered);
        var state = ShardCompletion.Check(layout, input, "test-config");
        Assert.Equal(ShardStatus.Incomplete, state.Status);
        Assert.Contains("in.parquet does not match", state.Reason, StringComparison.Ordinal);

        File.Delete(output);
        Assert.Equal(ShardStatus.Incomplete, ShardCompletion.Check(layout, input, "test-config").Status);
        File.WriteAllBytes(output, original);
        Assert.Equal(ShardStatus.Complete, ShardCompletion.Check(layout, input, "test-config").Status);

        File.SetLastWriteTimeUtc(input.Path, input.LastWriteUtc.AddSeconds(5));
        Assert.Equal(ShardStatus.Incomplete, ShardCompletion.Check(layout, ShardInput.FromFile(input.Path), "test-config").Status);

        var manifest = layout.ManifestPath;
        File.WriteAllBytes(manifest, File.ReadAllBytes(manifest)[..100]);
        Assert.Equal(ShardStatus.Incomplete, ShardCompletion.Check(layout, input, "test-config").Status);
        File.Delete(manifest);
        Assert.Equal(ShardStatus.Missing, ShardCompletion.Check(layout, input, "test-config").Status);
    }

    [Theory]
    [InlineData("empty.jsonl", "", OutputFormat.Parquet)]
    [InlineData("empty.jsonl", "", OutputFormat.JsonLines)]
    [InlineData("blank.jsonl", "\n\n", OutputFormat.Parquet)]
    [InlineData("empty.json", "[]", OutputFormat.Parquet)]
    public async Task An_empty_input_gives_an_empty_output_shard_and_a_manifest_with_no_rows(string name, string content, OutputFormat format)
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File(name);
        File.WriteAllText(path, content);
        var manifest = await Convert(ShardInput.FromFile(path), Options(scratch, format, []), (e, w) => w.WriteRow(e));
        Assert.Equal((0L, 0L), (manifest.RowsIn, manifest.RowsOut));
        var output = scratch.File("out", manifest.Outputs.Single().File.Path);
        Assert.True(File.Exists(output));
        if (format == OutputFormat.Parquet)
        {
            Assert.Equal(0L, DuckDbProbe.Scalar($"SELECT count(*) FROM read_parquet({DuckDbProbe.Literal(output)})"));
        }
        else
        {
            Assert.Equal(0, new FileInfo(output).Length);
        }
    }

    [Fact]
    public async Task An_empty_parquet_input_gives_an_empty_parquet_shard_with_its_columns()
    {
        using var scratch = new ScratchFolder("writer");
        var path = scratch.File("none.parquet");
        DuckDbProbe.Query($"COPY (SELECT 'a' AS instruction, 'b' AS output WHERE false) TO {DuckDbProbe.Literal(path)} (FORMAT parquet)");
        var manifest = await Convert(ShardInput.FromFile(path), Options(scratch, OutputFormat.Parquet, []), (e, w) => w.WriteRow(e));
        Assert.Equal(0, manifest.RowsIn);
        var output = scratch.File("out", "none.parquet");
        Assert.Equal(["instruction", "output", "riverbed_id", "riverbed_source", "riverbed_row"],
            DuckDbProbe.Query($"SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbProbe.Literal(output)}))").Select(r => (string)r[0]!));
    }

    internal static ShardWriterOptions Options(ScratchFolder scratch, OutputFormat format, IReadOnlyList<ColumnDefinition> extras, bool split = false) => new()
    {
        OutputFolder = scratch.File("out"),
        Format = format,
        ExtraColumns = extras,
        SplitByDecision = split,
        ConfigHash = "test-config",
    };

    internal static ShardInput WriteInput(ScratchFolder scratch, string name, int rows)
    {
        var path = scratch.File(name);
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i => $"{{\"instruction\":\"q{i}\",\"output\":\"a{i}\"}}"));
        return ShardInput.FromFile(path);
    }

    internal static async Task<ShardManifest> Convert(ShardInput input, ShardWriterOptions options, Action<Example, ShardWriter> write)
    {
        using var reader = ShardReader.Open(input);
        using var writer = ShardWriter.Create(input, options);
        foreach (var record in reader.ReadRecords())
        {
            if (record.Example is { } example)
            {
                write(example, writer);
            }
            else
            {
                writer.WriteReject(record.Reject!);
            }
        }
        return await writer.CommitAsync(reader.Statistics, reader.Schema);
    }

    private static IEnumerable<string> VisibleFiles(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.'))
            : [];

    private static ColumnValue[] ExtraValues(long row) => row switch
    {
        0 => [ColumnValue.Null, ColumnValue.From(7L), ColumnValue.From(false), ColumnValue.From("plain"), ColumnValue.Strings(["x"]), ColumnValue.List([])],
        1 =>
        [
            ColumnValue.From(0.25), ColumnValue.From(42L), ColumnValue.From(true), ColumnValue.From("été 𝄞"), ColumnValue.Strings(["a", "b"]),
            ColumnValue.List(
            [
                ColumnValue.Struct(ColumnValue.From("mask"), ColumnValue.From(1), ColumnValue.From(0), ColumnValue.From(3), ColumnValue.From("The"), ColumnValue.Null, ColumnValue.From(0.5), ColumnValue.From(false)),
                ColumnValue.Struct(ColumnValue.From("entity"), ColumnValue.From(1), ColumnValue.From(4), ColumnValue.From(9), ColumnValue.From("Paris"), ColumnValue.From("Rome"), ColumnValue.From(0.875), ColumnValue.From(true)),
            ]),
        ],
        _ => [ColumnValue.From(1.5), ColumnValue.Null, ColumnValue.Null, ColumnValue.Null, ColumnValue.Strings([]), ColumnValue.Null],
    };
}
