using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>What a session was attached to: a description for reports, and where outputs left "on the device" go.</summary>
internal sealed class ExecutionDevice : IDisposable
{
    private readonly MemoryInfoHandle? _ownedMemoryInfo;

    public ExecutionDevice(string description, nint memoryInfo, MemoryInfoHandle? ownedMemoryInfo)
    {
        Description = description;
        MemoryInfo = memoryInfo;
        _ownedMemoryInfo = ownedMemoryInfo;
    }

    public static ExecutionDevice Cpu => new("CPU", CpuMemory.Info, null);

    public string Description { get; }

    /// <summary>An OrtMemoryInfo for the device's own memory (the CPU's for a CPU session).</summary>
    public nint MemoryInfo { get; }

    public void Dispose() => _ownedMemoryInfo?.Dispose();
}
