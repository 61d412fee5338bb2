namespace Riverbed.Inference.Native;

/// <summary>The one place an <c>OrtStatus*</c> becomes an exception; the status is always released.</summary>
internal static unsafe class OrtStatus
{
    /// <summary>Returns when <paramref name="status"/> is null (success); otherwise releases it and throws.</summary>
    /// <param name="context">What Riverbed was doing, e.g. "loading model /x/model.onnx"; it leads the message.</param>
    public static void Check(nint status, string? context = null)
    {
        if (status != 0)
        {
            throw ToException(status, context);
        }
    }

    /// <summary>Turns a non-null status into an exception and releases it.</summary>
    public static OrtException ToException(nint status, string? context)
    {
        try
        {
            var code = (OrtErrorCode)OrtApi.GetErrorCode(status);
            var message = Utf8.ToString(OrtApi.GetErrorMessage(status)) ?? string.Empty;
            message = message.TrimEnd();
            return new OrtException(code, message, context, IsAllocationFailure(code, message));
        }
        finally
        {
            OrtApi.ReleaseStatus(status);
        }
    }

    /// <summary>
    /// Whether a failed status means "out of memory". ONNX Runtime has no code for it: its allocators throw, and Run
    /// returns the error as ORT_FAIL (the BFC arena's "Failed to allocate memory", CUDA's "out of memory", a caught
    /// std::bad_alloc) or, from some execution providers, ORT_EP_FAIL / ORT_RUNTIME_EXCEPTION with the same words. So
    /// the message decides, but only under the codes a runtime failure can carry: an invalid argument that merely
    /// mentions memory is not one.
    /// </summary>
    internal static bool IsAllocationFailure(OrtErrorCode code, string message) =>
        (code is OrtErrorCode.Fail or OrtErrorCode.RuntimeException or OrtErrorCode.ExecutionProviderFail or OrtErrorCode.EngineError) &&
        (message.Contains("Failed to allocate memory", StringComparison.OrdinalIgnoreCase) ||
         message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) ||
         message.Contains("bad_alloc", StringComparison.Ordinal) ||
         message.Contains("bad allocation", StringComparison.Ordinal));

    /// <summary>Makes a status the way ONNX Runtime does (used by fault injection, so tests see the real path).</summary>
    public static nint Create(OrtErrorCode code, string message)
    {
        using var text = new Utf8String(message);
        return OrtApi.CreateStatus((int)code, text.Pointer);
    }
}
