using System.Runtime.InteropServices;
using Riverbed.Inference.Native;
using Riverbed.Inference.Onnx;

namespace Riverbed.Inference;

/// <summary>
/// A model loaded into ONNX Runtime, ready to run. Runs may happen on several threads at once; disposing waits for
/// none of them, but the native session is only released after the last Run using it has returned.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly SessionHandle _handle;
    private readonly ExecutionDevice _device;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;
    private readonly string[] _outputNames;
    private readonly byte** _inputNamePointers;
    private readonly byte** _outputNamePointers;

    private InferenceSession(string modelPath, SessionHandle handle, ExecutionDevice device, ExecutionProvider provider,
        OnnxModelSummary model, TensorInfo[] inputs, TensorInfo[] outputs, byte** names, string? producer)
    {
        ModelPath = modelPath;
        _handle = handle;
        _device = device;
        ExecutionProvider = provider;
        Model = model;
        Inputs = inputs;
        Outputs = outputs;
        ProducerName = producer;
        _inputNamePointers = names;
        _outputNamePointers = names + inputs.Length;
        _inputIndex = Index(inputs);
        _outputIndex = Index(outputs);
        _outputNames = [.. outputs.Select(o => o.Name)];
    }

    public string ModelPath { get; }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public ExecutionProvider ExecutionProvider { get; }

    /// <summary>Where the session runs, in words: "CPU", or which CUDA device through which library.</summary>
    public string ProviderDescription => _device.Description;

    /// <summary>What Riverbed read from the file before loading it: IR version, opsets, operators.</summary>
    public OnnxModelSummary Model { get; }

    /// <summary>The model's producer_name (e.g. "pytorch"), when it has one.</summary>
    public string? ProducerName { get; }

    /// <summary>
    /// Test seam for fault injection (reliability C1, C10): called before each Run with the run's inputs (empty for a
    /// Run through an IO binding); the fault it names is raised exactly as ONNX Runtime raises it (see
    /// <see cref="InferenceFaults"/>). Internal and off unless a test or the RIVERBED_FAULT_OOM test hook sets it.
    /// </summary>
    internal FaultTrigger? InjectFault { get; set; }

    /// <summary>
    /// Checks the file (see <c>ModelFileGuard</c>: valid ONNX, external data inside its folder, no unvetted native
    /// code), then loads it with the given options on the given environment.
    /// </summary>
    /// <exception cref="RiverbedException">The file is missing, corrupt or refused, or the runtime cannot load it.</exception>
    public static InferenceSession Create(InferenceEnvironment environment, string modelPath, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= SessionOptions.Default;
        var path = Path.GetFullPath(modelPath);
        var summary = ModelFileGuard.Check(path, options);

        using var nativeOptions = options.CreateHandle();
        var device = options.ExecutionProvider.Kind == ExecutionProviderKind.Cuda
            ? CudaProvider.Append(nativeOptions, environment, options.ExecutionProvider.DeviceId)
            : ExecutionDevice.Cpu;
        var handle = new SessionHandle();
        try
        {
            environment.Use(env =>
            {
                using var pathText = new Utf8String(path);
                nint session;
                OrtStatus.Check(OrtApi.CreateSession(env, pathText.Pointer, nativeOptions.DangerousGetHandle(), &session),
                    $"loading model '{path}'");
                handle.Own(session);
                handle.KeepAlive(environment.Handle);
                return 0;
            });
            return Describe(path, handle, device, options.ExecutionProvider, summary);
        }
        catch
        {
            handle.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads <paramref name="model"/>, a rewrite of the file at <paramref name="modelPath"/> made at load (e.g. the
    /// masked-position head), in place of the file. The file is checked as <see cref="Create(InferenceEnvironment, string, SessionOptions?)"/>
    /// checks it, and so are the bytes; they must not name external data, which the runtime could not find from memory.
    /// </summary>
    /// <exception cref="RiverbedException">The file or the bytes are refused, or the runtime cannot load them.</exception>
    public static InferenceSession Create(InferenceEnvironment environment, string modelPath, ReadOnlyMemory<byte> model, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= SessionOptions.Default;
        var path = Path.GetFullPath(modelPath);
        ModelFileGuard.Check(path, options);
        var summary = ModelFileGuard.CheckRewrite(path, model.Span, options);

        using var nativeOptions = options.CreateHandle();
        var device = options.ExecutionProvider.Kind == ExecutionProviderKind.Cuda
            ? CudaProvider.Append(nativeOptions, environment, options.ExecutionProvider.DeviceId)
            : ExecutionDevice.Cpu;
        var handle = new SessionHandle();
        try
        {
            environment.Use(env =>
            {
                nint session;
                fixed (byte* bytes = model.Span)
                {
                    OrtStatus.Check(OrtApi.CreateSessionFromArray(env, bytes, (nuint)model.Length, nativeOptions.DangerousGetHandle(), &session),
                        $"loading the rewritten graph of '{path}'");
                }
                handle.Own(session);
                handle.KeepAlive(environment.Handle);
                return 0;
            });
            return Describe(path, handle, device, options.ExecutionProvider, summary);
        }
        catch
        {
            handle.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model and returns every output.</summary>
    public RunResult Run(ReadOnlySpan<NamedTensor> inputs, CancellationToken cancellationToken = default) =>
        Run(inputs, _outputNames, cancellationToken);

    /// <summary>Runs the model and returns the named outputs, in the order asked for.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled before or during the Run.</exception>
    /// <exception cref="OrtException">The runtime failed (shapes, types, memory…).</exception>
    public RunResult Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<string> outputNames, CancellationToken cancellationToken = default)
    {
        var names = new string[outputNames.Length];
        var outputs = new nint[outputNames.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = outputNames[i];
            OutputIndex(names[i]);
        }
        RunCore(inputs, outputNames, outputs, leased: [], cancellationToken);
        var values = new ValueHandle[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            values[i] = new ValueHandle();
            values[i].Own(outputs[i]);
        }
        return new RunResult(names, values);
    }

    /// <summary>
    /// Runs the model writing each named output into the tensor given for it (no allocation by the runtime); the
    /// tensors' shapes must be the ones the model produces.
    /// </summary>
    public void Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<NamedTensor> outputs, CancellationToken cancellationToken = default)
    {
        var names = new string[outputs.Length];
        var values = new nint[outputs.Length];
        var tensors = new OrtTensor[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            names[i] = outputs[i].Name;
            tensors[i] = outputs[i].Tensor;
            values[i] = tensors[i].Handle.DangerousGetHandle();
        }
        RunCore(inputs, names, values, tensors, cancellationToken);
    }

    /// <summary>Creates an IO binding for this session (see <see cref="IoBinding"/> for what it copies and when).</summary>
    public IoBinding CreateIoBinding() => new(this);

    /// <summary>Runs with the inputs and outputs bound to <paramref name="binding"/>; returns the bound outputs.</summary>
    public RunResult Run(IoBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (binding.Session != this)
        {
            throw new ArgumentException("the binding belongs to another session", nameof(binding));
        }
        cancellationToken.ThrowIfCancellationRequested();
        using var lease = new HandleLease(_handle);
        using var bindingLease = new HandleLease(binding.Handle);
        using var control = RunControl.Start(cancellationToken);
        CheckInjectedFault([]);
        Finish(OrtApi.RunWithBinding(lease.Pointer, control.Pointer, bindingLease.Pointer), cancellationToken);
        return binding.TakeOutputs();
    }

    public void Dispose()
    {
        _handle.Dispose();
        _device.Dispose();
    }

    internal SessionHandle Handle => _handle;

    internal nint DeviceMemoryInfo => _device.MemoryInfo;

    internal byte* InputName(string name) => _inputNamePointers[InputIndex(name)];

    internal byte* OutputName(string name) => _outputNamePointers[OutputIndex(name)];

    private int InputIndex(string name) => _inputIndex.TryGetValue(name, out var index)
        ? index
        : throw new ArgumentException($"'{ModelPath}' has no input named '{name}'; its inputs are {string.Join(", ", Inputs.Select(i => $"'{i.Name}'"))}", nameof(name));

    private int OutputIndex(string name) => _outputIndex.TryGetValue(name, out var index)
        ? index
        : throw new ArgumentException($"'{ModelPath}' has no output named '{name}'; its outputs are {string.Join(", ", Outputs.Select(o => $"'{o.Name}'"))}", nameof(name));

    private void RunCore(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<string> outputNames, nint[] outputs,
        OrtTensor[] leased, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var inputCount = inputs.Length;
        var inputNames = new nint[inputCount];
        var inputValues = new nint[inputCount];
        var outputNamePointers = new nint[outputNames.Length];
        for (var i = 0; i < outputNames.Length; i++)
        {
            outputNamePointers[i] = (nint)OutputName(outputNames[i]);
        }
        using var sessionLease = new HandleLease(_handle);
        var inputLeases = new HandleLease[inputCount];
        var outputLeases = new HandleLease[leased.Length];
        try
        {
            for (var i = 0; i < inputCount; i++)
            {
                inputNames[i] = (nint)InputName(inputs[i].Name);
                inputLeases[i] = new HandleLease(inputs[i].Tensor.Handle);
                inputValues[i] = inputLeases[i].Pointer;
            }
            for (var i = 0; i < leased.Length; i++)
            {
                outputLeases[i] = new HandleLease(leased[i].Handle);
            }
            using var control = RunControl.Start(cancellationToken);
            CheckInjectedFault(inputs);
            fixed (nint* inNames = inputNames, inValues = inputValues, outNames = outputNamePointers, outValues = outputs)
            {
                Finish(OrtApi.Run(sessionLease.Pointer, control.Pointer, (byte**)inNames, inValues, (nuint)inputCount,
                    (byte**)outNames, (nuint)outputNamePointers.Length, outValues), cancellationToken);
            }
        }
        finally
        {
            foreach (var lease in inputLeases)
            {
                lease.Dispose();
            }
            foreach (var lease in outputLeases)
            {
                lease.Dispose();
            }
        }
    }

    private void Finish(nint status, CancellationToken cancellationToken)
    {
        if (status == 0)
        {
            return;
        }
        var error = OrtStatus.ToException(status, $"running '{ModelPath}'");
        if (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"the run of '{ModelPath}' was cancelled", error, cancellationToken);
        }
        throw error;
    }

    private void CheckInjectedFault(ReadOnlySpan<NamedTensor> inputs)
    {
        if (InjectFault is { } trigger && trigger(inputs) is var fault && fault != InjectedFault.None)
        {
            throw InferenceFaults.Raise(fault, $"running '{ModelPath}'");
        }
    }

    private static InferenceSession Describe(string path, SessionHandle handle, ExecutionDevice device, ExecutionProvider provider,
        OnnxModelSummary summary)
    {
        var session = handle.DangerousGetHandle();
        var context = $"reading the inputs and outputs of '{path}'";
        nint allocator;
        OrtStatus.Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator), context);
        nuint inputCount, outputCount;
        OrtStatus.Check(OrtApi.SessionGetInputCount(session, &inputCount), context);
        OrtStatus.Check(OrtApi.SessionGetOutputCount(session, &outputCount), context);
        var total = (int)(inputCount + outputCount);
        var names = (byte**)NativeMemory.AllocZeroed((nuint)Math.Max(total, 1), (nuint)sizeof(byte*));
        handle.KeepNames(names, total);
        var inputs = new TensorInfo[(int)inputCount];
        var outputs = new TensorInfo[(int)outputCount];
        for (var i = 0; i < total; i++)
        {
            var isInput = i < inputs.Length;
            var index = (nuint)(isInput ? i : i - inputs.Length);
            byte* name;
            OrtStatus.Check(isInput
                ? OrtApi.SessionGetInputName(session, index, allocator, &name)
                : OrtApi.SessionGetOutputName(session, index, allocator, &name), context);
            string managedName;
            try
            {
                managedName = Utf8.ToString(name) ?? string.Empty;
            }
            finally
            {
                OrtStatus.Check(OrtApi.AllocatorFree(allocator, name), context);
            }
            names[i] = Utf8.Allocate(managedName);
            nint typeInfo;
            OrtStatus.Check(isInput
                ? OrtApi.SessionGetInputTypeInfo(session, index, &typeInfo)
                : OrtApi.SessionGetOutputTypeInfo(session, index, &typeInfo), context);
            try
            {
                var info = ReadTensorInfo(managedName, typeInfo, context);
                if (isInput)
                {
                    inputs[i] = info;
                }
                else
                {
                    outputs[i - inputs.Length] = info;
                }
            }
            finally
            {
                OrtApi.ReleaseTypeInfo(typeInfo);
            }
        }
        return new InferenceSession(path, handle, device, provider, summary, inputs, outputs, names, ReadProducer(session, allocator));
    }

    private static TensorInfo ReadTensorInfo(string name, nint typeInfo, string context)
    {
        const int tensorType = 1; // ONNX_TYPE_TENSOR
        int onnxType;
        OrtStatus.Check(OrtApi.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), context);
        nint tensorInfo = 0;
        if (onnxType == tensorType)
        {
            OrtStatus.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), context);
        }
        if (tensorInfo == 0)
        {
            return new TensorInfo(name, false, TensorElementType.Undefined, []);
        }
        int elementType;
        nuint rank;
        OrtStatus.Check(OrtApi.GetTensorElementType(tensorInfo, &elementType), context);
        OrtStatus.Check(OrtApi.GetDimensionsCount(tensorInfo, &rank), context);
        var sizes = new long[(int)rank];
        var symbols = new nint[(int)rank];
        fixed (long* sizePointer = sizes)
        fixed (nint* symbolPointer = symbols)
        {
            OrtStatus.Check(OrtApi.GetDimensions(tensorInfo, sizePointer, rank), context);
            OrtStatus.Check(OrtApi.GetSymbolicDimensions(tensorInfo, (byte**)symbolPointer, rank), context);
        }
        var dimensions = new TensorDimension[(int)rank];
        for (var d = 0; d < dimensions.Length; d++)
        {
            var symbol = Utf8.ToString((byte*)symbols[d]);
            dimensions[d] = new TensorDimension(sizes[d], string.IsNullOrEmpty(symbol) ? null : symbol);
        }
        return new TensorInfo(name, true, (TensorElementType)elementType, dimensions);
    }

    private static string? ReadProducer(nint session, nint allocator)
    {
        nint metadata;
        if (OrtApi.SessionGetModelMetadata(session, &metadata) is var status && status != 0)
        {
            OrtStatus.ToException(status, null); // metadata is decoration: a failure to read it is not worth failing for
            return null;
        }
        try
        {
            byte* producer;
            OrtStatus.Check(OrtApi.ModelMetadataGetProducerName(metadata, allocator, &producer), "reading model metadata");
            try
            {
                var text = Utf8.ToString(producer);
                return string.IsNullOrEmpty(text) ? null : text;
            }
            finally
            {
                OrtStatus.Check(OrtApi.AllocatorFree(allocator, producer), "reading model metadata");
            }
        }
        finally
        {
            OrtApi.ReleaseModelMetadata(metadata);
        }
    }

    private static Dictionary<string, int> Index(TensorInfo[] infos)
    {
        var index = new Dictionary<string, int>(infos.Length, StringComparer.Ordinal);
        for (var i = 0; i < infos.Length; i++)
        {
            index[infos[i].Name] = i;
        }
        return index;
    }
}
