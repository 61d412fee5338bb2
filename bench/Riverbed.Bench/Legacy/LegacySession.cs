using Riverbed.Inference;

namespace Riverbed.Bench.Legacy;

/// <summary>
/// The Run path of Riverbed's hand-written binding as it was before the move to the official package (environment,
/// session options, session, tensors over pooled pinned memory, Run by name pointers, outputs read in place), kept
/// only to measure the new facade against it in one process. Delete with the comparison bench.
/// </summary>
internal sealed unsafe class LegacySession : IDisposable
{
    private const int ArenaAllocator = 1;
    private const int DefaultMemory = 0;

    private readonly EnvHandle _env = new();
    private readonly SessionHandle _session = new();
    private readonly MemoryInfoHandle _cpu = new();
    private readonly List<(nint Name, ValueHandle Value, PinnedBuffer Buffer)> _inputs = [];
    private readonly byte* _outputName;

    public LegacySession(string library, string modelPath, int intraOpThreads, string outputName)
    {
        OrtLibrary.Attach(library);
        nint pointer;
        using (var id = new Utf8String("riverbed-legacy"))
        {
            OrtStatus.Check(OrtApi.CreateEnv(3, id.Pointer, &pointer), "creating the environment");
        }
        _env.Own(pointer);
        OrtStatus.Check(OrtApi.CreateSessionOptions(&pointer), "creating session options");
        using var options = new SessionOptionsHandle();
        options.Own(pointer);
        OrtStatus.Check(OrtApi.SetIntraOpNumThreads(options.DangerousGetHandle(), intraOpThreads), "setting threads");
        OrtStatus.Check(OrtApi.SetSessionGraphOptimizationLevel(options.DangerousGetHandle(), 99), "setting the optimization level");
        using (var path = new Utf8String(modelPath))
        {
            OrtStatus.Check(OrtApi.CreateSession(_env.DangerousGetHandle(), path.Pointer, options.DangerousGetHandle(), &pointer), "loading the model");
        }
        _session.Own(pointer);
        OrtStatus.Check(OrtApi.CreateCpuMemoryInfo(ArenaAllocator, DefaultMemory, &pointer), "describing CPU memory");
        _cpu.Own(pointer);
        _outputName = Utf8.Allocate(outputName);
    }

    /// <summary>Adds an int64 input over pooled pinned memory, as the old OrtTensor did.</summary>
    public void AddInput(string name, long[] shape, ReadOnlySpan<long> values)
    {
        var bytes = values.Length * sizeof(long);
        var buffer = PinnedBufferPool.Shared.Rent(bytes);
        values.CopyTo(new Span<long>(buffer.Pointer, values.Length));
        nint value;
        fixed (long* dims = shape)
        {
            OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(_cpu.DangerousGetHandle(), buffer.Pointer, (nuint)bytes, dims,
                (nuint)shape.Length, (int)TensorElementType.Int64, &value), "creating a tensor");
        }
        var handle = new ValueHandle();
        handle.Own(value);
        _inputs.Add(((nint)Utf8.Allocate(name), handle, buffer));
    }

    /// <summary>One Run; the single output is copied into <paramref name="destination"/> (sized by the caller) when given.</summary>
    public float Run(float[]? destination = null)
    {
        var count = _inputs.Count;
        var names = stackalloc byte*[count];
        var values = stackalloc nint[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = (byte*)_inputs[i].Name;
            values[i] = _inputs[i].Value.DangerousGetHandle();
        }
        var outputName = _outputName;
        nint output = 0;
        OrtStatus.Check(OrtApi.Run(_session.DangerousGetHandle(), 0, names, values, (nuint)count, &outputName, 1, &output), "running");
        try
        {
            void* data;
            OrtStatus.Check(OrtApi.GetTensorMutableData(output, &data), "reading the output");
            var first = *(float*)data;
            if (destination is not null)
            {
                new ReadOnlySpan<float>(data, destination.Length).CopyTo(destination);
            }
            return first;
        }
        finally
        {
            OrtApi.ReleaseValue(output);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value, buffer) in _inputs)
        {
            value.Dispose();
            buffer.Dispose();
            Utf8.Free((byte*)name);
        }
        _session.Dispose();
        _cpu.Dispose();
        _env.Dispose();
        Utf8.Free(_outputName);
    }
}
