namespace Riverbed.Inference;

/// <summary>A fault a test can make a session raise in place of running.</summary>
internal enum InjectedFault
{
    None,

    /// <summary>The runtime's arena could not serve an allocation (what a batch too large for the device meets).</summary>
    AllocationFailure,

    /// <summary>The runtime refused the inputs (a deterministic, per-request error such as a bad shape).</summary>
    InvalidArgument,
}

/// <summary>Decides, from a Run's inputs, whether that Run fails and how (<see cref="InferenceSession.InjectFault"/>).</summary>
internal delegate InjectedFault FaultTrigger(ReadOnlySpan<NamedTensor> inputs);

/// <summary>
/// Faults a test can make a session raise, with the code and words ONNX Runtime uses, turned into an exception by the
/// same code as every runtime error (<see cref="RuntimeErrors"/>), so code under test cannot tell them from the real thing.
/// Turn them on per session with <c>InferenceSession.InjectFault</c>.
/// </summary>
internal static class InferenceFaults
{
    public static OrtException Raise(InjectedFault fault, string context) => fault switch
    {
        InjectedFault.AllocationFailure => AllocationFailure(context),
        InjectedFault.InvalidArgument => InvalidArgument(context),
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no fault to raise"),
    };

    /// <summary>
    /// What ONNX Runtime 1.32 reports when its arena cannot serve a request during Run: code ORT_FAIL and BFCArena's
    /// words for a request beyond the arena's limit (measured with a real arena limit on the CPU, see
    /// InferenceSessionTests), which <see cref="OrtException.IsAllocationFailure"/> recognises.
    /// </summary>
    public static OrtException AllocationFailure(string context, long requestedBytes = 1L << 34) =>
        RuntimeErrors.Create(OrtErrorCode.Fail,
            "Non-zero status code returned while running MatMul node. Name:'injected_fault' Status Message: " +
            "bfc_arena.cc: void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) " +
            $"Available memory of {requestedBytes / 2} is smaller than requested bytes of {requestedBytes}",
            context);

    /// <summary>What ONNX Runtime reports when an input's shape does not fit the model (ORT_INVALID_ARGUMENT).</summary>
    public static OrtException InvalidArgument(string context) =>
        RuntimeErrors.Create(OrtErrorCode.InvalidArgument,
            "Got invalid dimensions for input: input_ids for the following indices index: 1 Got: 0 Expected: 1 " +
            "Please fix either the inputs/outputs or the model. (injected fault)",
            context);
}
