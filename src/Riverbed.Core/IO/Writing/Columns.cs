using System.Globalization;
using System.Text;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO;

/// <summary>The kinds of values an extra output column can hold.</summary>
public enum ColumnKind
{
    String,
    Int32,
    Int64,
    Double,
    Boolean,
    List,
    Struct,
}

/// <summary>A struct member: a name and a type.</summary>
public sealed record StructField(string Name, ColumnType Type);

/// <summary>
/// The type of an extra output column: a scalar, a list of a type, or a struct of named fields (nesting allowed). E.g.
/// the spans column is <c>ColumnType.ListOf(ColumnType.StructOf(new("kind", ColumnType.String), …))</c>.
/// </summary>
public sealed class ColumnType
{
    private ColumnType(ColumnKind kind, ColumnType? element, IReadOnlyList<StructField> fields)
    {
        Kind = kind;
        Element = element;
        Fields = fields;
    }

    public static ColumnType String { get; } = new(ColumnKind.String, null, []);

    public static ColumnType Int32 { get; } = new(ColumnKind.Int32, null, []);

    public static ColumnType Int64 { get; } = new(ColumnKind.Int64, null, []);

    public static ColumnType Double { get; } = new(ColumnKind.Double, null, []);

    public static ColumnType Boolean { get; } = new(ColumnKind.Boolean, null, []);

    public ColumnKind Kind { get; }

    public ColumnType? Element { get; }

    public IReadOnlyList<StructField> Fields { get; }

    public static ColumnType ListOf(ColumnType element) => new(ColumnKind.List, element ?? throw new ArgumentNullException(nameof(element)), []);

    public static ColumnType StructOf(params StructField[] fields)
    {
        if (fields.Length == 0)
        {
            throw new ArgumentException("a struct needs at least one field", nameof(fields));
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in fields)
        {
            ColumnDefinition.CheckName(field.Name);
            if (!names.Add(field.Name))
            {
                throw new ArgumentException($"struct field '{field.Name}' appears twice (names are case-insensitive in Parquet via DuckDB)", nameof(fields));
            }
        }
        return new ColumnType(ColumnKind.Struct, null, fields);
    }

    /// <summary>The DuckDB SQL type, e.g. <c>STRUCT("kind" VARCHAR, "turn" INTEGER)[]</c>.</summary>
    public string ToSql() => Kind switch
    {
        ColumnKind.String => "VARCHAR",
        ColumnKind.Int32 => "INTEGER",
        ColumnKind.Int64 => "BIGINT",
        ColumnKind.Double => "DOUBLE",
        ColumnKind.Boolean => "BOOLEAN",
        ColumnKind.List => Element!.ToSql() + "[]",
        _ => "STRUCT(" + string.Join(", ", Fields.Select(field => DuckDbSql.Identifier(field.Name) + " " + field.Type.ToSql())) + ")",
    };

    public override string ToString() => ToSql();
}

/// <summary>An extra column the writer adds after the original columns.</summary>
public sealed record ColumnDefinition
{
    public ColumnDefinition(string name, ColumnType type)
    {
        CheckName(name);
        Name = name;
        Type = type ?? throw new ArgumentNullException(nameof(type));
    }

    public string Name { get; }

    public ColumnType Type { get; }

    internal static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith("__rb_", StringComparison.Ordinal) || name.Any(char.IsControl))
        {
            throw new ArgumentException($"'{name}' cannot name a column (empty, control characters, or the reserved __rb_ prefix)", nameof(name));
        }
    }
}

