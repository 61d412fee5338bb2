namespace Riverbed.Bench.Legacy;

/// <summary>The old binding's status check: a failed call becomes an exception, and the status is released.</summary>
internal static unsafe class OrtStatus
{
    public static void Check(nint status, string context)
    {
        if (status == 0)
        {
            return;
        }
        try
        {
            throw new InvalidOperationException($"{context}: {Utf8.ToString(OrtApi.GetErrorMessage(status))}");
        }
        finally
        {
            OrtApi.ReleaseStatus(status);
        }
    }
}
