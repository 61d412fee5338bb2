using System.Collections.Frozen;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// How a session is built. Immutable: set what you need with an object initializer; anything left alone keeps ONNX
/// Runtime's default, except where noted.
/// </summary>
public sealed class SessionOptions
{
    /// <summary>Operator domains ONNX Runtime implements itself; anything else would need a custom-operator library.</summary>
    public static IReadOnlySet<string> BuiltInOperatorDomains { get; } =
        new[] { "", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc" }.ToFrozenSet(StringComparer.Ordinal);

    public static SessionOptions Default { get; } = new();

    /// <summary>Threads for one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across independent operators (only used by <see cref="ExecutionMode.Parallel"/>); 0 = default.</summary>
    public int InterOpThreads { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    public ExecutionMode ExecutionMode { get; init; } = ExecutionMode.Sequential;

    /// <summary>Plan memory from the first Run's shapes and reuse the plan (ONNX Runtime's default: on).</summary>
    public bool MemoryPattern { get; init; } = true;

    /// <summary>Serve CPU allocations from an arena that keeps memory between Runs (default: on).</summary>
    public bool CpuArena { get; init; } = true;

    /// <summary>The session's own log threshold; null follows the environment's.</summary>
    public OrtLogLevel? LogLevel { get; init; }

    /// <summary>
    /// Session configuration entries (<c>AddSessionConfigEntry</c>), e.g. <c>session.intra_op.allow_spinning = 0</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConfigEntries { get; init; } = FrozenDictionary<string, string>.Empty;

    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>
    /// Operator domains a model may use. Riverbed checks the model file before ONNX Runtime reads it and refuses
    /// operators from any other domain (custom operators run native code from libraries Riverbed never loads).
    /// </summary>
    public IReadOnlySet<string> AllowedOperatorDomains { get; init; } = BuiltInOperatorDomains;

    /// <summary>
    /// Allow nodes that carry or call native code: <c>EPContext</c> (a blob compiled for one execution provider)
    /// and <c>PyOp</c>. Off by default: a model file from elsewhere should not bring its own machine code.
    /// </summary>
    public bool AllowNativeCodeNodes { get; init; }

    /// <summary>
    /// Take CPU memory from the arena registered with <see cref="InferenceEnvironment.RegisterSharedCpuArena"/>
    /// (ONNX Runtime's <c>session.use_env_allocators</c>) instead of one of the session's own.
    /// </summary>
    public bool UseSharedCpuArena { get; init; }

    /// <summary>ONNX Runtime's session options for these settings, without an execution provider (see <c>CudaProvider</c>).</summary>
    internal Ort.SessionOptions CreateNative()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads);
        var native = RuntimeErrors.Call(() => new Ort.SessionOptions(), "creating session options");
        try
        {
            RuntimeErrors.Call(() =>
            {
                if (IntraOpThreads > 0)
                {
                    native.IntraOpNumThreads = IntraOpThreads;
                }
                if (InterOpThreads > 0)
                {
                    native.InterOpNumThreads = InterOpThreads;
                }
                // Riverbed's enums carry ONNX Runtime's numbers.
                native.GraphOptimizationLevel = (Ort.GraphOptimizationLevel)(int)OptimizationLevel;
                native.ExecutionMode = (Ort.ExecutionMode)(int)ExecutionMode;
                native.EnableMemoryPattern = MemoryPattern;
                native.EnableCpuMemArena = CpuArena;
                if (LogLevel is { } level)
                {
                    native.LogSeverityLevel = (Ort.OrtLoggingLevel)(int)level;
                }
                if (UseSharedCpuArena)
                {
                    native.AddSessionConfigEntry("session.use_env_allocators", "1");
                }
            }, "setting session options");
            foreach (var (key, value) in ConfigEntries)
            {
                RuntimeErrors.Call(() => native.AddSessionConfigEntry(key, value), $"setting session configuration entry '{key}' = '{value}'");
            }
            return native;
        }
        catch
        {
            native.Dispose();
            throw;
        }
    }
}
