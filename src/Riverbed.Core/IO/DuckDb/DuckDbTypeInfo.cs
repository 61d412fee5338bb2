using System.Globalization;
using System.Text;
using DuckDB.NET.Native;

namespace Riverbed.IO.DuckDb;

/// <summary>A managed copy of a DuckDB logical type tree, read once per query so decoding never touches type handles.</summary>
internal sealed class DuckDbTypeInfo
{
    private DuckDbTypeInfo(DuckDBType id, DuckDbTypeInfo? element, IReadOnlyList<(string Name, DuckDbTypeInfo Type)> fields, int arraySize, bool isJson)
    {
        Id = id;
        Element = element;
        Fields = fields;
        ArraySize = arraySize;
        IsJson = isJson;
    }

    public DuckDBType Id { get; }

    /// <summary>The element type of a LIST or ARRAY.</summary>
    public DuckDbTypeInfo? Element { get; }

    /// <summary>The fields of a STRUCT, in order.</summary>
    public IReadOnlyList<(string Name, DuckDbTypeInfo Type)> Fields { get; }

    public int ArraySize { get; }

    /// <summary>
    /// A VARCHAR whose text is JSON (to_json's result), to be embedded as is. The C API tells this only through a type
    /// alias that DuckDB.NET does not bind, so the query that produced the column says so (<see cref="AsJson"/>).
    /// </summary>
    public bool IsJson { get; }

    /// <summary>This VARCHAR type, marked as holding JSON text.</summary>
    public DuckDbTypeInfo AsJson() =>
        Id == DuckDBType.Varchar ? new DuckDbTypeInfo(Id, null, [], 0, isJson: true)
            : throw new InvalidOperationException($"only a VARCHAR column can hold JSON text, not {this}");

    /// <summary>Reads the tree under <paramref name="type"/>; the caller still owns (and destroys) <paramref name="type"/>.</summary>
    public static DuckDbTypeInfo FromHandle(DuckDBLogicalType type)
    {
        var id = NativeMethods.LogicalType.DuckDBGetTypeId(type);
        DuckDbTypeInfo? element = null;
        var fields = new List<(string, DuckDbTypeInfo)>();
        var arraySize = 0;
        switch (id)
        {
            case DuckDBType.List:
                using (var child = NativeMethods.LogicalType.DuckDBListTypeChildType(type))
                {
                    element = FromHandle(child);
                }
                break;
            case DuckDBType.Array:
                using (var child = NativeMethods.LogicalType.DuckDBArrayTypeChildType(type))
                {
                    element = FromHandle(child);
                }
                arraySize = checked((int)NativeMethods.LogicalType.DuckDBArrayVectorGetSize(type));
                break;
            case DuckDBType.Struct:
                var count = NativeMethods.LogicalType.DuckDBStructTypeChildCount(type);
                for (long i = 0; i < count; i++)
                {
                    var name = NativeMethods.LogicalType.DuckDBStructTypeChildName(type, i) ?? string.Empty;
                    using var child = NativeMethods.LogicalType.DuckDBStructTypeChildType(type, i);
                    fields.Add((name, FromHandle(child)));
                }
                break;
        }
        return new DuckDbTypeInfo(id, element, fields, arraySize, isJson: false);
    }

    /// <summary>
    /// True when every node is a type the vector decoder reads directly (no to_json fallback needed). BLOB is read
    /// directly too: a Parquet BINARY column usually holds text (as Arrow and pandas take it), and to_json would
    /// rewrite every non-ASCII byte as a \xNN escape.
    /// </summary>
    public bool IsDirectlyDecodable => Id switch
    {
        DuckDBType.Boolean or DuckDBType.TinyInt or DuckDBType.SmallInt or DuckDBType.Integer or DuckDBType.BigInt
            or DuckDBType.UnsignedTinyInt or DuckDBType.UnsignedSmallInt or DuckDBType.UnsignedInteger or DuckDBType.UnsignedBigInt
            or DuckDBType.Float or DuckDBType.Double or DuckDBType.Varchar or DuckDBType.Blob => true,
        DuckDBType.List or DuckDBType.Array => Element!.IsDirectlyDecodable,
        DuckDBType.Struct => Fields.Count > 0 && Fields.All(member => member.Type.IsDirectlyDecodable),
        _ => false,
    };

    public override string ToString()
    {
        var text = new StringBuilder();
        Append(text);
        return text.ToString();
    }

    // DuckDB's own spelling where the binding's enum names differ from it.
    private static string SqlName(DuckDBType id) => id switch
    {
        DuckDBType.UnsignedTinyInt => "UTINYINT",
        DuckDBType.UnsignedSmallInt => "USMALLINT",
        DuckDBType.UnsignedInteger => "UINTEGER",
        DuckDBType.UnsignedBigInt => "UBIGINT",
        DuckDBType.UnsignedHugeInt => "UHUGEINT",
        DuckDBType.VarInt => "BIGNUM",
        _ => id.ToString().ToUpperInvariant(),
    };

    private void Append(StringBuilder text)
    {
        switch (Id)
        {
            case DuckDBType.List:
                Element!.Append(text);
                text.Append("[]");
                break;
            case DuckDBType.Array:
                Element!.Append(text);
                text.Append('[').Append(ArraySize.ToString(CultureInfo.InvariantCulture)).Append(']');
                break;
            case DuckDBType.Struct:
                text.Append("STRUCT(");
                for (var i = 0; i < Fields.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }
                    text.Append(DuckDbSql.Identifier(Fields[i].Name)).Append(' ');
                    Fields[i].Type.Append(text);
                }
                text.Append(')');
                break;
            default:
                text.Append(IsJson ? "JSON" : SqlName(Id));
                break;
        }
    }
}

/// <summary>Quoting for SQL text that Riverbed builds (identifiers and string literals never come from users unquoted).</summary>
internal static class DuckDbSql
{
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
