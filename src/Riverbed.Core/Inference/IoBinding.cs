using Riverbed.Inference.Native;

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
public sealed unsafe class IoBinding : IDisposable
{
    private readonly Dictionary<string, HandleLease> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HandleLease> _outputs = new(StringComparer.Ordinal);
    private readonly List<string> _outputOrder = [];

    internal IoBinding(InferenceSession session)
    {
        Session = session;
        Handle = new IoBindingHandle();
        using var lease = new HandleLease(session.Handle);
        nint binding;
        OrtStatus.Check(OrtApi.CreateIoBinding(lease.Pointer, &binding), $"creating an IO binding for '{session.ModelPath}'");
        Handle.Own(binding);
    }

    public InferenceSession Session { get; }

    internal IoBindingHandle Handle { get; }

    public void BindInput(string name, OrtTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var native = Session.InputName(name);
        var tensorLease = new HandleLease(tensor.Handle);
        try
        {
            using var lease = new HandleLease(Handle);
            OrtStatus.Check(OrtApi.BindInput(lease.Pointer, native, tensorLease.Pointer), $"binding input '{name}'");
        }
        catch
        {
            tensorLease.Dispose();
            throw;
        }
        Replace(_inputs, name, tensorLease);
    }

    public void BindOutput(string name, OrtTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var native = Session.OutputName(name);
        var tensorLease = new HandleLease(tensor.Handle);
        try
        {
            using var lease = new HandleLease(Handle);
            OrtStatus.Check(OrtApi.BindOutput(lease.Pointer, native, tensorLease.Pointer), $"binding output '{name}'");
        }
        catch
        {
            tensorLease.Dispose();
            throw;
        }
        Replace(_outputs, name, tensorLease);
        NoteOutput(name);
    }

    /// <summary>Lets the runtime allocate this output on the session's device at Run time (see the class remarks).</summary>
    public void BindOutputToDevice(string name)
    {
        var native = Session.OutputName(name);
        using var lease = new HandleLease(Handle);
        using var sessionLease = new HandleLease(Session.Handle);
        OrtStatus.Check(OrtApi.BindOutputToDevice(lease.Pointer, native, Session.DeviceMemoryInfo), $"binding output '{name}' to the device");
        if (_outputs.Remove(name, out var previous))
        {
            previous.Dispose();
        }
        NoteOutput(name);
    }

    public void ClearBoundInputs()
    {
        using (var lease = new HandleLease(Handle))
        {
            OrtApi.ClearBoundInputs(lease.Pointer);
        }
        ReleaseAll(_inputs);
    }

    public void ClearBoundOutputs()
    {
        using (var lease = new HandleLease(Handle))
        {
            OrtApi.ClearBoundOutputs(lease.Pointer);
        }
        ReleaseAll(_outputs);
        _outputOrder.Clear();
    }

    /// <summary>Waits for asynchronous input copies to the device to finish (a no-op on CPU).</summary>
    public void SynchronizeInputs()
    {
        using var lease = new HandleLease(Handle);
        OrtStatus.Check(OrtApi.SynchronizeBoundInputs(lease.Pointer), "synchronizing bound inputs");
    }

    /// <summary>Waits for the device to finish writing bound outputs (a no-op on CPU).</summary>
    public void SynchronizeOutputs()
    {
        using var lease = new HandleLease(Handle);
        OrtStatus.Check(OrtApi.SynchronizeBoundOutputs(lease.Pointer), "synchronizing bound outputs");
    }

    public void Dispose()
    {
        if (Handle.IsClosed)
        {
            return;
        }
        Handle.Dispose();
        ReleaseAll(_inputs);
        ReleaseAll(_outputs);
    }

    /// <summary>The values of the bound outputs after a Run, in binding order, as a result the caller owns.</summary>
    internal RunResult TakeOutputs()
    {
        nint allocator;
        OrtStatus.Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator), "reading bound outputs");
        using var lease = new HandleLease(Handle);
        nint* values;
        nuint count;
        OrtStatus.Check(OrtApi.GetBoundOutputValues(lease.Pointer, allocator, &values, &count), "reading bound outputs");
        var handles = new ValueHandle[(int)count];
        try
        {
            for (var i = 0; i < handles.Length; i++)
            {
                handles[i] = new ValueHandle();
                handles[i].Own(values[i]);
            }
        }
        finally
        {
            if (values is not null)
            {
                OrtStatus.Check(OrtApi.AllocatorFree(allocator, values), "reading bound outputs");
            }
        }
        return new RunResult(_outputOrder.Count == handles.Length ? _outputOrder : [.. _outputOrder.Take(handles.Length)], handles);
    }

    private void NoteOutput(string name)
    {
        if (!_outputOrder.Contains(name))
        {
            _outputOrder.Add(name);
        }
    }

    private static void Replace(Dictionary<string, HandleLease> leases, string name, HandleLease lease)
    {
        if (leases.Remove(name, out var previous))
        {
            previous.Dispose();
        }
        leases[name] = lease;
    }

    private static void ReleaseAll(Dictionary<string, HandleLease> leases)
    {
        foreach (var lease in leases.Values)
        {
            lease.Dispose();
        }
        leases.Clear();
    }
}
