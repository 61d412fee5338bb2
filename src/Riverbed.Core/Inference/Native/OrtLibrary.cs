using System.Runtime.InteropServices;

namespace Riverbed.Inference.Native;

/// <summary>
/// Loads libonnxruntime.so once per process and attaches <see cref="OrtApi"/> to its function table. Only a successful
/// load is remembered, so a user who fixes the installation can retry in the same process.
/// </summary>
internal static unsafe class OrtLibrary
{
    public const string EnvironmentVariable = "RIVERBED_ORT_LIB";

    private static readonly Lock Gate = new();
    private static OrtRuntime? _loaded;

    public static OrtRuntime Load()
    {
        var loaded = Volatile.Read(ref _loaded);
        if (loaded is not null)
        {
            return loaded;
        }
        lock (Gate)
        {
            return _loaded ??= LoadOnce();
        }
    }

    private static OrtRuntime LoadOnce()
    {
        string? path;
        try
        {
            path = NativeLibraryLocator.Find(EnvironmentVariable, "onnxruntime", "libonnxruntime.so");
        }
        catch (FileNotFoundException error)
        {
            throw new RiverbedException($"ONNX Runtime could not be loaded: {error.Message} " +
                NativeLibraryLocator.HowToInstall(EnvironmentVariable), error);
        }
        if (path is null)
        {
            throw new RiverbedException("ONNX Runtime (libonnxruntime.so) was not found. " +
                NativeLibraryLocator.HowToInstall(EnvironmentVariable));
        }

        nint handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (Exception error) when (error is DllNotFoundException or BadImageFormatException)
        {
            throw new RiverbedException($"ONNX Runtime at '{path}' could not be loaded: {error.Message} " +
                NativeLibraryLocator.HowToInstall(EnvironmentVariable), error);
        }

        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getApiBase))
        {
            throw new RiverbedException($"'{path}' does not export OrtGetApiBase, so it is not an ONNX Runtime library. " +
                NativeLibraryLocator.HowToInstall(EnvironmentVariable));
        }

        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = ((delegate* unmanaged<void**>)getApiBase)();
        var version = Utf8.ToString(((delegate* unmanaged<byte*>)apiBase[1])()) ?? "unknown";
        var table = ((delegate* unmanaged<uint, void*>)apiBase[0])(OrtApi.Version);
        if (table is null)
        {
            throw new RiverbedException($"ONNX Runtime {version} at '{path}' does not offer C API version {OrtApi.Version}; " +
                $"Riverbed needs ONNX Runtime 1.{OrtApi.Version} or newer. " + NativeLibraryLocator.HowToInstall(EnvironmentVariable));
        }
        OrtApi.Attach(table);
        return new OrtRuntime(path, version, Utf8.ToString(OrtApi.GetBuildInfoString()) ?? string.Empty, ReadAvailableProviders());
    }

    private static string[] ReadAvailableProviders()
    {
        byte** names;
        int count;
        OrtStatus.Check(OrtApi.GetAvailableProviders(&names, &count));
        try
        {
            var providers = new string[count];
            for (var i = 0; i < count; i++)
            {
                providers[i] = Utf8.ToString(names[i]) ?? string.Empty;
            }
            return providers;
        }
        finally
        {
            OrtStatus.Check(OrtApi.ReleaseAvailableProviders(names, count));
        }
    }
}
