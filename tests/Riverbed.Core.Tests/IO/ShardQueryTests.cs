using Riverbed.IO;
using Riverbed.IO.DuckDb;

namespace Riverbed.Core.Tests.IO;

/// <summary>Read-only SQL over shards: what a writer stored reads back as declared, in both output formats.</summary>
public sealed class ShardQueryTests
{
    private static readonly ColumnType SpanType = ColumnType.ListOf(ColumnType.StructOf(
        new StructField("kind", ColumnType.String),
        new StructField("start", ColumnType.Int32),
        new StructField("score", ColumnType.Double),
        new StructField("flagged", ColumnType.Boolean),
        new StructField("pair", ColumnType.Int32)));

    private static readonly ColumnDefinition[] Extras =
    [
        new("score", ColumnType.Double),
        new("tokens", ColumnType.Int64),
        new("label", ColumnType.String),
        new("tags", ColumnType.ListOf(ColumnType.String)),
        new("spans", SpanType),
    ];

    [Theory]
    [InlineData(OutputFormat.Parquet)]
    [InlineData(OutputFormat.JsonLines)]
    public async Task What_a_writer_stored_reads_back_as_declared(OutputFormat format)
    {
        using var scratch = new ScratchFolder("query");
        var input = ShardWriterTests.WriteInput(scratch, "in.jsonl", 4);
        var written = new Dictionary<long, ColumnValue[]>();
        var manifest = await ShardWriterTests.Convert(input, ShardWriterTests.Options(scratch, format, Extras), (example, writer) =>
        {
            var values = Values(example.Row);
            written[example.Row] = values;
            writer.WriteRow(example, values);
        });
        var file = scratch.File("out", manifest.Outputs.Single().File.Path);
        var columns = ShardWriterOptions.StandardColumns.Concat(Extras).ToList();
        var scan = format == OutputFormat.Parquet ? ShardQuery.ParquetScan([file]) : ShardQuery.JsonLinesScan([file], columns);
        var select = string.Join(", ", columns.Select(column => ShardQuery.Identifier(column.Name)));

        using var query = ShardQuery.Open();
        using var result = query.Run($"SELECT {select}, {ShardQuery.Identifier(ShardQuery.FileColumn)} FROM {scan} ORDER BY riverbed_row");
        Assert.Equal(columns.Select(c => c.Type.ToSql()).Append("VARCHAR"), result.Columns.Select(c => c.Type.ToSql()));
        var rows = result.Rows().ToList();
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            var expected = written[row[2].AsInt64()];
            Assert.Equal(expected.Select(v => v.ToString()), row.Skip(3).Take(Extras.Length).Select(v => v.ToString()));
            Assert.Equal(file, row[^1].AsString());
        }
        Assert.True(rows[1][3].IsNull);
        Assert.True(double.IsNaN(rows[2][3].AsDouble()));
    }

    [Fact]
    public void DuckDB_types_map_onto_column_types()
    {
        using var query = ShardQuery.Open();
        using var result = query.Run("SELECT 1::TINYINT AS a, 7::UINTEGER AS b, 1.5::FLOAT AS c, [1, 2]::INTEGER[2] AS d, {'x': 'é😀'} AS e, 'x' AS \"__rb_any name\"");
        Assert.Equal(["INTEGER", "BIGINT", "DOUBLE", "INTEGER[]", "STRUCT(\"x\" VARCHAR)"], result.Columns.Take(5).Select(c => c.Type.ToSql()));
        Assert.Equal("__rb_any name", result.Columns[5].Name);
        var row = Assert.Single(result.Rows());
        Assert.Equal(["1", "7", "1.5", "[1, 2]", "{é😀}", "x"], row.Select(v => v.ToString()));
    }

    [Fact]
    public void Types_without_a_column_type_are_refused_with_a_hint()
    {
        using var query = ShardQuery.Open();
        var error = Assert.Throws<DuckDbException>(() => query.Run("SELECT DATE '2020-01-02' AS day"));
        Assert.Contains("column 'day' has type DATE", error.Message, StringComparison.Ordinal);
        Assert.Contains("cast it in the query", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_names_that_DuckDB_would_take_for_globs_are_refused()
    {
        var error = Assert.Throws<DuckDbException>(() => ShardQuery.ParquetScan(["/data/part[1].parquet"]));
        Assert.Contains("part[1].parquet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_query_error_names_what_DuckDB_said()
    {
        using var query = ShardQuery.Open();
        var error = Assert.Throws<DuckDbException>(() => query.Run($"SELECT * FROM {ShardQuery.ParquetScan(["/nonexistent/x.parquet"])}"));
        Assert.Contains("/nonexistent/x.parquet", error.Message, StringComparison.Ordinal);
    }

    private static ColumnValue[] Values(long row) =>
    [
        row switch { 1 => ColumnValue.Null, 2 => ColumnValue.From(double.NaN), _ => ColumnValue.From(row * 0.25 - 0.5) },
        ColumnValue.From(row * 1_000_000_000_000L),
        ColumnValue.From(row == 3 ? "<b>é😀 e\u0301</b>" : $"label {row}"),
        ColumnValue.Strings(Enumerable.Range(0, (int)row).Select(i => $"t{i}")),
        ColumnValue.List(Enumerable.Range(0, (int)row).Select(i => ColumnValue.Struct(
            ColumnValue.From(i % 2 == 0 ? "fill" : "entity"), ColumnValue.From(i * 3), ColumnValue.From(i / 4.0), ColumnValue.From(i % 2 == 0),
            i == 1 ? ColumnValue.From(7) : ColumnValue.Null)).ToArray()),
    ];
}
