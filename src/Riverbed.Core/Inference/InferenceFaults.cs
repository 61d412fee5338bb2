using Riverbed.Inference.Native;

namespace Riverbed.Inference;

/// <summary>
/// Faults a test can make a session raise, built the way ONNX Runtime builds them (a real OrtStatus, turned into an
/// exception by the same code as every other status), so code under test cannot tell them from the real thing.
/// Turn them on per session with <c>InferenceSession.InjectFault</c>.
/// </summary>
internal static class InferenceFaults
{
    /// <summary>
    /// What ONNX Runtime 1.29 reports when its arena cannot serve a request during Run (code ORT_FAIL and the
    /// message below, as measured on the CPU arena), which <see cref="OrtException.IsAllocationFailure"/> recognises.
    /// </summary>
    public static OrtException AllocationFailure(string context, long requestedBytes = 1L << 34) =>
        OrtStatus.ToException(
            OrtStatus.Create(OrtErrorCode.Fail,
                "Non-zero status code returned while running MatMul node. Name:'injected_fault' Status Message: " +
                "bfc_arena.cc: void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) " +
                $"Failed to allocate memory for requested buffer of size {requestedBytes}"),
            context);
}
