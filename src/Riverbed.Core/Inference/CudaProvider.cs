using System.Globalization;
using System.Text.RegularExpressions;
using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// Attaches the CUDA execution provider to session options, in whichever of the two ways the loaded runtime
/// supports. A core library built with CUDA (the official GPU release) lists CUDAExecutionProvider among its
/// providers and takes the classic options API. The CPU core Riverbed installs does not; it loads the provider as a
/// plugin library instead: RegisterExecutionProviderLibrary → GetEpDevices → SessionOptionsAppendExecutionProvider_V2.
/// </summary>
internal static unsafe partial class CudaProvider
{
    public const string ProviderName = "CUDAExecutionProvider";
    public const string LibraryVariable = "RIVERBED_ORT_CUDA_PROVIDER";
    private const string LibraryFile = "libonnxruntime_providers_cuda.so";
    private const string RegistrationName = "riverbed-cuda";
    private const int DeviceAllocator = 0;  // OrtDeviceAllocator
    private const int DefaultMemory = 0;    // OrtMemTypeDefault, and OrtDeviceMemoryType_DEFAULT

    // ONNX Runtime keeps one environment per process, so registration is serialised per process, not per wrapper.
    private static readonly Lock RegistrationGate = new();

    public static ExecutionDevice Append(SessionOptionsHandle options, InferenceEnvironment environment, int deviceId) =>
        environment.Runtime.HasBuiltInCuda
            ? AppendBuiltIn(options, environment.Runtime, deviceId)
            : AppendPlugin(options, environment, deviceId);

    internal static ExecutionDevice AppendBuiltIn(SessionOptionsHandle options, OrtRuntime runtime, int deviceId)
    {
        var context = $"attaching CUDA device {deviceId} (CUDA built into {runtime.LibraryPath})";
        nint cudaOptions;
        CheckWithAdvice(OrtApi.CreateCudaProviderOptions(&cudaOptions), context, runtime.LibraryPath);
        try
        {
            using var key = new Utf8String("device_id");
            using var value = new Utf8String(deviceId.ToString(CultureInfo.InvariantCulture));
            var keys = key.Pointer;
            var values = value.Pointer;
            CheckWithAdvice(OrtApi.UpdateCudaProviderOptions(cudaOptions, &keys, &values, 1), context, runtime.LibraryPath);
            CheckWithAdvice(OrtApi.SessionOptionsAppendExecutionProviderCudaV2(options.DangerousGetHandle(), cudaOptions), context, runtime.LibraryPath);
        }
        finally
        {
            OrtApi.ReleaseCudaProviderOptions(cudaOptions);
        }
        var memory = new MemoryInfoHandle();
        nint info;
        using (var name = new Utf8String("Cuda"))
        {
            OrtStatus.Check(OrtApi.CreateMemoryInfo(name.Pointer, DeviceAllocator, deviceId, DefaultMemory, &info), context);
        }
        memory.Own(info);
        return new ExecutionDevice($"CUDA device {deviceId} (CUDA built into {runtime.LibraryPath})", info, memory);
    }

    private static ExecutionDevice AppendPlugin(SessionOptionsHandle options, InferenceEnvironment environment, int deviceId)
    {
        var library = FindLibrary(environment.Runtime);
        return environment.Use(env =>
        {
            nint device;
            lock (RegistrationGate)
            {
                var devices = CudaDevices(env);
                var seen = new List<string>();
                if (devices.Count == 0)
                {
                    Register(env, library);
                    devices = CudaDevices(env, seen);
                }
                if (devices.Count == 0)
                {
                    throw new RiverbedException(
                        $"The CUDA execution provider '{library}' loaded, but it found no CUDA device " +
                        $"(devices listed: {(seen.Count == 0 ? "none" : string.Join(", ", seen))}). " +
                        "Check that `nvidia-smi` lists a GPU, that the NVIDIA driver supports CUDA 13, and that CUDA_VISIBLE_DEVICES does not hide it.");
                }
                device = SelectDevice(devices, deviceId);
            }
            OrtStatus.Check(OrtApi.SessionOptionsAppendExecutionProviderV2(options.DangerousGetHandle(), env, &device, 1, null, null, 0),
                $"attaching CUDA device {deviceId} (provider library {library})");
            var memoryInfo = OrtApi.EpDeviceMemoryInfo(device, DefaultMemory);
            MemoryInfoHandle? owned = null;
            if (memoryInfo == 0)
            {
                owned = new MemoryInfoHandle();
                using var name = new Utf8String("Cuda");
                OrtStatus.Check(OrtApi.CreateMemoryInfo(name.Pointer, DeviceAllocator, deviceId, DefaultMemory, &memoryInfo),
                    "describing CUDA device memory");
                owned.Own(memoryInfo);
            }
            return new ExecutionDevice($"CUDA device {deviceId} (provider library {library})", memoryInfo, owned);
        });
    }

    private static string FindLibrary(OrtRuntime runtime)
    {
        string? library;
        try
        {
            library = NativeLibraryLocator.Find(LibraryVariable, "onnxruntime-cuda", LibraryFile);
        }
        catch (FileNotFoundException error)
        {
            throw new RiverbedException($"CUDA was requested, but {error.Message}", error);
        }
        return library ?? throw new RiverbedException(
            $"CUDA was requested, but the ONNX Runtime in use ('{runtime.LibraryPath}') is a CPU build and the CUDA execution provider " +
            $"library {LibraryFile} was not found. Run ./setup.sh --with-cuda to install it under .native/onnxruntime-cuda/, set " +
            $"{LibraryVariable} to its path, or set {OrtLibrary.EnvironmentVariable} to a CUDA build of ONNX Runtime (onnxruntime-linux-x64-gpu).");
    }

