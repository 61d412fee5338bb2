using System.Text.Json;
using Riverbed.IO.DuckDb;

namespace Riverbed.Core.Tests.IO;

/// <summary>Runs a query through Riverbed's own DuckDB binding and returns the rows (scalars only; use to_json for nested values).</summary>
internal static class DuckDbProbe
{
    public static List<object?[]> Query(string sql)
    {
        using var database = DuckDbDatabase.OpenInMemory([new("threads", "1")]);
        using var connection = database.Connect();
        using var query = connection.Stream(sql);
        var rows = new List<object?[]>();
        while (query.FetchChunk() is { } chunk)
        {
            using (chunk)
            {
                for (var row = 0; row < chunk.RowCount; row++)
                {
                    var values = new object?[query.Columns.Count];
                    for (var column = 0; column < values.Length; column++)
                    {
                        values[column] = chunk.GetVector(column).GetScalar(query.Columns[column].Type, (ulong)row);
                    }
                    rows.Add(values);
                }
            }
        }
        return rows;
    }

    public static object? Scalar(string sql) => Query(sql).Single()[0];

    /// <summary>
    /// The rows of a Parquet file Riverbed wrote, as DuckDB reads them (to_json of each row), after checking that an
    /// independent implementation (Parquet.Net) reads the same rows, nested lists and structs included.
    /// </summary>
    public static List<JsonElement> ParquetRows(string path)
    {
        List<JsonElement> rows = [.. Query($"SELECT to_json(p)::VARCHAR FROM read_parquet({Literal(path)}) p").Select(row => JsonDocument.Parse((string)row[0]!).RootElement)];
        var independent = IndependentParquet.ReadRows(path);
        Assert.Equal(rows.Count, independent.Count);
        var differences = rows.Zip(independent).SelectMany((pair, i) => IndependentParquet.Differences(pair.First, pair.Second).Select(d => $"row {i} {d}")).ToList();
        Assert.True(differences.Count == 0, $"{path}: DuckDB and Parquet.Net read it differently:\n{string.Join("\n", differences.Take(20))}");
        return rows;
    }

    public static string Literal(string path) => DuckDbSql.Literal(path);
}
