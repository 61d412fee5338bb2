using System.Runtime.InteropServices;

namespace Riverbed.Inference.Native;

/// <summary>
/// Ownership of one ONNX Runtime object. SafeHandle gives what native ownership needs: release exactly once (so
/// disposing twice is safe), release by the finalizer if a caller forgot, and no release while a call that did
/// <c>DangerousAddRef</c> is still using the pointer on another thread.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of a pointer the runtime just created.</summary>
    public void Own(nint pointer) => SetHandle(pointer);
}

internal sealed class EnvHandle : OrtHandle
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseEnv(handle);
        return true;
    }
}

internal sealed class SessionOptionsHandle : OrtHandle
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSessionOptions(handle);
        return true;
    }
}

internal sealed class RunOptionsHandle : OrtHandle
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseRunOptions(handle);
        return true;
    }
}

internal sealed class MemoryInfoHandle : OrtHandle
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed class IoBindingHandle : OrtHandle
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseIoBinding(handle);
        return true;
    }
}

/// <summary>
/// A session, plus the native copies of its input and output names that every Run passes back to the runtime. The
/// names are freed with the session, after the last Run that holds a reference has finished.
/// </summary>
internal sealed unsafe class SessionHandle : OrtHandle
{
    private byte** _names;
    private int _nameCount;
    private SafeHandle? _keptAlive;

    /// <summary>Keeps <paramref name="owner"/> (the environment) alive until this session is released.</summary>
    public void KeepAlive(SafeHandle owner)
    {
        var added = false;
        owner.DangerousAddRef(ref added);
        _keptAlive = owner;
    }

    /// <summary>Hands over a block of native UTF-8 names (see <see cref="Utf8.Allocate"/>) to free with the session.</summary>
    public void KeepNames(byte** names, int count)
    {
        _names = names;
        _nameCount = count;
    }

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSession(handle);
        if (_names is not null)
        {
            for (var i = 0; i < _nameCount; i++)
            {
                Utf8.Free(_names[i]);
            }
            NativeMemory.Free(_names);
            _names = null;
        }
        _keptAlive?.DangerousRelease();
        return true;
    }
}

/// <summary>
/// An OrtValue. When the value is a view of managed memory (a tensor Riverbed created), <see cref="Keeper"/> returns
/// that memory to its pool only after the runtime released the value, so a binding that still references the value
/// can never read a buffer already handed to someone else.
/// </summary>
internal sealed class ValueHandle : OrtHandle
{
    public IDisposable? Keeper { get; set; }

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseValue(handle);
        Keeper?.Dispose();
        return true;
    }
}

/// <summary>
/// Holds a handle's reference count up for the duration of one native call, so a concurrent Dispose cannot release the
/// object underneath it. Disposing the default value does nothing.
/// </summary>
internal struct HandleLease : IDisposable
{
    private SafeHandle? _handle;

    public HandleLease(SafeHandle handle)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, handle);
        var added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        Pointer = handle.DangerousGetHandle();
    }

    public nint Pointer { get; }

    public void Dispose()
    {
        _handle?.DangerousRelease();
        _handle = null;
    }
}
