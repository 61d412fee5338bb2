using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// The ONNX Runtime environment: logging, thread pools and registered execution-provider libraries that every
/// session shares. ONNX Runtime keeps one per process (a second one shares the first one's settings), so create one
/// at start-up and dispose it after the last session.
/// </summary>
public sealed unsafe class InferenceEnvironment : IDisposable
{
    private InferenceEnvironment(OrtRuntime runtime, EnvHandle handle, OrtLogLevel logLevel)
    {
        Runtime = runtime;
        Handle = handle;
        LogLevel = logLevel;
    }

    public OrtRuntime Runtime { get; }

    public OrtLogLevel LogLevel { get; }

    internal EnvHandle Handle { get; }

    /// <summary>Loads the runtime if needed and creates the environment.</summary>
    /// <exception cref="RiverbedException">The runtime library is missing or the environment cannot be created.</exception>
    public static InferenceEnvironment Create(OrtLogLevel logLevel = OrtLogLevel.Warning)
    {
        var runtime = OrtRuntime.Load();
        var handle = new EnvHandle();
        nint env;
        using (var logId = new Utf8String("riverbed"))
        {
            OrtStatus.Check(OrtApi.CreateEnv((int)logLevel, logId.Pointer, &env), "creating the ONNX Runtime environment");
        }
        handle.Own(env);
        return new InferenceEnvironment(runtime, handle, logLevel);
    }

    /// <summary>Runs <paramref name="action"/> with the environment pointer, holding it alive for the call.</summary>
    internal T Use<T>(Func<nint, T> action)
    {
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        var added = false;
        Handle.DangerousAddRef(ref added);
        try
        {
            return action(Handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                Handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => Handle.Dispose();
}
