using Riverbed.Inference;

namespace Riverbed.Core.Tests.Inference;

/// <summary>Tests that change process environment variables run alone.</summary>
[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class CudaProviderTests : IDisposable
{
    private const string ProviderVariable = "RIVERBED_ORT_CUDA_PROVIDER";
    private readonly string? _savedProvider = Environment.GetEnvironmentVariable(ProviderVariable);
    private readonly InferenceEnvironment _environment = InferenceEnvironment.Create(OrtLogLevel.Fatal);
    private readonly ScratchFolder _scratch = new("cuda");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ProviderVariable, _savedProvider);
        _environment.Dispose();
        _scratch.Dispose();
    }

    private InferenceSession CreateOnCuda() => InferenceSession.Create(_environment, TestModels.Affine().Save(_scratch),
        new SessionOptions { ExecutionProvider = ExecutionProvider.Cuda(0) });

    [Fact]
    public void A_provider_path_that_does_not_exist_is_named()
    {
        Environment.SetEnvironmentVariable(ProviderVariable, _scratch.File("nowhere", "libonnxruntime_providers_cuda.so"));

        var error = Assert.ThrowsAny<RiverbedException>(CreateOnCuda);

        Assert.Contains($"CUDA was requested, but {ProviderVariable} points at", error.Message, StringComparison.Ordinal);
        Assert.Contains("which does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_that_is_not_an_execution_provider_is_named_with_the_missing_symbol()
    {
        // A real shared library that exports no CreateEpFactories.
        var notAProvider = Path.Combine(TestPaths.RepositoryRoot, ".native", "onnxruntime", "libonnxruntime_providers_shared.so");
        Environment.SetEnvironmentVariable(ProviderVariable, notAProvider);

        var error = Assert.ThrowsAny<RiverbedException>(CreateOnCuda);

        Assert.Contains(notAProvider, error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateEpFactories", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not a CUDA execution provider built for this ONNX Runtime", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whatever this machine has, asking for CUDA either works (and computes what the CPU computes) or says exactly
    /// what is missing: the provider library (not installed: ./setup.sh --with-cuda), one of the CUDA libraries it
    /// needs (installed without a CUDA runtime, as on this project's CPU machines), or a GPU.
    /// </summary>
    [Fact]
    public void Cuda_either_runs_like_the_cpu_or_says_what_is_missing()
    {
        Environment.SetEnvironmentVariable(ProviderVariable, null);
        InferenceSession session;
        try
        {
            session = CreateOnCuda();
        }
        catch (RiverbedException error)
        {
            var installed = File.Exists(Path.Combine(TestPaths.RepositoryRoot, ".native", "onnxruntime-cuda", "libonnxruntime_providers_cuda.so"));
            if (!installed)
            {
                Assert.Contains("Run ./setup.sh --with-cuda", error.Message, StringComparison.Ordinal);
            }
            else if (error.Message.Contains("cannot open shared object file", StringComparison.Ordinal))
            {
                Assert.Matches(@"lib\w+\.so[.\d]* is missing; it comes with ", error.Message);
                Assert.Contains("LD_LIBRARY_PATH", error.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("found no CUDA device", error.Message, StringComparison.Ordinal);
            }
            return;
        }
        using (session)
        using (var cpu = InferenceSession.Create(_environment, session.ModelPath))
        using (var x = OrtTensor.Create([2, 3], new[] { 1f, 2f, 3f, 4f, 5f, 6f }))
        using (var onGpu = session.Run([new NamedTensor("x", x)]))
        using (var onCpu = cpu.Run([new NamedTensor("x", x)]))
        {
            Assert.StartsWith("CUDA device 0", session.ProviderDescription, StringComparison.Ordinal);
            Assert.Equal(onCpu["y"].GetData<float>().ToArray(), onGpu["y"].GetData<float>().ToArray());
        }
    }

    /// <summary>
    /// The classic options API (used when the core library is a CUDA build) goes through four real slots; on this CPU
    /// build the runtime answers that CUDA is not compiled in, and that answer reaches the caller with advice.
    /// </summary>
    [Fact]
    public void The_classic_cuda_options_api_reports_a_cpu_build_clearly()
    {
        using var options = SessionOptions.Default.CreateHandle();

        var error = Assert.ThrowsAny<RiverbedException>(() => CudaProvider.AppendBuiltIn(options, _environment.Runtime, 0).Dispose());

        Assert.StartsWith($"attaching CUDA device 0 (CUDA built into {_environment.Runtime.LibraryPath})", error.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA execution provider is not enabled in this build", error.Message, StringComparison.Ordinal);
        Assert.Contains("is an ONNX Runtime without CUDA", error.Message, StringComparison.Ordinal);
        Assert.Contains("Without a GPU, run on the CPU", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Device_names_parse_as_the_cli_takes_them()
    {
        Assert.True(ExecutionProvider.TryParse("cuda:1", out var cuda));
        Assert.Equal(ExecutionProvider.Cuda(1), cuda);
        Assert.True(ExecutionProvider.TryParse("CPU", out var cpu));
        Assert.Equal(ExecutionProvider.Cpu, cpu);
        Assert.False(ExecutionProvider.TryParse("tpu", out _));
        Assert.False(ExecutionProvider.TryParse("cuda:x", out _));
    }
}
