using System.Runtime.InteropServices;

namespace Riverbed.Bench.Legacy;

/// <summary>
/// The old binding's loader, pointed at a given libonnxruntime.so: the bench passes the one the official package put
/// beside the app, so both paths run the same native code and only the binding differs.
/// </summary>
internal static unsafe class OrtLibrary
{
    public static string Attach(string path)
    {
        var handle = NativeLibrary.Load(path);
        var getApiBase = NativeLibrary.GetExport(handle, "OrtGetApiBase");
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        var apiBase = ((delegate* unmanaged<void**>)getApiBase)();
        var version = Utf8.ToString(((delegate* unmanaged<byte*>)apiBase[1])()) ?? "unknown";
        var table = ((delegate* unmanaged<uint, void*>)apiBase[0])(OrtApi.Version);
        if (table is null)
        {
            throw new InvalidOperationException($"ONNX Runtime {version} at '{path}' does not offer C API version {OrtApi.Version}");
        }
        OrtApi.Attach(table);
        return version;
    }
}
