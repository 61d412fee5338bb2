using Riverbed.Inference;

namespace Riverbed.Core.Tests.Inference;

public sealed class CudaProviderTests : IClassFixture<EnvironmentFixture>
{
    private readonly InferenceEnvironment _environment;

    public CudaProviderTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    /// <summary>
    /// Whatever this build and machine have, asking for CUDA either works (and computes what the CPU computes) or says
    /// exactly what is missing: the GPU package (a CPU build, as CI makes), one of the CUDA libraries the provider
    /// needs (the GPU package on a machine without CUDA), or a GPU.
    /// </summary>
    [Fact]
    public void Cuda_either_runs_like_the_cpu_or_says_what_is_missing()
    {
        using var scratch = new ScratchFolder("cuda");
        var path = TestModels.Affine().Save(scratch);
        InferenceSession session;
        try
        {
            session = InferenceSession.Create(_environment, path, new SessionOptions { ExecutionProvider = ExecutionProvider.Cuda(0) });
        }
        catch (RiverbedException error)
        {
            Assert.StartsWith("attaching CUDA device 0", error.Message, StringComparison.Ordinal);
            if (!_environment.Runtime.HasBuiltInCuda)
            {
                Assert.Contains("CUDA execution provider is not enabled in this build", error.Message, StringComparison.Ordinal);
                Assert.Contains("built with the CPU package of ONNX Runtime", error.Message, StringComparison.Ordinal);
                Assert.Contains("./setup.sh --with-cuda", error.Message, StringComparison.Ordinal);
            }
            else if (error.Message.Contains("cannot open shared object file", StringComparison.Ordinal))
            {
                Assert.Matches(@"lib\w+\.so[.\d]* is missing; it comes with ", error.Message);
                Assert.Contains("LD_LIBRARY_PATH", error.Message, StringComparison.Ordinal);
            }
            Assert.Contains("Without a GPU, run on the CPU", error.Message, StringComparison.Ordinal);
            return;
        }
        using (session)
        using (var cpu = InferenceSession.Create(_environment, path))
        using (var x = OrtTensor.Create([2, 3], new[] { 1f, 2f, 3f, 4f, 5f, 6f }))
        using (var onGpu = session.Run([new NamedTensor("x", x)]))
        using (var onCpu = cpu.Run([new NamedTensor("x", x)]))
        {
            Assert.StartsWith("CUDA device 0", session.ProviderDescription, StringComparison.Ordinal);
            Assert.Equal(onCpu["y"].GetData<float>().ToArray(), onGpu["y"].GetData<float>().ToArray());
        }
    }

    [Fact]
    public void The_cuda_provider_gets_the_device_id_and_the_memory_limit()
    {
        var options = CudaProvider.OptionsFor(ExecutionProvider.Cuda(1, memoryLimitBytes: 8L << 30));

        Assert.Equal("1", options["device_id"]);
        Assert.Equal("8589934592", options["gpu_mem_limit"]);
        Assert.Equal("kSameAsRequested", options["arena_extend_strategy"]);
        Assert.False(CudaProvider.OptionsFor(ExecutionProvider.Cuda(0)).ContainsKey("gpu_mem_limit"));
    }

    /// <summary>
    /// What the GPU package says on a machine without the CUDA 13 libraries (measured with a gpu build on this
    /// project's CPU machine): the missing library is named with the package that brings it.
    /// </summary>
    [Theory]
    [InlineData("libcublasLt.so.13", "the CUDA 13 runtime")]
    [InlineData("libcudnn.so.9", "cuDNN 9 for CUDA 13")]
    [InlineData("libcuda.so.1", "the NVIDIA driver")]
    public void A_missing_cuda_library_is_named_with_what_to_install(string library, string owner)
    {
        var message = "attaching CUDA device 0 (ONNX Runtime 1.32.0, /opt/riverbed/libonnxruntime.so): ONNX Runtime (Fail): " +
            "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2059 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() " +
            "[ONNXRuntimeError] : 1 : FAIL : Failed to load library /opt/riverbed/libonnxruntime_providers_cuda.so with error: " +
            $"{library}: cannot open shared object file: No such file or directory";

        var advice = CudaProvider.WithAdvice(message);

        Assert.StartsWith(message, advice, StringComparison.Ordinal);
        Assert.Contains($"{library} is missing; it comes with {owner}", advice, StringComparison.Ordinal);
        Assert.Contains("LD_LIBRARY_PATH", advice, StringComparison.Ordinal);
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
