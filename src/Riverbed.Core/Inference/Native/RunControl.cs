namespace Riverbed.Inference.Native;

/// <summary>
/// The RunOptions of one Run and the bridge from its CancellationToken: cancelling sets the runtime's terminate flag,
/// which ONNX Runtime checks between nodes, so the Run stops at the next node boundary. Disposing unregisters first
/// (waiting for a callback in flight) and only then releases the options it writes to.
/// </summary>
internal readonly struct RunControl : IDisposable
{
    private readonly RunOptionsHandle? _options;
    private readonly CancellationTokenRegistration _registration;

    private RunControl(RunOptionsHandle options, CancellationTokenRegistration registration)
    {
        _options = options;
        _registration = registration;
    }

    /// <summary>The OrtRunOptions pointer, or 0 (runtime defaults) when the token can never be cancelled.</summary>
    public nint Pointer => _options?.DangerousGetHandle() ?? 0;

    public static unsafe RunControl Start(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return default;
        }
        var options = new RunOptionsHandle();
        nint pointer;
        OrtStatus.Check(OrtApi.CreateRunOptions(&pointer), "creating run options");
        options.Own(pointer);
        var registration = cancellationToken.UnsafeRegister(static state =>
        {
            var status = OrtApi.RunOptionsSetTerminate(((RunOptionsHandle)state!).DangerousGetHandle());
            if (status != 0)
            {
                OrtApi.ReleaseStatus(status); // setting a flag does not fail; if it ever did, the Run simply finishes
            }
        }, options);
        return new RunControl(options, registration);
    }

    public void Dispose()
    {
        _registration.Dispose();
        _options?.Dispose();
    }
}
