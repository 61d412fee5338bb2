using Riverbed.Inference.Onnx;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Riverbed.Inference;

/// <summary>
/// A model loaded into ONNX Runtime, ready to run. Runs may happen on several threads at once; disposing waits for
/// none of them, but the runtime's session is only released after the last Run using it has returned.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly Ort.InferenceSession _session;
    private readonly Ort.RunOptions _defaultRun;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;
    private readonly string[] _outputNames;
    private readonly Lock _gate = new();
    private int _runsInFlight;
    private bool _disposed;

    private InferenceSession(string modelPath, Ort.InferenceSession session, ExecutionProvider provider, string description,
        OnnxModelSummary model, TensorInfo[] inputs, TensorInfo[] outputs, string? producer)
    {
        ModelPath = modelPath;
        _session = session;
        _defaultRun = new Ort.RunOptions();
        ExecutionProvider = provider;
        ProviderDescription = description;
        Model = model;
        Inputs = inputs;
        Outputs = outputs;
        ProducerName = producer;
        _inputIndex = Index(inputs);
        _outputIndex = Index(outputs);
        _outputNames = [.. outputs.Select(o => o.Name)];
        DeviceMemory = provider.Kind == ExecutionProviderKind.Cuda
            ? new Ort.OrtMemoryInfo(Ort.OrtMemoryInfo.allocatorCUDA, Ort.OrtAllocatorType.DeviceAllocator, provider.DeviceId, Ort.OrtMemType.Default)
            : Ort.OrtMemoryInfo.DefaultInstance;
    }

    public string ModelPath { get; }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public ExecutionProvider ExecutionProvider { get; }

    /// <summary>Where the session runs, in words: "CPU", or which CUDA device.</summary>
    public string ProviderDescription { get; }

    /// <summary>What Riverbed read from the file before loading it: IR version, opsets, operators.</summary>
    public OnnxModelSummary Model { get; }

    /// <summary>The model's producer_name (e.g. "pytorch"), when it has one.</summary>
    public string? ProducerName { get; }

    /// <summary>
    /// Test seam for fault injection (reliability C1, C10): called before each Run, in every form, with the run's inputs
    /// (empty for a Run through an IO binding); the fault it names is raised as the runtime's own errors are, through
    /// <see cref="RuntimeErrors"/> (see <see cref="InferenceFaults"/>). Internal and off unless a test or the
    /// RIVERBED_FAULT_OOM test hook sets it.
    /// </summary>
    internal FaultTrigger? InjectFault { get; set; }

    /// <summary>Where outputs bound "to the device" live: the session's CUDA device, or the host.</summary>
    internal Ort.OrtMemoryInfo DeviceMemory { get; }

    internal Ort.InferenceSession Native => _session;

    /// <summary>
    /// Checks the file (see <c>ModelFileGuard</c>: valid ONNX, external data inside its folder, no unvetted native
    /// code), then loads it with the given options.
    /// </summary>
    /// <exception cref="RiverbedException">The file is missing, corrupt or refused, or the runtime cannot load it.</exception>
    public static InferenceSession Create(InferenceEnvironment environment, string modelPath, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ObjectDisposedException.ThrowIf(environment.IsDisposed, environment);
        options ??= SessionOptions.Default;
        var path = Path.GetFullPath(modelPath);
        var summary = ModelFileGuard.Check(path, options);
        return Load(environment, path, summary, options, native => new Ort.InferenceSession(path, native), $"loading model '{path}'");
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
        ObjectDisposedException.ThrowIf(environment.IsDisposed, environment);
        options ??= SessionOptions.Default;
        var path = Path.GetFullPath(modelPath);
        ModelFileGuard.Check(path, options);
        var summary = ModelFileGuard.CheckRewrite(path, model.Span, options);
        // The managed API takes a byte[]; a rewrite is made once per load, so the copy is not on a hot path.
        var bytes = model.ToArray();
        return Load(environment, path, summary, options, native => new Ort.InferenceSession(bytes, native),
            $"loading the rewritten graph of '{path}'");
    }

    private static InferenceSession Load(InferenceEnvironment environment, string path, OnnxModelSummary summary, SessionOptions options,
        Func<Ort.SessionOptions, Ort.InferenceSession> open, string what)
    {
        using var nativeOptions = options.CreateNative();
        var description = options.ExecutionProvider.Kind == ExecutionProviderKind.Cuda
            ? CudaProvider.Append(nativeOptions, options.ExecutionProvider, environment.Runtime)
            : "CPU";
        Ort.InferenceSession? session = null;
        try
        {
            session = RuntimeErrors.Call(() => open(nativeOptions), what);
            var context = $"reading the inputs and outputs of '{path}'";
            var inputs = RuntimeErrors.Call(() => Describe(session.InputNames, session.InputMetadata), context);
            var outputs = RuntimeErrors.Call(() => Describe(session.OutputNames, session.OutputMetadata), context);
            return new InferenceSession(path, session, options.ExecutionProvider, description, summary, inputs, outputs, ReadProducer(session));
        }
        catch (OrtException error) when (options.ExecutionProvider.Kind == ExecutionProviderKind.Cuda)
        {
            session?.Dispose();
            // The CUDA provider loads its libraries when the first session is made: say which one is missing.
            throw new RiverbedException(CudaProvider.WithAdvice(error.Message), error);
        }
        catch
        {
            session?.Dispose();
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
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = outputNames[i];
            OutputIndex(names[i]);
        }
        Ort.IDisposableReadOnlyCollection<Ort.OrtValue>? values = null;
        RunCore(inputs, (run, inputNames, inputValues) => values = _session.Run(run, inputNames, inputValues, names), cancellationToken);
        return new RunResult(names, values!, values!);
    }

    /// <summary>
    /// Runs the model writing each named output into the tensor given for it (no allocation by the runtime); the
    /// tensors' shapes must be the ones the model produces.
    /// </summary>
    public void Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<NamedTensor> outputs, CancellationToken cancellationToken = default)
    {
        var names = new string[outputs.Length];
        var leases = new List<TensorLease>(outputs.Length);
        try
        {
            for (var i = 0; i < outputs.Length; i++)
            {
                OutputIndex(outputs[i].Name);
                names[i] = outputs[i].Name;
                leases.Add(outputs[i].Tensor.Lease());
            }
            var values = leases.Select(l => l.Value).ToArray();
            RunCore(inputs, (run, inputNames, inputValues) => _session.Run(run, inputNames, inputValues, names, values), cancellationToken);
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease.Dispose();
            }
        }
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
        RunCore([], (run, _, _) => _session.RunWithBinding(run, binding.Native), cancellationToken);
        return binding.TakeOutputs();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            if (_runsInFlight > 0)
            {
                return; // the last Run to finish releases the runtime's session
            }
        }
        ReleaseNative();
    }

    internal void CheckInputName(string name) => InputIndex(name);

    internal void CheckOutputName(string name) => OutputIndex(name);

    private int InputIndex(string name) => _inputIndex.TryGetValue(name, out var index)
        ? index
        : throw new ArgumentException($"'{ModelPath}' has no input named '{name}'; its inputs are {string.Join(", ", Inputs.Select(i => $"'{i.Name}'"))}", nameof(name));

    private int OutputIndex(string name) => _outputIndex.TryGetValue(name, out var index)
        ? index
        : throw new ArgumentException($"'{ModelPath}' has no output named '{name}'; its outputs are {string.Join(", ", Outputs.Select(o => $"'{o.Name}'"))}", nameof(name));

    private delegate void NativeRun(Ort.RunOptions run, string[] inputNames, Ort.OrtValue[] inputValues);

    /// <summary>
    /// Everything every form of Run shares: the session and input tensors held for the call, the injected fault,
    /// cancellation through the run's terminate flag, and errors through <see cref="RuntimeErrors"/>.
    /// </summary>
    private void RunCore(ReadOnlySpan<NamedTensor> inputs, NativeRun run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var inputNames = new string[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            InputIndex(inputs[i].Name);
            inputNames[i] = inputs[i].Name;
        }
        EnterRun();
        var leases = new TensorLease[inputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                leases[i] = inputs[i].Tensor.Lease();
            }
            CheckInjectedFault(inputs);
            var inputValues = new Ort.OrtValue[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                inputValues[i] = leases[i].Value;
            }
            if (!cancellationToken.CanBeCanceled)
            {
                Finish(() => run(_defaultRun, inputNames, inputValues), cancellationToken);
                return;
            }
            // A per-Run options object whose terminate flag the token sets; ONNX Runtime checks it between nodes. The
            // registration is disposed (waiting for a callback in flight) before the options are released.
            using var options = new Ort.RunOptions();
            using (cancellationToken.UnsafeRegister(static state => ((Ort.RunOptions)state!).Terminate = true, options))
            {
                Finish(() => run(options, inputNames, inputValues), cancellationToken);
            }
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease?.Dispose();
            }
            ExitRun();
        }
    }

    private void Finish(Action run, CancellationToken cancellationToken)
    {
        try
        {
            RuntimeErrors.Call(run, $"running '{ModelPath}'");
        }
        catch (OrtException error) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"the run of '{ModelPath}' was cancelled", error, cancellationToken);
        }
    }

    private void CheckInjectedFault(ReadOnlySpan<NamedTensor> inputs)
    {
        if (InjectFault is { } trigger && trigger(inputs) is var fault && fault != InjectedFault.None)
        {
            throw InferenceFaults.Raise(fault, $"running '{ModelPath}'");
        }
    }

    private void EnterRun()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _runsInFlight++;
        }
    }

    private void ExitRun()
    {
        bool release;
        lock (_gate)
        {
            release = --_runsInFlight == 0 && _disposed;
        }
        if (release)
        {
            ReleaseNative();
        }
    }

    private void ReleaseNative()
    {
        _session.Dispose();
        _defaultRun.Dispose();
        if (!ReferenceEquals(DeviceMemory, Ort.OrtMemoryInfo.DefaultInstance))
        {
            DeviceMemory.Dispose();
        }
    }

    private static TensorInfo[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, Ort.NodeMetadata> metadata)
    {
        var infos = new TensorInfo[names.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            var node = metadata[names[i]];
            if (!node.IsTensor)
            {
                infos[i] = new TensorInfo(names[i], false, TensorElementType.Undefined, []);
                continue;
            }
            var dimensions = new TensorDimension[node.Dimensions.Length];
            for (var d = 0; d < dimensions.Length; d++)
            {
                var symbol = d < node.SymbolicDimensions.Length ? node.SymbolicDimensions[d] : null;
                dimensions[d] = new TensorDimension(node.Dimensions[d], string.IsNullOrEmpty(symbol) ? null : symbol);
            }
            infos[i] = new TensorInfo(names[i], true, (TensorElementType)(int)node.ElementDataType, dimensions);
        }
        return infos;
    }

    private static string? ReadProducer(Ort.InferenceSession session)
    {
        try
        {
            var producer = session.ModelMetadata.ProducerName;
            return string.IsNullOrEmpty(producer) ? null : producer;
        }
        catch (Ort.OnnxRuntimeException)
        {
            return null; // metadata is decoration: a failure to read it is not worth failing for
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
