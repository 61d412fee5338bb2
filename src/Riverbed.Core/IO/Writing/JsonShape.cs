using System.Text.Json;
using Riverbed.IO.DuckDb;

namespace Riverbed.IO.Writing;

/// <summary>
/// The column type inferred for JSON values when JSON records are written to Parquet, so original fields keep real
/// types: booleans, BIGINT (integers that fit), DOUBLE (other numbers, or integers mixed with them, when every one of
/// them is exactly a double: its text is what the double prints back), VARCHAR, lists
/// and structs, merged over every row of the shard. Anything that cannot share one type — a string in one row and an
/// object in another, an empty object, numbers beyond double range, struct keys that differ only in case (DuckDB names
/// are case-insensitive), numbers a double would round (integers beyond int64, or past 2^53 beside fractions, or more
/// digits than a double keeps) — becomes a JSON column holding the value's exact JSON text, so nothing is lost or coerced.
/// Values that are null in every row are also JSON (null).
/// </summary>
internal sealed class JsonShape
{
    private readonly Dictionary<string, JsonShape> _fieldsByName = new(StringComparer.Ordinal);
    private readonly List<string> _fieldOrder = [];

    /// <summary>2^53: integers beyond it are not all doubles.</summary>
    private const long ExactDoubleLimit = 1L << 53;

    /// <summary>Some number seen here would change as a DOUBLE, so a DOUBLE column is not allowed.</summary>
    private bool _roundsAsDouble;

    public ShapeKind Kind { get; private set; } = ShapeKind.Unknown;

    public JsonShape? Element { get; private set; }

    public IReadOnlyList<string> FieldOrder => _fieldOrder;

    public JsonShape Field(string name) => _fieldsByName[name];

    public void Observe(JsonElement value)
    {
        if (Kind == ShapeKind.Json)
        {
            return;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return;
            case JsonValueKind.True or JsonValueKind.False:
                Become(ShapeKind.Boolean);
                return;
            case JsonValueKind.String:
                Become(ShapeKind.String);
                return;
            case JsonValueKind.Number:
                if (value.TryGetInt64(out var integer))
                {
                    _roundsAsDouble |= integer is > ExactDoubleLimit or < -ExactDoubleLimit;
                    if (Kind != ShapeKind.Double)
                    {
                        Become(ShapeKind.Int64);
                    }
                }
                else if (value.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    _roundsAsDouble |= !PrintsBack(value.GetRawText(), number);
                    Kind = Kind is ShapeKind.Unknown or ShapeKind.Int64 or ShapeKind.Double ? ShapeKind.Double : ShapeKind.Json;
                }
                else
                {
                    Kind = ShapeKind.Json;
                }
                if (Kind == ShapeKind.Double && _roundsAsDouble)
                {
                    // Never round: the exact text is kept instead.
                    Kind = ShapeKind.Json;
                }
                return;
            case JsonValueKind.Array:
                Become(ShapeKind.List);
                if (Kind == ShapeKind.List)
                {
                    Element ??= new JsonShape();
                    foreach (var item in value.EnumerateArray())
                    {
                        Element.Observe(item);
                    }
                }
                return;
            case JsonValueKind.Object:
                Become(ShapeKind.Struct);
                if (Kind == ShapeKind.Struct)
                {
                    foreach (var property in value.EnumerateObject())
                    {
                        if (!_fieldsByName.TryGetValue(property.Name, out var field))
                        {
                            field = new JsonShape();
                            _fieldsByName.Add(property.Name, field);
                            _fieldOrder.Add(property.Name);
                        }
                        field.Observe(property.Value);
                    }
                }
                return;
        }
    }

