using System.Collections.Frozen;
using Riverbed.Inference.Native;

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

    internal unsafe SessionOptionsHandle CreateHandle()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads);
        var handle = new SessionOptionsHandle();
        nint options;
        OrtStatus.Check(OrtApi.CreateSessionOptions(&options), "creating session options");
        handle.Own(options);
        try
        {
            const string context = "setting session options";
            if (IntraOpThreads > 0)
            {
                OrtStatus.Check(OrtApi.SetIntraOpNumThreads(options, IntraOpThreads), context);
            }
            if (InterOpThreads > 0)
            {
                OrtStatus.Check(OrtApi.SetInterOpNumThreads(options, InterOpThreads), context);
            }
            OrtStatus.Check(OrtApi.SetSessionGraphOptimizationLevel(options, (int)OptimizationLevel), context);
            OrtStatus.Check(OrtApi.SetSessionExecutionMode(options, (int)ExecutionMode), context);
            OrtStatus.Check(MemoryPattern ? OrtApi.EnableMemPattern(options) : OrtApi.DisableMemPattern(options), context);
            OrtStatus.Check(CpuArena ? OrtApi.EnableCpuMemArena(options) : OrtApi.DisableCpuMemArena(options), context);
            if (LogLevel is { } level)
            {
                OrtStatus.Check(OrtApi.SetSessionLogSeverityLevel(options, (int)level), context);
            }
            foreach (var (key, value) in ConfigEntries)
            {
                using var keyText = new Utf8String(key);
                using var valueText = new Utf8String(value);
                OrtStatus.Check(OrtApi.AddSessionConfigEntry(options, keyText.Pointer, valueText.Pointer),
                    $"setting session configuration entry '{key}' = '{value}'");
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
