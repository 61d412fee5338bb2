using System.Diagnostics;
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
    public void A_cancelled_token_stops_a_long_run_soon_after()
    {
        using var scratch = new ScratchFolder("ort");
        // 3,000 MatMuls of 512×512: about 15 s uncancelled on a 2-core machine, three times the bound below.
        using var session = InferenceSession.Create(_environment, TestModels.SlowChain(3000, 512).Save(scratch));
        using var x = OrtTensor.Create<float>(512, 512);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<OperationCanceledException>(() => session.Run([new NamedTensor("x", x)], cancellation.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {clock.Elapsed}");
        Assert.IsType<OrtException>(error.InnerException);
    }
}

/// <summary>One environment for a test class (ONNX Runtime keeps one per process anyway).</summary>
public sealed class EnvironmentFixture : IDisposable
{
    public InferenceEnvironment Environment { get; } = InferenceEnvironment.Create(OrtLogLevel.Error);

    public void Dispose() => Environment.Dispose();
}
