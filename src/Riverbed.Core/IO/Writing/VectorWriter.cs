using System.Buffers;
using System.Text;
using System.Text.Json;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO.Writing;

/// <summary>Writes values into DuckDB vectors: declared column values, and JSON values by their inferred shape.</summary>
internal static class VectorWriter
{
    public static void Write(DuckDbVector vector, ulong row, ColumnType type, ColumnValue value)
    {
        if (value.IsNull)
        {
            SetNull(vector, row, type.Kind == ColumnKind.List);
            if (type.Kind == ColumnKind.Struct)
            {
                for (var i = 0; i < type.Fields.Count; i++)
                {
                    Write(vector.StructChild(i), row, type.Fields[i].Type, ColumnValue.Null);
                }
            }
            return;
        }
        switch (type.Kind)
        {
            case ColumnKind.String:
                WriteString(vector, row, value.AsString());
                break;
            case ColumnKind.Int32:
                DuckDbVectorWriter.Set(vector, row, value.AsInt32());
                break;
            case ColumnKind.Int64:
                DuckDbVectorWriter.Set(vector, row, value.AsInt64());
                break;
            case ColumnKind.Double:
                DuckDbVectorWriter.Set(vector, row, value.AsDouble());
                break;
            case ColumnKind.Boolean:
                DuckDbVectorWriter.Set(vector, row, value.AsBoolean() ? (byte)1 : (byte)0);
                break;
            case ColumnKind.List:
                var items = value.Items;
                var first = DuckDbVectorWriter.AddListEntries(vector, row, (ulong)items.Count);
                for (var i = 0; i < items.Count; i++)
                {
                    // The child is fetched after growing: reserving may move its storage.
                    Write(vector.ListChild, first + (ulong)i, type.Element!, items[i]);
                }
                break;
            case ColumnKind.Struct:
                for (var i = 0; i < type.Fields.Count; i++)
                {
                    Write(vector.StructChild(i), row, type.Fields[i].Type, value.Items[i]);
                }
                break;
        }
    }

    public static void Write(DuckDbVector vector, ulong row, JsonShape shape, JsonElement value, bool present)
    {
        var kind = shape.EffectiveKind;
        if (!present || value.ValueKind == JsonValueKind.Null && kind != ShapeKind.Json)
        {
            SetNull(vector, row, kind == ShapeKind.List);
            WriteNullStructChildren(vector, row, shape);
            return;
        }
        switch (kind)
        {
            case ShapeKind.Boolean:
                DuckDbVectorWriter.Set(vector, row, value.GetBoolean() ? (byte)1 : (byte)0);
                break;
            case ShapeKind.Int64:
                DuckDbVectorWriter.Set(vector, row, value.GetInt64());
                break;
            case ShapeKind.Double:
                DuckDbVectorWriter.Set(vector, row, value.GetDouble());
                break;
            case ShapeKind.String:
                WriteString(vector, row, value.GetString()!);
                break;
            case ShapeKind.List:
                var count = value.GetArrayLength();
                var first = DuckDbVectorWriter.AddListEntries(vector, row, (ulong)count);
                var index = 0UL;
                foreach (var item in value.EnumerateArray())
                {
                    Write(vector.ListChild, first + index++, shape.Element!, item, present: true);
                }
                break;
            case ShapeKind.Struct:
                for (var i = 0; i < shape.FieldOrder.Count; i++)
                {
                    var name = shape.FieldOrder[i];
                    var has = value.TryGetProperty(name, out var field);
                    Write(vector.StructChild(i), row, shape.Field(name), field, has);
                }
                break;
            default:
                // JSON: the value's exact text, including a literal null.
                WriteUtf8(vector, row, System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value));
                break;
        }
    }

    public static void WriteString(DuckDbVector vector, ulong row, string text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(text, rented);
            DuckDbVectorWriter.SetString(vector, row, rented.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void WriteUtf8(DuckDbVector vector, ulong row, ReadOnlySpan<byte> utf8) => DuckDbVectorWriter.SetString(vector, row, utf8);

    private static void SetNull(DuckDbVector vector, ulong row, bool isList)
    {
        if (isList)
        {
            DuckDbVectorWriter.AddListEntries(vector, row, 0);
        }
        DuckDbVectorWriter.SetNull(vector, row);
    }

    /// <summary>A null struct still has child slots for its row; they are nulled so no stale value shows through.</summary>
    private static void WriteNullStructChildren(DuckDbVector vector, ulong row, JsonShape shape)
    {
        if (shape.EffectiveKind != ShapeKind.Struct)
        {
            return;
        }
        for (var i = 0; i < shape.FieldOrder.Count; i++)
        {
            Write(vector.StructChild(i), row, shape.Field(shape.FieldOrder[i]), default, present: false);
        }
    }
}
