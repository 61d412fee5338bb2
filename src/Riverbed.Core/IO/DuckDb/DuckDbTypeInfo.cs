using System.Globalization;
using System.Text;

namespace Riverbed.IO.DuckDb;

/// <summary>A managed copy of a DuckDB logical type tree, read once per query so decoding never touches type handles.</summary>
internal sealed class DuckDbTypeInfo
{
    private DuckDbTypeInfo(DuckDbType id, string? alias, DuckDbTypeInfo? element, IReadOnlyList<(string Name, DuckDbTypeInfo Type)> fields, int arraySize)
    {
        Id = id;
        Alias = alias;
        Element = element;
        Fields = fields;
        ArraySize = arraySize;
    }

    public DuckDbType Id { get; }

    /// <summary>A named alias such as JSON (a VARCHAR whose text is JSON), or null.</summary>
    public string? Alias { get; }

    /// <summary>The element type of a LIST or ARRAY.</summary>
    public DuckDbTypeInfo? Element { get; }

    /// <summary>The fields of a STRUCT, in order.</summary>
    public IReadOnlyList<(string Name, DuckDbTypeInfo Type)> Fields { get; }

    public int ArraySize { get; }

    public bool IsJson => Id == DuckDbType.Varchar && string.Equals(Alias, "JSON", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the tree under <paramref name="type"/>; the caller still owns (and destroys) <paramref name="type"/>.</summary>
    public static unsafe DuckDbTypeInfo FromHandle(IntPtr type)
    {
        var api = DuckDbLibrary.Instance;
        var id = api.GetTypeId(type);
        var aliasPointer = api.LogicalTypeGetAlias(type);
        string? alias = null;
        if (aliasPointer is not null)
        {
            alias = DuckDbText.FromNative(aliasPointer);
            api.Free(aliasPointer);
        }
        DuckDbTypeInfo? element = null;
        var fields = new List<(string, DuckDbTypeInfo)>();
        var arraySize = 0;
        switch (id)
        {
            case DuckDbType.List:
                element = FromOwnedHandle(api.ListTypeChildType(type));
                break;
            case DuckDbType.Array:
                element = FromOwnedHandle(api.ArrayTypeChildType(type));
                arraySize = checked((int)api.ArrayTypeArraySize(type));
                break;
            case DuckDbType.Struct:
                var count = api.StructTypeChildCount(type);
                for (ulong i = 0; i < count; i++)
                {
                    var namePointer = api.StructTypeChildName(type, i);
                    var name = DuckDbText.FromNative(namePointer) ?? string.Empty;
                    api.Free(namePointer);
                    fields.Add((name, FromOwnedHandle(api.StructTypeChildType(type, i))));
                }
                break;
        }
        return new DuckDbTypeInfo(id, alias, element, fields, arraySize);
    }

    /// <summary>Reads and then destroys a logical type handle that the caller received ownership of.</summary>
    public static unsafe DuckDbTypeInfo FromOwnedHandle(IntPtr type)
    {
        try
        {
            return FromHandle(type);
        }
        finally
        {
            DuckDbLibrary.Instance.DestroyLogicalType(&type);
        }
    }

    /// <summary>True when every node is a type the vector decoder reads directly (no to_json fallback needed).</summary>
    public bool IsDirectlyDecodable => Id switch
    {
        DuckDbType.Boolean or DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer or DuckDbType.BigInt
            or DuckDbType.UTinyInt or DuckDbType.USmallInt or DuckDbType.UInteger or DuckDbType.UBigInt
            or DuckDbType.Float or DuckDbType.Double or DuckDbType.Varchar => true,
        DuckDbType.List or DuckDbType.Array => Element!.IsDirectlyDecodable,
        DuckDbType.Struct => Fields.Count > 0 && Fields.All(member => member.Type.IsDirectlyDecodable),
        _ => false,
    };

    public override string ToString()
    {
        var text = new StringBuilder();
        Append(text);
        return text.ToString();
    }

    private void Append(StringBuilder text)
    {
        switch (Id)
        {
            case DuckDbType.List:
                Element!.Append(text);
                text.Append("[]");
                break;
            case DuckDbType.Array:
                Element!.Append(text);
                text.Append('[').Append(ArraySize.ToString(CultureInfo.InvariantCulture)).Append(']');
                break;
            case DuckDbType.Struct:
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
                text.Append(Alias ?? Id.ToString().ToUpperInvariant());
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
