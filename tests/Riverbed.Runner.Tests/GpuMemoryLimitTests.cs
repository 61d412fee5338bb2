using Riverbed.Inference;
using Riverbed.Runner.Commands;

namespace Riverbed.Runner.Tests;

public sealed class GpuMemoryLimitTests
{
    [Theory]
    [InlineData("1048576", 1_048_576L)]
    [InlineData("16GB", 16_000_000_000L)]
    [InlineData("20GiB", 20L << 30)]
    [InlineData("1.5 GiB", 3L << 29)]
    [InlineData("512mib", 512L << 20)]
    public void A_size_is_read_in_bytes_with_decimal_or_binary_units(string text, long bytes) =>
        Assert.Equal(bytes, ScoreOptionSet.ParseMemorySize(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("0")]
    [InlineData("12 parsecs")]
    [InlineData("-3GB")]
    public void Anything_else_is_refused_with_what_a_size_looks_like(string text)
    {
        var error = Assert.Throws<RiverbedException>(() => ScoreOptionSet.ParseMemorySize(text));
        Assert.Contains("is not a size such as", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_value_means_no_limit() => Assert.Null(ScoreOptionSet.ParseMemorySize(null));

    [Fact]
    public void The_limit_reaches_the_cuda_provider_and_is_ignored_on_the_cpu()
    {
        var onGpu = new ScoreSettings { ModelsFolder = "m", Device = "cuda:1", GpuMemoryLimitBytes = 8L << 30 };
        Assert.Equal(ExecutionProviderKind.Cuda, onGpu.Provider.Kind);
        Assert.Equal(1, onGpu.Provider.DeviceId);
        Assert.Equal(8L << 30, onGpu.Provider.MemoryLimitBytes);

        var onCpu = new ScoreSettings { ModelsFolder = "m", Device = "cpu", GpuMemoryLimitBytes = 8L << 30 };
        Assert.Null(onCpu.Provider.MemoryLimitBytes);
    }
}
