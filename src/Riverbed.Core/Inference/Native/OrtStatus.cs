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
            return new OrtException(code, message.TrimEnd(), context);
        }
        finally
        {
            OrtApi.ReleaseStatus(status);
        }
    }

    /// <summary>Makes a status the way ONNX Runtime does (used by fault injection, so tests see the real path).</summary>
    public static nint Create(OrtErrorCode code, string message)
    {
        using var text = new Utf8String(message);
        return OrtApi.CreateStatus((int)code, text.Pointer);
    }
}
