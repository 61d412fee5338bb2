using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// The one place an ONNX Runtime error becomes Riverbed's <see cref="OrtException"/>: every call into the runtime
/// goes through <see cref="Call{T}"/> (or <see cref="Call"/>), and injected faults go through <see cref="Create"/>,
/// so the code, the message and whether it means "out of memory" are decided the same way for all of them.
/// </summary>
internal static partial class RuntimeErrors
{
    /// <summary>
    /// The managed API reports errors as "[ErrorCode:Name] message", naming codes with its own enum, whose names after
    /// 10 are stale (it calls the C API's ORT_EP_FAIL, code 11, "ShapeInferenceNotRegistered"). The C API's numbers
    /// are what the codes mean, so names are turned back into numbers here.
    /// </summary>
    private static readonly Dictionary<string, OrtErrorCode> ManagedCodeNames = new(StringComparer.Ordinal)
    {
        ["Ok"] = OrtErrorCode.Ok,
        ["Fail"] = OrtErrorCode.Fail,
        ["InvalidArgument"] = OrtErrorCode.InvalidArgument,
        ["NoSuchFile"] = OrtErrorCode.NoSuchFile,
        ["NoModel"] = OrtErrorCode.NoModel,
        ["EngineError"] = OrtErrorCode.EngineError,
        ["RuntimeException"] = OrtErrorCode.RuntimeException,
        ["InvalidProtobuf"] = OrtErrorCode.InvalidProtobuf,
        ["ModelLoaded"] = OrtErrorCode.ModelLoaded,
        ["NotImplemented"] = OrtErrorCode.NotImplemented,
        ["InvalidGraph"] = OrtErrorCode.InvalidGraph,
        ["ShapeInferenceNotRegistered"] = OrtErrorCode.ExecutionProviderFail,
        ["RequirementNotRegistered"] = OrtErrorCode.ModelLoadCanceled,
    };

    /// <summary>Runs a runtime call; a runtime error comes out as an <see cref="OrtException"/> led by <paramref name="context"/>.</summary>
    public static T Call<T>(Func<T> call, string? context)
    {
        try
        {
            return call();
        }
        catch (OnnxRuntimeException error)
        {
            throw FromRuntime(error, context);
        }
    }

    /// <inheritdoc cref="Call{T}"/>
    public static void Call(Action call, string? context)
    {
        try
        {
            call();
        }
        catch (OnnxRuntimeException error)
        {
            throw FromRuntime(error, context);
        }
    }

    /// <summary>Reads the code and ONNX Runtime's own message out of the managed API's exception.</summary>
    public static OrtException FromRuntime(OnnxRuntimeException error, string? context)
    {
        ArgumentNullException.ThrowIfNull(error);
        var match = ManagedPrefix().Match(error.Message);
        var code = OrtErrorCode.Fail;
        var message = error.Message;
        if (match.Success)
        {
            code = ManagedCodeNames.TryGetValue(match.Groups["name"].Value, out var known) ? known : OrtErrorCode.Fail;
            message = error.Message[match.Length..];
        }
        return Create(code, message, context, error);
    }

    /// <summary>An error with this code and runtime message, classified like every other (used by fault injection).</summary>
    public static OrtException Create(OrtErrorCode code, string message, string? context, Exception? inner = null)
    {
        message = message.TrimEnd();
        return new OrtException(code, message, context, IsAllocationFailure(code, message), inner);
    }

    /// <summary>
    /// Whether a runtime error means "out of memory". ONNX Runtime has no code for it: its allocators throw, and Run
    /// returns the error as ORT_FAIL (or ORT_EP_FAIL / ORT_RUNTIME_EXCEPTION from some providers) with the allocator's
    /// words. What it really says (1.32): a BFC arena that hits its limit, "Available memory of X is smaller than
    /// requested bytes of Y"; an arena or allocator the OS refuses, "Failed to allocate memory for requested buffer of
    /// size N"; CUDA, "CUDA failure 2: out of memory" or "cudaErrorMemoryAllocation"; cuBLAS and cuDNN,
    /// "CUBLAS_STATUS_ALLOC_FAILED" / "CUDNN_STATUS_ALLOC_FAILED"; a caught std::bad_alloc. So the message decides,
    /// but only under the codes a runtime failure can carry: an invalid argument that merely mentions memory is not one.
    /// </summary>
    internal static bool IsAllocationFailure(OrtErrorCode code, string message) =>
        code is OrtErrorCode.Fail or OrtErrorCode.RuntimeException or OrtErrorCode.ExecutionProviderFail or OrtErrorCode.EngineError &&
        AllocationWords().IsMatch(message);

    [GeneratedRegex(@"^\[ErrorCode:(?<name>\w+)\]\s*")]
    private static partial Regex ManagedPrefix();

    [GeneratedRegex(@"Available memory of \d+ is smaller than requested bytes of \d+|Failed to allocate memory|out of memory|" +
        @"cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED|bad_alloc|bad allocation",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AllocationWords();
}
