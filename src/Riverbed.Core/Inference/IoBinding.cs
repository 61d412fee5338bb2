using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// Inputs and outputs bound to a session ahead of Run, so repeated Runs skip name lookups and — on CUDA — keep data
/// on the device. ONNX Runtime's copy semantics, which this class inherits:
/// <list type="bullet">
/// <item><see cref="BindInput"/>: when the input already lives where the model needs it (any tensor on a CPU session)
/// the binding references the tensor's memory, so writes to the tensor after binding are seen by the next Run. When it
/// does not (a host tensor for a CUDA session) the runtime copies it to the device at bind time, and later writes to
/// the host tensor are not seen until it is bound again.</item>
/// <item><see cref="BindOutput"/>: the runtime writes the output into the given tensor (copying it back from the device
/// at the end of Run on CUDA); its shape must match what the model produces.</item>
/// <item><see cref="BindOutputToDevice"/>: the runtime allocates the output on the session's device at Run and leaves it
/// there (CUDA memory for a CUDA session); the result's tensor then reports <see cref="OutputTensor.IsOnHost"/> false.</item>
/// </list>
/// Bound tensors are kept alive by the binding until they are cleared, rebound or the binding is disposed, even if the
/// caller disposes them first. One binding must not be used by two Runs at the same time.
/// </summary>
public sealed class IoBinding : IDisposable
{
    private readonly Dictionary<string, TensorLease> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorLease> _outputs = new(StringComparer.Ordinal);
    private bool _disposed;

    internal IoBinding(InferenceSession session)
    {
        Session = session;
        Native = RuntimeErrors.Call(session.Native.CreateIoBinding, $"creating an IO binding for '{session.ModelPath}'");
    }

    public InferenceSession Session { get; }

    internal Ort.OrtIoBinding Native { get; }

    public void BindInput(string name, OrtTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Session.CheckInputName(name);
        var lease = tensor.Lease();
        try
        {
            RuntimeErrors.Call(() => Native.BindInput(name, lease.Value), $"binding input '{name}'");
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        Replace(_inputs, name, lease);
    }

    public void BindOutput(string name, OrtTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Session.CheckOutputName(name);
        var lease = tensor.Lease();
        try
        {
            RuntimeErrors.Call(() => Native.BindOutput(name, lease.Value), $"binding output '{name}'");
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        Replace(_outputs, name, lease);
    }

    /// <summary>Lets the runtime allocate this output on the session's device at Run time (see the class remarks).</summary>
    public void BindOutputToDevice(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Session.CheckOutputName(name);
        RuntimeErrors.Call(() => Native.BindOutputToDevice(name, Session.DeviceMemory), $"binding output '{name}' to the device");
        if (_outputs.Remove(name, out var previous))
        {
            previous.Dispose();
        }
    }

    public void ClearBoundInputs()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Native.ClearBoundInputs();
        ReleaseAll(_inputs);
    }

    public void ClearBoundOutputs()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Native.ClearBoundOutputs();
        ReleaseAll(_outputs);
    }

    /// <summary>Waits for asynchronous input copies to the device to finish (a no-op on CPU).</summary>
    public void SynchronizeInputs() => RuntimeErrors.Call(Native.SynchronizeBoundInputs, "synchronizing bound inputs");

    /// <summary>Waits for the device to finish writing bound outputs (a no-op on CPU).</summary>
    public void SynchronizeOutputs() => RuntimeErrors.Call(Native.SynchronizeBoundOutputs, "synchronizing bound outputs");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Native.Dispose();
        ReleaseAll(_inputs);
        ReleaseAll(_outputs);
    }

    /// <summary>The values of the bound outputs after a Run, in binding order, as a result the caller owns.</summary>
    internal RunResult TakeOutputs()
    {
        const string context = "reading bound outputs";
        var names = RuntimeErrors.Call(Native.GetOutputNames, context);
        var values = RuntimeErrors.Call(Native.GetOutputValues, context);
        return new RunResult(names, values, values);
    }

    private static void Replace(Dictionary<string, TensorLease> leases, string name, TensorLease lease)
    {
        if (leases.Remove(name, out var previous))
        {
            previous.Dispose();
        }
        leases[name] = lease;
    }

    private static void ReleaseAll(Dictionary<string, TensorLease> leases)
    {
        foreach (var lease in leases.Values)
        {
            lease.Dispose();
        }
        leases.Clear();
    }
}
