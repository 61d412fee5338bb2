using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// The ONNX Runtime library this process loaded: where it came from, its version, and the execution providers
/// compiled into it. Loading happens once; <see cref="Load"/> explains how to install the library when it is missing.
/// </summary>
public sealed class OrtRuntime
{
    internal OrtRuntime(string libraryPath, string version, string buildInfo, IReadOnlyList<string> availableProviders)
    {
        LibraryPath = libraryPath;
        Version = version;
        BuildInfo = buildInfo;
        AvailableProviders = availableProviders;
    }

    /// <summary>Full path of the loaded libonnxruntime.so.</summary>
    public string LibraryPath { get; }

    /// <summary>The runtime's version string, e.g. "1.29.0".</summary>
    public string Version { get; }

    /// <summary>The runtime's build description (git commit, build type).</summary>
    public string BuildInfo { get; }

    /// <summary>Execution providers compiled into the core library (a CPU build lists only CPUExecutionProvider).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>True for a core library built with CUDA (e.g. the official onnxruntime-linux-x64-gpu release).</summary>
    public bool HasBuiltInCuda => AvailableProviders.Contains(CudaProvider.ProviderName);

    /// <summary>Loads libonnxruntime.so (RIVERBED_ORT_LIB, then .native/onnxruntime/, then beside the app).</summary>
    /// <exception cref="RiverbedException">The library is missing, unloadable or too old.</exception>
    public static OrtRuntime Load() => OrtLibrary.Load();
}
