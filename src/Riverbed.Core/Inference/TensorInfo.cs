using System.Globalization;
using System.Text;

namespace Riverbed.Inference;

/// <summary>One dimension of a declared shape: a fixed size, or unknown until Run (often with a symbolic name).</summary>
public readonly record struct TensorDimension(long Size, string? Symbol)
{
    /// <summary>True when the size is only known at Run time (ONNX Runtime reports -1).</summary>
    public bool IsDynamic => Size < 0;

    public override string ToString() => IsDynamic
        ? (string.IsNullOrEmpty(Symbol) ? "?" : Symbol)
        : Size.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A model input or output as the session declares it: name, element type and shape.</summary>
public sealed class TensorInfo
{
    internal TensorInfo(string name, bool isTensor, TensorElementType elementType, IReadOnlyList<TensorDimension> dimensions)
    {
        Name = name;
        IsTensor = isTensor;
        ElementType = elementType;
        Dimensions = dimensions;
    }

    public string Name { get; }

    /// <summary>False for sequences, maps and other non-tensor values, which Riverbed does not feed or read.</summary>
    public bool IsTensor { get; }

    public TensorElementType ElementType { get; }

    public IReadOnlyList<TensorDimension> Dimensions { get; }

    public int Rank => Dimensions.Count;

    /// <summary>Like <c>input_ids: int64[batch, sequence]</c>.</summary>
    public override string ToString()
    {
        if (!IsTensor)
        {
            return $"{Name}: (not a tensor)";
        }
        var text = new StringBuilder().Append(Name).Append(": ").Append(ElementType.DisplayName()).Append('[');
        text.AppendJoin(", ", Dimensions);
        return text.Append(']').ToString();
    }
}
