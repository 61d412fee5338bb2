using Riverbed.Inference;

namespace Riverbed.Core.Tests.Inference;

public sealed class IoBindingTests : IClassFixture<EnvironmentFixture>
{
    private readonly InferenceEnvironment _environment;

    public IoBindingTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    [Fact]
    public void A_bound_run_gives_what_a_plain_run_gives()
    {
        using var scratch = new ScratchFolder("binding");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create([2, 3], new[] { 1f, 2f, 3f, -1f, 0.25f, 8f });
        using var plain = session.Run([new NamedTensor("x", x)]);
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", x);
        binding.BindOutputToDevice("y");

        using var bound = session.Run(binding);

        Assert.Equal("y", Assert.Single(bound).Name);
        Assert.True(bound["y"].IsOnHost); // a CPU session's device is the host
        Assert.Equal(plain["y"].Shape.ToArray(), bound["y"].Shape.ToArray());
        Assert.Equal(plain["y"].GetData<float>().ToArray(), bound["y"].GetData<float>().ToArray());
    }

    [Fact]
    public void On_the_cpu_a_bound_input_is_read_in_place_at_each_run()
    {
        using var scratch = new ScratchFolder("binding");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var x = OrtTensor.Create([1, 3], new[] { 1f, 0f, 0f });
        using var y = OrtTensor.Create<float>(1, 2);
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", x);
        binding.BindOutput("y", y);

        session.Run(binding).Dispose();
        var first = y.Span.ToArray();
        x.Span[0] = 2f; // no rebinding: the binding references the tensor's memory, it did not copy it
        session.Run(binding).Dispose();

        Assert.Equal([1.5f, 1f], first);
        Assert.Equal([2.5f, 3f], y.Span.ToArray());
    }

    [Fact]
    public void A_bound_tensor_stays_valid_after_the_caller_disposes_it()
    {
        using var scratch = new ScratchFolder("binding");
        using var session = InferenceSession.Create(_environment, TestModels.Affine().Save(scratch));
        using var binding = session.CreateIoBinding();
        var x = OrtTensor.Create([1, 3], new[] { 0f, 0f, 1f });
        binding.BindInput("x", x);
        binding.BindOutputToDevice("y");
        x.Dispose();
        // Whatever the pool hands out next must not be the memory the binding still reads.
        using var other = OrtTensor.Create([1, 3], new[] { 9f, 9f, 9f });

        using var result = session.Run(binding);

        Assert.Equal([5.5f, 5f], result["y"].GetData<float>().ToArray());
    }

    [Fact]
    public void Cleared_outputs_are_not_returned()
    {
        using var scratch = new ScratchFolder("binding");
        using var session = InferenceSession.Create(_environment, TestModels.Float16Echo().Save(scratch));
        using var x = OrtTensor.Create([1], new[] { (Half)2 });
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", x);
        binding.BindOutputToDevice("same");
        binding.ClearBoundOutputs();
        binding.BindOutputToDevice("wide");

        using var result = session.Run(binding);

        Assert.Equal("wide", Assert.Single(result).Name);
        Assert.Equal([2f], result["wide"].GetData<float>().ToArray());
    }
}
