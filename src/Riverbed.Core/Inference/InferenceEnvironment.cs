using Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// ONNX Runtime's environment: logging, thread pools and shared allocators that every session uses. ONNX Runtime keeps
/// one per process for the process's lifetime (the first one created sets the log level), so this object is a handle
/// on it: disposing it only stops this handle from creating more sessions.
/// </summary>
public sealed class InferenceEnvironment : IDisposable
{
    private static readonly Lock ArenaGate = new();
    private static bool _sharedArenaRegistered;

    private bool _disposed;

    private InferenceEnvironment(OrtRuntime runtime, OrtLogLevel logLevel)
    {
        Runtime = runtime;
        LogLevel = logLevel;
    }

    public OrtRuntime Runtime { get; }

    public OrtLogLevel LogLevel { get; }

    public bool IsDisposed => _disposed;

    /// <summary>Loads the runtime if needed and creates (or joins) the process's environment.</summary>
    /// <exception cref="RiverbedException">The runtime library is missing or the environment cannot be created.</exception>
    public static InferenceEnvironment Create(OrtLogLevel logLevel = OrtLogLevel.Warning) => new(OrtRuntime.Load(logLevel), logLevel);

    /// <summary>
    /// Registers a CPU arena of at most <paramref name="maxBytes"/> bytes in the environment, shared by the sessions
    /// created with <see cref="SessionOptions.UseSharedCpuArena"/> (sessions without it keep their own, unlimited
    /// arena). A Run that needs more fails as ONNX Runtime's arena fails, which is what the allocation-failure
    /// classification and the batchers' halving are tested against. One shared arena per process: disposing the
    /// result removes it (sessions already created keep theirs).
    /// </summary>
    /// <exception cref="InvalidOperationException">A shared arena is already registered.</exception>
    public IDisposable RegisterSharedCpuArena(long maxBytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, uint.MaxValue);
        lock (ArenaGate)
        {
            if (_sharedArenaRegistered)
            {
                throw new InvalidOperationException("a shared CPU arena is already registered in this process");
            }
            // arena_extend_strategy 1 (kSameAsRequested): grow by what is asked, so the limit is reached exactly.
            using var config = new OrtArenaCfg((uint)maxBytes, 1, -1, -1);
            using var memory = CpuArenaMemory();
            RuntimeErrors.Call(() => OrtEnv.Instance().CreateAndRegisterAllocator(memory, config), "registering a shared CPU arena");
            _sharedArenaRegistered = true;
        }
        return new SharedArena();
    }

    public void Dispose() => _disposed = true;

    /// <summary>The CPU provider's own allocator is an arena on device 0: a shared allocator replaces it only when it matches.</summary>
    private static OrtMemoryInfo CpuArenaMemory() =>
        new(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);

    private sealed class SharedArena : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }
            lock (ArenaGate)
            {
                using var memory = CpuArenaMemory();
                RuntimeErrors.Call(() => OrtEnv.Instance().UnregisterAllocator(memory), "removing the shared CPU arena");
                _sharedArenaRegistered = false;
            }
        }
    }
}
