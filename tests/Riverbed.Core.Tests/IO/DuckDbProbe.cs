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

    public static string Literal(string path) => DuckDbSql.Literal(path);
}
