namespace Riverbed.Inference;

/// <summary>The element type ONNX Runtime uses for a .NET element type.</summary>
internal static class TensorElementTypes
{
    public static TensorElementType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return TensorElementType.Float;
        }
        if (typeof(T) == typeof(long))
        {
            return TensorElementType.Int64;
        }
        if (typeof(T) == typeof(int))
        {
            return TensorElementType.Int32;
        }
        if (typeof(T) == typeof(Half))
        {
            return TensorElementType.Float16;
        }
        if (typeof(T) == typeof(double))
        {
            return TensorElementType.Double;
        }
        if (typeof(T) == typeof(byte))
        {
            return TensorElementType.UInt8;
        }
        if (typeof(T) == typeof(sbyte))
        {
            return TensorElementType.Int8;
        }
        if (typeof(T) == typeof(bool))
        {
            return TensorElementType.Bool;
        }
        throw new NotSupportedException(
            $"{typeof(T).Name} has no ONNX tensor element type; use float, Half, long, int, double, byte, sbyte or bool.");
    }
}
