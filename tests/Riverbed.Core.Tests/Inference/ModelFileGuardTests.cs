using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Core.Tests.Inference;

/// <summary>What Riverbed refuses before ONNX Runtime reads a byte of the model (reliability F4, F5).</summary>
public sealed class ModelFileGuardTests : IClassFixture<EnvironmentFixture>
{
    private readonly InferenceEnvironment _environment;

    public ModelFileGuardTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    private static OnnxModel WithExternalWeight(string location)
    {
        var b = new OnnxGraphBuilder();
        var x = b.Input("x", TensorElementType.Float, 4);
        b.Add(OnnxTensor.External("w", TensorElementType.Float, [4], location, 0, 16));
        b.Output(b.Node("Add", [x, "w"]), "y", TensorElementType.Float, 4);
        return b.Build();
    }

    private RiverbedException Refusal(string modelPath)
    {
        var error = Assert.ThrowsAny<RiverbedException>(() => InferenceSession.Create(_environment, modelPath));
        Assert.IsNotType<OrtException>(error); // Riverbed's own check, not the runtime's
        return error;
    }

    [Fact]
    public void A_missing_model_file_is_named()
    {
        using var scratch = new ScratchFolder("guard");
        var error = Refusal(scratch.File("absent.onnx"));
        Assert.Contains($"model file not found: '{scratch.File("absent.onnx")}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_model_file_is_refused_with_its_path()
    {
        using var scratch = new ScratchFolder("guard");
        var path = scratch.File("model.onnx");
        var bytes = TestModels.Affine().ToArray();
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());

        var error = Refusal(path);

        Assert.Contains($"'{path}' is not a valid ONNX model", error.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt, truncated or not an ONNX export", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_file_the_runtime_cannot_load_reports_the_runtime_error_with_the_path()
    {
        using var scratch = new ScratchFolder("guard");
        var b = new OnnxGraphBuilder();
        var x = b.Input("x", TensorElementType.Float, 2);
        b.Output(b.Node("NoSuchOperator", [x]), "y", TensorElementType.Float, 2);
        var path = b.Build().Save(scratch);

        var error = Assert.Throws<OrtException>(() => InferenceSession.Create(_environment, path));

        Assert.StartsWith($"loading model '{path}': ONNX Runtime", error.Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchOperator", error.RuntimeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_reaching_out_of_the_folder_with_dot_dot_is_refused()
    {
        using var scratch = new ScratchFolder("guard");
        Directory.CreateDirectory(scratch.File("model"));
        File.WriteAllBytes(scratch.File("secret.bin"), new byte[16]);
        var path = WithExternalWeight("../secret.bin").Save(scratch, Path.Combine("model", "model.onnx"));

        var error = Refusal(path);

        Assert.Contains("tensor 'w' loads its data from '../secret.bin', which is outside the model folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_at_an_absolute_path_is_refused()
    {
        using var scratch = new ScratchFolder("guard");
        var path = WithExternalWeight("/etc/passwd").Save(scratch);

        Assert.Contains("loads its data from '/etc/passwd', an absolute path", Refusal(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_through_a_symbolic_link_out_of_the_folder_is_refused()
    {
        using var scratch = new ScratchFolder("guard");
        Directory.CreateDirectory(scratch.File("model"));
        File.WriteAllBytes(scratch.File("outside.bin"), new byte[16]);
        File.CreateSymbolicLink(scratch.File("model", "weights.bin"), scratch.File("outside.bin"));
        var path = WithExternalWeight("weights.bin").Save(scratch, Path.Combine("model", "model.onnx"));

        var error = Refusal(path);

        Assert.Contains("a symbolic link to", error.Message, StringComparison.Ordinal);
        Assert.Contains("outside.bin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_that_is_a_hard_link_is_refused()
    {
        using var scratch = new ScratchFolder("guard");
        Directory.CreateDirectory(scratch.File("model"));
        File.WriteAllBytes(scratch.File("outside.bin"), new byte[16]);
        using (var ln = System.Diagnostics.Process.Start("ln", [scratch.File("outside.bin"), scratch.File("model", "weights.bin")]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }
        var path = WithExternalWeight("weights.bin").Save(scratch, Path.Combine("model", "model.onnx"));

        Assert.Contains("a file with 2 hard links", Refusal(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_that_does_not_exist_is_named()
    {
        using var scratch = new ScratchFolder("guard");
        var path = WithExternalWeight("weights.bin").Save(scratch);

        Assert.Contains("loads its data from 'weights.bin', which does not exist in the model folder", Refusal(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_inside_the_folder_loads()
    {
        using var scratch = new ScratchFolder("guard");
        float[] weights = [1f, 2f, 3f, 4f];
        File.WriteAllBytes(scratch.File("weights.bin"), weights.SelectMany(BitConverter.GetBytes).ToArray());
        using var session = InferenceSession.Create(_environment, WithExternalWeight("weights.bin").Save(scratch));
        using var x = OrtTensor.Create([4], new[] { 10f, 20f, 30f, 40f });

        using var result = session.Run([new NamedTensor("x", x)]);

        Assert.Equal([11f, 22f, 33f, 44f], result["y"].GetData<float>().ToArray());
    }

    [Fact]
    public void An_EPContext_node_is_refused_unless_allowed()
    {
        using var scratch = new ScratchFolder("guard");
        var b = new OnnxGraphBuilder();
        var x = b.Input("x", TensorElementType.Float, 2);
        b.Output(b.DomainNode("com.microsoft", "EPContext", [x]), "y", TensorElementType.Float, 2);
        var path = b.Build().Save(scratch);

        Assert.Contains("contains a com.microsoft EPContext node", Refusal(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Operators_of_an_unknown_domain_are_refused()
    {
        using var scratch = new ScratchFolder("guard");
        var b = new OnnxGraphBuilder();
        var x = b.Input("x", TensorElementType.Float, 2);
        b.Output(b.DomainNode("evil.ops", "Backdoor", [x]), "y", TensorElementType.Float, 2);
        var path = b.Build().Save(scratch);

        Assert.Contains("uses operator 'Backdoor' from domain 'evil.ops', which needs a custom-operator library", Refusal(path).Message, StringComparison.Ordinal);
    }
}