    /// <summary>
    /// Adds what another shape observed, as if its values had been observed here, in order: the reader observes each
    /// record's shape while it has the record parsed, and the writer merges them (row order) without parsing again.
    /// </summary>
    public void Merge(JsonShape other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Kind == ShapeKind.Json)
        {
            return;
        }
        switch (other.Kind)
        {
            case ShapeKind.Unknown:
                return; // Only nulls: they change nothing.
            case ShapeKind.Boolean or ShapeKind.String:
                Become(other.Kind);
                return;
            case ShapeKind.Int64:
                _roundsAsDouble |= other._roundsAsDouble;
                if (Kind != ShapeKind.Double)
                {
                    Become(ShapeKind.Int64);
                }
                break;
            case ShapeKind.Double:
                _roundsAsDouble |= other._roundsAsDouble;
                Kind = Kind is ShapeKind.Unknown or ShapeKind.Int64 or ShapeKind.Double ? ShapeKind.Double : ShapeKind.Json;
                break;
            case ShapeKind.List:
                Become(ShapeKind.List);
                if (Kind == ShapeKind.List && other.Element is { } element)
                {
                    Element ??= new JsonShape();
                    Element.Merge(element);
                }
                else if (Kind == ShapeKind.List)
                {
                    Element ??= new JsonShape(); // Only empty lists so far, as observing them leaves it.
                }
                return;
            case ShapeKind.Struct:
                Become(ShapeKind.Struct);
                if (Kind == ShapeKind.Struct)
                {
                    foreach (var name in other._fieldOrder)
                    {
                        if (!_fieldsByName.TryGetValue(name, out var field))
                        {
                            field = new JsonShape();
                            _fieldsByName.Add(name, field);
                            _fieldOrder.Add(name);
                        }
                        field.Merge(other._fieldsByName[name]);
                    }
                }
                return;
            default:
                Kind = ShapeKind.Json;
                return;
        }
        if (Kind == ShapeKind.Double && _roundsAsDouble)
        {
            Kind = ShapeKind.Json;
        }
    }

    /// <summary>The shape as it will be written: structs with no fields or case-clashing names fall back to JSON.</summary>
    public ShapeKind EffectiveKind => Kind switch
    {
        ShapeKind.Unknown => ShapeKind.Json,
        ShapeKind.Struct when _fieldOrder.Count == 0 || HasCaseClash(_fieldOrder) => ShapeKind.Json,
        _ => Kind,
    };

    public string ToSql() => EffectiveKind switch
    {
        ShapeKind.Boolean => "BOOLEAN",
        ShapeKind.Int64 => "BIGINT",
        ShapeKind.Double => "DOUBLE",
        ShapeKind.String => "VARCHAR",
        ShapeKind.List => Element!.ToSql() + "[]",
        ShapeKind.Struct => "STRUCT(" + string.Join(", ", _fieldOrder.Select(name => DuckDbSql.Identifier(name) + " " + _fieldsByName[name].ToSql())) + ")",
        _ => "JSON",
    };

    /// <summary>
    /// True when the double nearest <paramref name="text"/> prints back as the same number (e.g. "0.1", "2.5e3"), so
    /// storing it as a DOUBLE changes nothing a reader sees; false for "9007199254740993" or 20 significant digits.
    /// Compared as decimal digits and exponent, never through another rounding type.
    /// </summary>
    private static bool PrintsBack(string text, double number) =>
        Canonical(text) == Canonical(number.ToString("R", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A JSON number as sign, significant digits and power of ten: "-1.50e2" and "-150" give the same.</summary>
    private static (bool Negative, string Digits, long Exponent) Canonical(string text)
    {
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        var e = body.IndexOfAny(['e', 'E']);
        long exponent = e < 0 ? 0 : long.Parse(body[(e + 1)..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? body : body[..e];
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            exponent -= mantissa.Length - dot - 1;
            mantissa = mantissa.Remove(dot, 1);
        }
        var digits = mantissa.TrimStart('0');
        var trimmed = digits.TrimEnd('0');
        exponent += digits.Length - trimmed.Length;
        return trimmed.Length == 0 ? (false, "0", 0) : (negative, trimmed, exponent);
    }

    public static bool HasCaseClash(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return names.Any(name => !seen.Add(name));
    }

    private void Become(ShapeKind kind)
    {
        if (Kind == ShapeKind.Unknown)
        {
            Kind = kind;
        }
        else if (Kind != kind)
        {
            Kind = ShapeKind.Json;
        }
    }
}

internal enum ShapeKind
{
    Unknown,
    Boolean,
    Int64,
    Double,
    String,
    List,
    Struct,
    Json,
}
