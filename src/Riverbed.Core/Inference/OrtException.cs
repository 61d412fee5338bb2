namespace Riverbed.Inference;

/// <summary>
/// An error ONNX Runtime reported, with its code and message. Every runtime error becomes one of these in one place
/// (<c>RuntimeErrors</c>); the message starts with what Riverbed was doing, so it reads on its own.
/// </summary>
public sealed class OrtException : RiverbedException
{
    public OrtException()
    {
    }

    public OrtException(string message)
        : base(message)
    {
    }

    public OrtException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal OrtException(OrtErrorCode code, string runtimeMessage, string? context, bool isAllocationFailure, Exception? innerException = null)
        : base(Compose(code, runtimeMessage, context), innerException)
    {
        ErrorCode = code;
        RuntimeMessage = runtimeMessage;
        IsAllocationFailure = isAllocationFailure;
    }

    public OrtErrorCode ErrorCode { get; } = OrtErrorCode.Fail;

    /// <summary>ONNX Runtime's own message, without Riverbed's context.</summary>
    public string RuntimeMessage { get; } = string.Empty;

    /// <summary>
    /// True when the runtime failed to allocate memory (CPU or device): the one failure a caller may answer by
    /// retrying with a smaller batch. Decided once, where the runtime's error becomes this exception (<c>RuntimeErrors</c>).
    /// </summary>
    public bool IsAllocationFailure { get; }

    private static string Compose(OrtErrorCode code, string message, string? context)
    {
        var codeName = Enum.IsDefined(code) ? code.ToString() : $"error {(int)code}";
        return context is null
            ? $"ONNX Runtime ({codeName}): {message}"
            : $"{context}: ONNX Runtime ({codeName}): {message}";
    }
}
