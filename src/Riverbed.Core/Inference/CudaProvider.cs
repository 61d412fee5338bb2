using System.Globalization;
using System.Text.RegularExpressions;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// Attaches ONNX Runtime's CUDA execution provider to session options: device id, an optional memory limit, and an
/// arena that grows by what is asked (so the limit is reached exactly, and an allocation failure means the batch is
/// too large). Only the GPU package (Microsoft.ML.OnnxRuntime.Gpu.Linux) has it; every failure becomes a
/// <see cref="RiverbedException"/> that names what is missing and what to install.
/// </summary>
internal static partial class CudaProvider
{
    public const string ProviderName = "CUDAExecutionProvider";

    /// <summary>The CUDA provider options for a device (string keys and values, as ONNX Runtime takes them).</summary>
    internal static Dictionary<string, string> OptionsFor(ExecutionProvider provider)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = provider.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = "kSameAsRequested",
        };
        if (provider.MemoryLimitBytes is { } limit)
        {
            options["gpu_mem_limit"] = limit.ToString(CultureInfo.InvariantCulture);
        }
        return options;
    }

    /// <summary>Appends CUDA for <paramref name="provider"/>; returns the description sessions report.</summary>
    public static string Append(Ort.SessionOptions options, ExecutionProvider provider, OrtRuntime runtime)
    {
        var context = $"attaching CUDA device {provider.DeviceId} (ONNX Runtime {runtime.Version}, {runtime.LibraryPath})";
        try
        {
            using var cuda = RuntimeErrors.Call(() => new Ort.OrtCUDAProviderOptions(), context);
            RuntimeErrors.Call(() => cuda.UpdateOptions(OptionsFor(provider)), context);
            RuntimeErrors.Call(() => options.AppendExecutionProvider_CUDA(cuda), context);
        }
        catch (OrtException error)
        {
            throw new RiverbedException(WithAdvice(error.Message), error);
        }
        var limit = provider.MemoryLimitBytes is { } bytes
            ? string.Create(CultureInfo.InvariantCulture, $", memory limit {bytes / (1024.0 * 1024 * 1024):0.##} GiB")
            : string.Empty;
        return $"CUDA device {provider.DeviceId}{limit} (ONNX Runtime {runtime.Version})";
    }

    /// <summary>Adds to ONNX Runtime's message which package the missing library belongs to, and what to do.</summary>
    internal static string WithAdvice(string message)
    {
        var needs = " CUDA needs an NVIDIA GPU and driver, and the CUDA 13 libraries (cudart, cublas, cublasLt, cufft, curand, cuDNN 9) " +
            "on the loader's path, e.g. from a torch cu130 environment: " +
            "export LD_LIBRARY_PATH=$(find /path/to/venv -type d -path '*nvidia*' -name lib | tr '\\n' ':')$LD_LIBRARY_PATH " +
            "(then `ldd libonnxruntime_providers_cuda.so` beside riverbed should list nothing as \"not found\"). " +
            $"Without a GPU, run on the CPU ({SettingNames.Of(Setting.Device)} cpu).";
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
                : name.StartsWith("libcudnn", StringComparison.Ordinal) ? "cuDNN 9 for CUDA 13 (pip: nvidia-cudnn-cu13)"
                : name.StartsWith("libonnxruntime_providers", StringComparison.Ordinal)
                    ? "the Microsoft.ML.OnnxRuntime.Gpu.Linux package (build with ./setup.sh --with-cuda; it sits beside the riverbed binary)"
                : "the CUDA 13 runtime (the CUDA toolkit, or the nvidia-*-cu13 pip wheels)";
            return $"{message} {name} is missing; it comes with {owner}.{needs}";
        }
        if (message.Contains("not enabled in this build", StringComparison.Ordinal))
        {
            return $"{message} This riverbed was built with the CPU package of ONNX Runtime (Microsoft.ML.OnnxRuntime), which has no CUDA. " +
                "Build it with ./setup.sh --with-cuda (Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0, CUDA 13 + cuDNN 9), or publish the GPU build " +
                $"as docs/gpu.md shows.{needs}";
        }
        if (message.Contains("no CUDA-capable device", StringComparison.OrdinalIgnoreCase) ||
            message.Contains("invalid device ordinal", StringComparison.OrdinalIgnoreCase))
        {
            return $"{message} Check that `nvidia-smi` lists the GPU, that CUDA_VISIBLE_DEVICES does not hide it, and that the device number exists (cuda:N counts from 0).";
        }
        if (message.Contains("driver version is insufficient", StringComparison.OrdinalIgnoreCase))
        {
            return $"{message} The NVIDIA driver is older than CUDA 13 needs; update the driver.";
        }
        return message + needs;
    }

    [GeneratedRegex(@"(?<name>lib[\w.+-]+\.so(\.\d+)*): cannot open shared object file")]
    private static partial Regex MissingLibrary();
}
