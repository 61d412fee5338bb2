using Riverbed.Inference;

namespace Riverbed.Core.Tests.Inference;

public sealed class InferenceSessionTests : IClassFixture<EnvironmentFixture>
{
    private readonly InferenceEnvironment _environment;

    public InferenceSessionTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    [Fact]
    public void An_affine_model_computes_what_a_hand_calculation_gives()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create([2, 3], new float[] { 1, 0, -1, 0.5f, 2, 3 });

        using var result = session.Run([new NamedTensor("x", x)]);

        var y = result["y"];
        Assert.Equal([2L, 2L], y.Shape.ToArray());
        // [1,0,-1]·W = [1-5, 2-6] = [-4,-4]; [0.5,2,3]·W = [0.5+6+15, 1+8+18] = [21.5, 27]; then + [0.5, -1].
        Assert.Equal([-3.5f, -5f, 22f, 26f], y.GetData<float>().ToArray());
    }

    [Fact]
    public void Float16_tensors_round_trip_through_a_real_run()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Float16Echo().Save(scratch));
        Half[] values = [(Half)1.5f, (Half)(-0.25f), (Half)65504f, (Half)0.0001f];
        using var x = OrtTensor.Create([4], values);

        using var result = session.Run([new NamedTensor("x", x)]);

        Assert.Equal(TensorElementType.Float16, result["same"].ElementType);
        Assert.Equal(values, result["same"].GetData<Half>().ToArray());
        Assert.Equal(values.Select(v => (float)v), result["wide"].GetData<float>().ToArray());
    }

    [Fact]
    public void Int32_indices_are_accepted()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Int32Lookup().Save(scratch));
        using var ids = OrtTensor.Create([3], new[] { 3, 0, 2 });

        using var result = session.Run([new NamedTensor("ids", ids)]);

        Assert.Equal([3f, 30f, 0f, 0f, 2f, 20f], result["rows"].GetData<float>().ToArray());
    }

    [Fact]
    public void Metadata_reports_names_types_and_symbolic_dimensions()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));

        var input = Assert.Single(session.Inputs);
        Assert.Equal("x", input.Name);
        Assert.Equal(TensorElementType.Float, input.ElementType);
        Assert.Equal([new TensorDimension(-1, "batch"), new TensorDimension(3, null)], input.Dimensions);
        Assert.True(input.Dimensions[0].IsDynamic);
        Assert.Equal("x: float32[batch, 3]", input.ToString());
        Assert.Equal("y: float32[batch, 2]", Assert.Single(session.Outputs).ToString());
    }

    [Fact]
    public void A_cancelled_token_stops_a_long_run_inside_the_runtime()
    {
        using var scratch = new ScratchFolder("ort");
        // 3,000 MatMuls of 512×512: about 15 s uncancelled on a 2-core machine.
        using var session = InferenceSession.Create(_environment, TestModels.SlowChain(3000, 512).Save(scratch));
        using var x = OrtTensor.Create<float>(512, 512);
        using var entered = new ManualResetEventSlim();
        using var cancellation = new CancellationTokenSource();
        // The token is cancelled from this thread once the run is under way (the fault seam is called inside Run, just
        // before the runtime starts), not by a timer racing the run: the cancel always reaches a run that has begun and
        // the runtime always stops it through its terminate flag, which the inner OrtException shows (a run that finished
        // has none). Only the hang guard below waits on a clock, so how fast the machine is cannot change the outcome.
        session.InjectFault = _ =>
        {
            entered.Set();
            return InjectedFault.None;
        };
        var run = Task.Run(() => session.Run([new NamedTensor("x", x)], cancellation.Token));
        Assert.True(entered.Wait(TimeSpan.FromMinutes(2)), "the run never began");
        cancellation.Cancel();

        Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(2)), "the cancelled run did not end");
        var error = Assert.Throws<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        var runtime = Assert.IsType<OrtException>(error.InnerException);
        Assert.Contains("terminate", runtime.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_session_option_reaches_the_runtime_and_the_model_still_computes_the_same()
    {
        using var scratch = new ScratchFolder("ort");
        var options = new SessionOptions
        {
            IntraOpThreads = 1,
            InterOpThreads = 2,
            ExecutionMode = ExecutionMode.Parallel,
            OptimizationLevel = GraphOptimizationLevel.None,
            MemoryPattern = false,
            CpuArena = false,
            LogLevel = OrtLogLevel.Error,
            ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" },
        };
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch), options);
        using var x = OrtTensor.Create([1, 3], new[] { 1f, 0f, -1f });

        using var result = session.Run([("x", x)]);

        Assert.Equal([-3.5f, -5f], result["y"].GetData<float>().ToArray());
    }

    [Fact]
    public void A_token_cancelled_before_the_run_throws_without_running()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create<float>(1, 3);

        Assert.Throws<OperationCanceledException>(() => session.Run([new NamedTensor("x", x)], new CancellationToken(canceled: true)));
    }

    [Fact]
    public void Outputs_can_be_written_into_tensors_the_caller_owns()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create([1, 3], new float[] { 1, 1, 1 });
        using var y = OrtTensor.Create<float>(1, 2);

        session.Run([new NamedTensor("x", x)], [new NamedTensor("y", y)]);

        Assert.Equal([9.5f, 11f], y.Span.ToArray());
    }

    [Fact]
    public void Many_threads_can_run_one_session_at_once()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));

        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var x = OrtTensor.Create([1, 3], new float[] { i, 0, 0 });
            using var result = session.Run([new NamedTensor("x", x)]);
            Assert.Equal([i + 0.5f, (2 * i) - 1f], result["y"].GetData<float>().ToArray());
        });
    }

    [Fact]
    public void A_runtime_error_carries_the_runtime_code_and_names_the_model()
    {
        using var scratch = new ScratchFolder("ort");
        var path = TestModels.Affine().Save(scratch);
        using var session = InferenceSession.Create(_environment, path);
        using var wrongType = OrtTensor.Create<long>(1, 3);

        var error = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", wrongType)]));

        Assert.Equal(OrtErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("tensor(int64)", error.RuntimeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_input_name_is_refused_with_the_names_the_model_has()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create<float>(1, 3);

        var error = Assert.Throws<ArgumentException>(() => session.Run([new NamedTensor("input", x)]));

        Assert.Contains("no input named 'input'; its inputs are 'x'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_data_is_checked_for_type_and_lifetime()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create<float>(1, 3);
        var result = session.Run([new NamedTensor("x", x)]);
        var y = result["y"];

        Assert.Throws<InvalidOperationException>(() => y.GetData<Half>());
        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => y.GetData<float>());
    }

    [Fact]
    public void Disposing_twice_is_safe_for_every_owner_of_native_memory()
    {
        using var scratch = new ScratchFolder("ort");
        var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        var x = OrtTensor.Create<float>(1, 3);
        var result = session.Run([new NamedTensor("x", x)]);
        var binding = session.CreateIoBinding();
        binding.BindInput("x", x);
        var environment = InferenceEnvironment.Create();

        foreach (var owner in new IDisposable[] { result, binding, x, session, environment })
        {
            owner.Dispose();
            owner.Dispose();
        }

        Assert.True(x.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => x.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => session.Run([new NamedTensor("x", OrtTensor.Create<float>(1, 3))]));
    }

    [Fact]
    public void The_injected_allocation_failure_looks_like_the_real_one()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Expander().Save(scratch));
        using var x = OrtTensor.Create([1], new[] { 1f });
        // 2^50 floats: beyond any address space, so the arena fails at once whatever the overcommit policy.
        using var huge = OrtTensor.Create([2], new[] { 1L << 22, 1L << 28 });
        using var small = OrtTensor.Create([2], new[] { 1L, 1L });
        var real = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", x), new NamedTensor("shape", huge)]));

        session.InjectFault = _ => InjectedFault.AllocationFailure;
        var injected = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", x), new NamedTensor("shape", small)]));
        session.InjectFault = null;
        using var fine = session.Run([new NamedTensor("x", x), new NamedTensor("shape", small)]);

        Assert.True(real.IsAllocationFailure, real.Message);
        Assert.True(injected.IsAllocationFailure, injected.Message);
        Assert.Equal(real.ErrorCode, injected.ErrorCode);
        Assert.StartsWith($"running '{session.ModelPath}': ONNX Runtime (Fail): Non-zero status code", injected.Message, StringComparison.Ordinal);
        Assert.Equal([1f], fine["y"].GetData<float>().ToArray());
    }

    /// <summary>
    /// A real arena limit, not a made-up status: a CPU arena capped at 16 MiB serves a small Run and refuses a 64 MiB
    /// output with BFCArena's own words, which count as an allocation failure; the injected fault matches it.
    /// </summary>
    [Fact]
    public void A_run_beyond_a_real_arena_limit_is_an_allocation_failure_like_the_injected_one()
    {
        using var scratch = new ScratchFolder("ort");
        var path = TestModels.Expander().Save(scratch);
        using var arena = _environment.RegisterSharedCpuArena(16L << 20);
        using var session = InferenceSession.Create(_environment, path, new SessionOptions { UseSharedCpuArena = true, MemoryPattern = false });
        using var x = OrtTensor.Create([1], new[] { 1f });
        using var small = OrtTensor.Create([2], new[] { 2L, 2L });
        using var big = OrtTensor.Create([2], new[] { 4096L, 4096L }); // 16 Mi floats: 64 MiB

        using (var fine = session.Run([new NamedTensor("x", x), new NamedTensor("shape", small)]))
        {
            Assert.Equal([1f, 1f, 1f, 1f], fine["y"].GetData<float>().ToArray());
        }
        var real = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", x), new NamedTensor("shape", big)]));
        var injected = InferenceFaults.AllocationFailure($"running '{session.ModelPath}'");

        const string arenaWords = @"^Non-zero status code returned while running \w+ node\..*Available memory of \d+ is smaller than requested bytes of ";
        Assert.Matches(arenaWords + "67108864$", real.RuntimeMessage);
        Assert.Matches(arenaWords + @"\d+$", injected.RuntimeMessage);
        Assert.True(real.IsAllocationFailure, real.Message);
        Assert.True(injected.IsAllocationFailure, injected.Message);
        Assert.Equal((OrtErrorCode.Fail, OrtErrorCode.Fail), (real.ErrorCode, injected.ErrorCode));
    }

    [Fact]
    public void The_injected_invalid_argument_looks_like_a_real_shape_error_and_neither_is_an_allocation_failure()
    {
        using var scratch = new ScratchFolder("ort");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var wrong = OrtTensor.Create<float>(2, 4);
        using var right = OrtTensor.Create<float>(2, 3);
        var real = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", wrong)]));

        session.InjectFault = inputs => inputs.Length == 1 && inputs[0].Tensor.Shape[0] == 2 ? InjectedFault.InvalidArgument : InjectedFault.None;
        var injected = Assert.Throws<OrtException>(() => session.Run([new NamedTensor("x", right)]));

        Assert.Equal((OrtErrorCode.InvalidArgument, false), (real.ErrorCode, real.IsAllocationFailure));
        Assert.Equal((OrtErrorCode.InvalidArgument, false), (injected.ErrorCode, injected.IsAllocationFailure));
        Assert.StartsWith($"running '{session.ModelPath}': ONNX Runtime (InvalidArgument): Got invalid dimensions for input", injected.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OrtErrorCode.Fail, "Failed to allocate memory for requested buffer of size 1024", true)]
    [InlineData(OrtErrorCode.Fail, "Non-zero status code returned while running Expand node. Name:'e' Status Message: Available memory of 16777216 is smaller than requested bytes of 67108864", true)]
    [InlineData(OrtErrorCode.ExecutionProviderFail, "CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED", true)]
    [InlineData(OrtErrorCode.Fail, "CUDA failure 2: out of memory ; GPU=0", true)]
    [InlineData(OrtErrorCode.RuntimeException, "std::bad_alloc", true)]
    [InlineData(OrtErrorCode.Fail, "Non-zero status code returned while running Gather node: indices out of bounds", false)]
    [InlineData(OrtErrorCode.InvalidArgument, "input 'x' is out of memory range [0, 4)", false)]
    public void Whether_a_status_is_an_allocation_failure_is_decided_where_it_becomes_an_exception(OrtErrorCode code, string message, bool allocation)
    {
        var error = RuntimeErrors.Create(code, message, "testing");
        Assert.Equal((code, allocation), (error.ErrorCode, error.IsAllocationFailure));
        Assert.False(new OrtException("made by hand: Failed to allocate memory").IsAllocationFailure);
    }
}

/// <summary>One environment for a test class (ONNX Runtime keeps one per process anyway).</summary>
public sealed class EnvironmentFixture : IDisposable
{
    public InferenceEnvironment Environment { get; } = InferenceEnvironment.Create(OrtLogLevel.Error);

    public void Dispose() => Environment.Dispose();
}
