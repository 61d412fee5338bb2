using System.Diagnostics;

namespace Riverbed.Runner;

/// <summary>The most resident memory this process has held so far (Linux: VmHWM), for run summaries and the bench.</summary>
internal static class PeakRss
{
    public static double Mebibytes
    {
        get
        {
            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64 / (1024.0 * 1024.0);
        }
    }
}
