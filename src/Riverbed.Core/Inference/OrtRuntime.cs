using Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// The ONNX Runtime this process loaded (from the Microsoft.ML.OnnxRuntime or Microsoft.ML.OnnxRuntime.Gpu.Linux
/// package, whichever the build referenced): where its library lies, its version, and the execution providers compiled
/// into it. Loading happens once; <see cref="Load()"/> explains what to do when the library is missing.
/// </summary>
public sealed class OrtRuntime
{
    private static readonly Lock Gate = new();
    private static OrtRuntime? _loaded;

    internal OrtRuntime(string libraryPath, string version, IReadOnlyList<string> availableProviders)
    {
        LibraryPath = libraryPath;
        Version = version;
        AvailableProviders = availableProviders;
    }

    /// <summary>Full path of the loaded libonnxruntime.so (as the process maps it), or "libonnxruntime.so" if unknown.</summary>
    public string LibraryPath { get; }

    /// <summary>The runtime's version string, e.g. "1.32.0".</summary>
    public string Version { get; }

    /// <summary>Execution providers compiled into the core library (the CPU package lists no CUDAExecutionProvider).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>True for the GPU package's library (Microsoft.ML.OnnxRuntime.Gpu.Linux), which can attach CUDA.</summary>
    public bool HasBuiltInCuda => AvailableProviders.Contains(CudaProvider.ProviderName);

    /// <summary>Creates ONNX Runtime's process-wide environment if nothing has yet, and describes the library.</summary>
    /// <exception cref="RiverbedException">The native library is missing or cannot be loaded.</exception>
    public static OrtRuntime Load()
    {
        var loaded = Volatile.Read(ref _loaded);
        if (loaded is not null)
        {
            return loaded;
        }
        lock (Gate)
        {
            return _loaded ??= LoadOnce(OrtLogLevel.Warning);
        }
    }

    /// <summary>As <see cref="Load()"/>, creating the environment with this log level when this call is the first.</summary>
    internal static OrtRuntime Load(OrtLogLevel logLevel)
    {
        lock (Gate)
        {
            return _loaded ??= LoadOnce(logLevel);
        }
    }

    private static OrtRuntime LoadOnce(OrtLogLevel logLevel)
    {
        OrtEnv environment;
        try
        {
            environment = OrtEnv.IsCreated
                ? OrtEnv.Instance()
                : RuntimeErrors.Call(() =>
                {
                    var options = new EnvironmentCreationOptions { logId = "riverbed", logLevel = (OrtLoggingLevel)logLevel };
                    return OrtEnv.CreateInstanceWithOptions(ref options);
                }, "creating the ONNX Runtime environment");
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            throw new RiverbedException(
                $"ONNX Runtime's native library (libonnxruntime.so) could not be loaded: {(error.InnerException ?? error).Message} " +
                "It ships with the Microsoft.ML.OnnxRuntime package (Microsoft.ML.OnnxRuntime.Gpu.Linux for CUDA) beside the riverbed " +
                "binary: rebuild with ./setup.sh (or publish again) so bin/ holds libonnxruntime.so for linux-x64.", error);
        }
        var version = RuntimeErrors.Call(environment.GetVersionString, "reading the ONNX Runtime version");
        var providers = RuntimeErrors.Call(environment.GetAvailableProviders, "listing ONNX Runtime's execution providers");
        return new OrtRuntime(FindMappedLibrary() ?? "libonnxruntime.so", version, providers);
    }

    /// <summary>
    /// Where the loader found libonnxruntime.so: .NET resolves it from the package's runtime assets, so the only
    /// reliable answer is the process's own map of loaded files.
    /// </summary>
    private static string? FindMappedLibrary()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.EndsWith("/libonnxruntime.so", StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc hidden: the path is only shown to users, so "unknown" is an acceptable answer.
        }
        return null;
    }
}
