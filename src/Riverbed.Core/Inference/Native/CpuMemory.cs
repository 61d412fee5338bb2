namespace Riverbed.Inference.Native;

/// <summary>The CPU memory description every tensor over managed memory is created with; made once, kept for the process.</summary>
internal static unsafe class CpuMemory
{
    private const int ArenaAllocator = 1;   // OrtArenaAllocator
    private const int DefaultMemory = 0;    // OrtMemTypeDefault

    private static readonly Lazy<MemoryInfoHandle> Handle = new(Create);

    /// <summary>The OrtMemoryInfo pointer; never released, so it needs no reference counting.</summary>
    public static nint Info => Handle.Value.DangerousGetHandle();

    private static MemoryInfoHandle Create()
    {
        OrtRuntime.Load();
        var handle = new MemoryInfoHandle();
        nint info;
        OrtStatus.Check(OrtApi.CreateCpuMemoryInfo(ArenaAllocator, DefaultMemory, &info), "describing CPU memory");
        handle.Own(info);
        return handle;
    }
}