    private static void Register(nint env, string library)
    {
        using var name = new Utf8String(RegistrationName);
        using var path = new Utf8String(library);
        CheckWithAdvice(OrtApi.RegisterExecutionProviderLibrary(env, name.Pointer, path.Pointer),
            $"loading the CUDA execution provider '{library}'", library);
    }

    /// <summary>Like <see cref="OrtStatus.Check"/>, but the error also says what to do about CUDA.</summary>
    private static void CheckWithAdvice(nint status, string context, string library)
    {
        if (status != 0)
        {
            var error = OrtStatus.ToException(status, context);
            throw new RiverbedException(WithAdvice(error.Message, library), error);
        }
    }

    /// <summary>The CUDA provider's devices, in its order; <paramref name="seen"/> gets every provider name listed.</summary>
    private static List<nint> CudaDevices(nint env, List<string>? seen = null)
    {
        nint* devices;
        nuint count;
        OrtStatus.Check(OrtApi.GetEpDevices(env, &devices, &count), "listing execution-provider devices");
        var found = new List<nint>();
        for (nuint i = 0; i < count; i++)
        {
            var name = Utf8.ToString(OrtApi.EpDeviceEpName(devices[i])) ?? string.Empty;
            seen?.Add(name);
            // The plugin names itself CUDAExecutionProvider; accept a renamed build rather than miss its devices.
            if (name == ProviderName || name.Contains("cuda", StringComparison.OrdinalIgnoreCase))
            {
                found.Add(devices[i]);
            }
        }
        return found;
    }

    /// <summary>
    /// The device whose provider options say <c>device_id = N</c>; when the provider sets no such option, the N-th
    /// CUDA device in the order the provider listed them (its own enumeration order, which is CUDA's).
    /// </summary>
    private static nint SelectDevice(List<nint> devices, int deviceId)
    {
        var wanted = deviceId.ToString(CultureInfo.InvariantCulture);
        var anyTagged = false;
        using var key = new Utf8String("device_id");
        foreach (var device in devices)
        {
            var options = OrtApi.EpDeviceEpOptions(device);
            var value = options == 0 ? null : Utf8.ToString(OrtApi.GetKeyValue(options, key.Pointer));
            if (value is not null)
            {
                anyTagged = true;
                if (value == wanted)
                {
                    return device;
                }
            }
        }
        if (!anyTagged && deviceId < devices.Count)
        {
            return devices[deviceId];
        }
        throw new RiverbedException(
            $"CUDA device {deviceId} does not exist: the CUDA execution provider sees {devices.Count} device(s), numbered 0 to {devices.Count - 1}.");
    }

    /// <summary>Adds to the loader's message which package the missing library belongs to, and what to do.</summary>
    internal static string WithAdvice(string message, string library)
    {
        const string needs = " CUDA needs an NVIDIA GPU and driver, and the CUDA 13 libraries (cudart, cublas, cublasLt, curand, cuDNN 9) " +
            "on the loader's path, e.g. from a torch cu130 environment: " +
            "export LD_LIBRARY_PATH=$(find /path/to/venv -type d -path '*nvidia*' -name lib | tr '\\n' ':')$LD_LIBRARY_PATH. " +
            "Without a GPU, run on the CPU (--device cpu).";
        var missing = MissingLibrary().Match(message);
        message = message.TrimEnd();
        if (!message.EndsWith('.'))
        {
            message += ".";
        }
        if (missing.Success)
        {
            var name = missing.Groups["name"].Value;
            var owner = name.StartsWith("libcuda.so", StringComparison.Ordinal) ? "the NVIDIA driver"
                : name.StartsWith("libcudnn", StringComparison.Ordinal) ? "cuDNN 9 for CUDA 13"
                : "the CUDA 13 runtime (the CUDA toolkit, or the nvidia-* pip wheels)";
            return $"{message} {name} is missing; it comes with {owner}.{needs}";
        }
        if (message.Contains("not enabled in this build", StringComparison.Ordinal))
        {
            return $"{message} '{library}' is an ONNX Runtime without CUDA. Point {OrtLibrary.EnvironmentVariable} at the libonnxruntime.so " +
                $"of an onnxruntime-linux-x64-gpu release, or leave it unset and install the CUDA provider plugin with ./setup.sh --with-cuda.{needs}";
        }
        if (message.Contains("CreateEpFactories", StringComparison.Ordinal) || message.Contains("undefined symbol", StringComparison.Ordinal))
        {
            return $"{message} '{library}' is not a CUDA execution provider built for this ONNX Runtime; use the one " +
                $"./setup.sh --with-cuda installs (ONNX Runtime 1.{OrtApi.Version}, CUDA 13) or set {LibraryVariable} to it.";
        }
        return message + needs;
    }

    [GeneratedRegex(@"(?<name>lib[\w.+-]+\.so(\.\d+)*): cannot open shared object file")]
    private static partial Regex MissingLibrary();
}