/// <summary>
/// One value of an extra column. Scalars, null, lists and structs (values in
/// field order). The writer checks each value against its column's declared type.
/// </summary>
public readonly struct ColumnValue
{
    private readonly object? _reference;
    private readonly long _bits;

    private ColumnValue(ColumnKind kind, object? reference, long bits)
    {
        Kind = kind;
        _reference = reference;
        _bits = bits;
        IsNull = false;
    }

    private ColumnValue(bool isNull)
    {
        IsNull = isNull;
        Kind = default;
        _reference = null;
        _bits = 0;
    }

    public static ColumnValue Null { get; } = new(isNull: true);

    public bool IsNull { get; }

    /// <summary>The kind of value held (meaningless when <see cref="IsNull"/>).</summary>
    public ColumnKind Kind { get; }

    public static ColumnValue From(string? value) => value is null ? Null : new(ColumnKind.String, value, 0);

    public static ColumnValue From(int value) => new(ColumnKind.Int32, null, value);

    public static ColumnValue From(long value) => new(ColumnKind.Int64, null, value);

    public static ColumnValue From(double value) => new(ColumnKind.Double, null, BitConverter.DoubleToInt64Bits(value));

    public static ColumnValue From(bool value) => new(ColumnKind.Boolean, null, value ? 1 : 0);

    public static ColumnValue List(IReadOnlyList<ColumnValue> items) => new(ColumnKind.List, items ?? throw new ArgumentNullException(nameof(items)), 0);

    public static ColumnValue Strings(IEnumerable<string> items) => List(items.Select(From).ToArray());

    public static ColumnValue Struct(params ColumnValue[] fieldValues) => new(ColumnKind.Struct, fieldValues, 0);

    public string AsString() => (string)_reference!;

    public int AsInt32() => (int)_bits;

    public long AsInt64() => _bits;

    public double AsDouble() => BitConverter.Int64BitsToDouble(_bits);

    public bool AsBoolean() => _bits != 0;

    /// <summary>List items, or struct field values in field order.</summary>
    public IReadOnlyList<ColumnValue> Items => (IReadOnlyList<ColumnValue>)_reference!;

    /// <summary>Throws when this value cannot be stored in a column of <paramref name="type"/>.</summary>
    public void CheckFits(ColumnType type, string path)
    {
        if (IsNull)
        {
            return;
        }
        if (Kind != type.Kind)
        {
            throw new ArgumentException($"value for '{path}' is {Kind}, but the column is declared {type.ToSql()}");
        }
        switch (Kind)
        {
            case ColumnKind.List:
                for (var i = 0; i < Items.Count; i++)
                {
                    Items[i].CheckFits(type.Element!, $"{path}[{i}]");
                }
                break;
            case ColumnKind.Struct:
                if (Items.Count != type.Fields.Count)
                {
                    throw new ArgumentException($"value for '{path}' has {Items.Count} fields, but the struct declares {type.Fields.Count}");
                }
                for (var i = 0; i < Items.Count; i++)
                {
                    Items[i].CheckFits(type.Fields[i].Type, $"{path}.{type.Fields[i].Name}");
                }
                break;
        }
    }

    public override string ToString() => IsNull ? "null" : Kind switch
    {
        ColumnKind.String => AsString(),
        ColumnKind.Int32 => AsInt32().ToString(CultureInfo.InvariantCulture),
        ColumnKind.Int64 => AsInt64().ToString(CultureInfo.InvariantCulture),
        ColumnKind.Double => AsDouble().ToString("R", CultureInfo.InvariantCulture),
        ColumnKind.Boolean => AsBoolean() ? "true" : "false",
        ColumnKind.List => "[" + string.Join(", ", Items) + "]",
        _ => new StringBuilder("{").AppendJoin(", ", Items).Append('}').ToString(),
    };
}

/// <summary>
/// Where a row goes when a shard is written with split outputs: kept/, or removed/&lt;reason&gt;/. Reasons are short
/// names (letters, digits, '_' and '-') because they become folder names.
/// </summary>
public readonly record struct RowDecision
{
    private RowDecision(string? removalReason) => RemovalReason = removalReason;

    public static RowDecision Keep { get; }

    /// <summary>Null when the row is kept.</summary>
    public string? RemovalReason { get; }

    public bool IsKept => RemovalReason is null;

    public static RowDecision Remove(string reason)
    {
        if (string.IsNullOrEmpty(reason) || reason.Length > 64 || !reason.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException($"removal reason '{reason}' must be 1–64 letters, digits, '_' or '-' (it names a folder)", nameof(reason));
        }
        return new RowDecision(reason);
    }

    /// <summary>The output route: "kept" or "removed/&lt;reason&gt;".</summary>
    internal string Route => RemovalReason is null ? "kept" : "removed/" + RemovalReason;
}
