using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.Core.Tests.Inference;

public sealed class OnnxModelScannerTests
{
    private static OnnxModel SmallModel(Action<OnnxGraphBuilder>? extra = null)
    {
        var builder = new OnnxGraphBuilder();
        var x = builder.Input("x", TensorElementType.Float, "batch", 3);
        var y = builder.Node("Add", [x, builder.Weight("w", [3], [1f, 2f, 3f])]);
        extra?.Invoke(builder);
        builder.Output(y, "y", TensorElementType.Float, "batch", 3);
        return builder.Build();
    }

    [Fact]
    public void A_written_model_reads_back_with_its_ir_version_opsets_and_operators()
    {
        var summary = OnnxModelScanner.Scan(SmallModel().ToArray());

        Assert.Equal(8, summary.IrVersion);
        Assert.Equal(new OnnxOpset("", 17), Assert.Single(summary.Opsets));
        Assert.Equal([new OperatorUse("", "Add"), new OperatorUse("", "Identity")], summary.Operators);
        Assert.Empty(summary.ExternalData);
    }

    [Fact]
    public void External_data_locations_are_found_in_initializers()
    {
        var model = SmallModel(b => b.Add(OnnxTensor.External("big", TensorElementType.Float, [4], "../../etc/passwd", 0, 16)));

        var reference = Assert.Single(OnnxModelScanner.Scan(model.ToArray()).ExternalData);

        Assert.Equal(new ExternalDataReference("big", "../../etc/passwd"), reference);
    }

    [Fact]
    public void External_data_hidden_in_a_node_attribute_is_found_too()
    {
        var model = SmallModel(b => b.Node("Constant", [],
            OnnxAttribute.Tensor("value", OnnxTensor.External("hidden", TensorElementType.Float, [1], "/abs/path.bin", 0, 4))));

        Assert.Contains(new ExternalDataReference("hidden", "/abs/path.bin"), OnnxModelScanner.Scan(model.ToArray()).ExternalData);
    }

    [Fact]
    public void Operators_of_other_domains_are_reported_with_their_domain()
    {
        var model = SmallModel(b => b.DomainNode("com.microsoft", "EPContext", ["x"]));

        var summary = OnnxModelScanner.Scan(model.ToArray());

        Assert.Contains(new OperatorUse("com.microsoft", "EPContext"), summary.Operators);
        Assert.Contains(new OnnxOpset("com.microsoft", 1), summary.Opsets);
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0xff })]             // length runs past the end
    [InlineData(new byte[] { 0x08, 0x80, 0x80, 0x80 })] // truncated varint
    [InlineData(new byte[] { 0x08, 0x08 })]             // ir_version but no graph
    public void Bytes_that_are_not_an_onnx_model_are_rejected(byte[] bytes)
    {
        Assert.Throws<InvalidDataException>(() => OnnxModelScanner.Scan(bytes));
    }

    [Fact]
    public void A_model_saved_to_disk_scans_the_same_as_in_memory()
    {
        using var scratch = new ScratchFolder("onnx");
        var path = scratch.File("model.onnx");
        var model = SmallModel();
        model.Save(path);

        Assert.Equal(model.ToArray(), File.ReadAllBytes(path));
        Assert.Equal(OnnxModelScanner.Scan(model.ToArray()).Operators, OnnxModelScanner.Scan(path).Operators);
    }

    [Fact]
    public void A_tensor_whose_values_do_not_fill_its_shape_is_refused_when_built()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxTensor.FromFloats("w", [2, 3], [1f, 2f]));
        Assert.Contains("'w'", error.Message, StringComparison.Ordinal);
    }
}
