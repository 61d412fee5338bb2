using Riverbed.Inference;
using Riverbed.Inference.Hub;
using Riverbed.Inference.Onnx;

namespace Riverbed.Core.Tests.Inference.Hub;

public sealed class ElectraDiscriminatorHeadTests : IClassFixture<EnvironmentFixture>, IDisposable
{
    private const int Vocabulary = 40;
    private const int Hidden = HubModels.RtdHidden;

    private static readonly long[] Ids = [1, 7, 3, 39, 12, 5, 0, 0];
    private static readonly long[] Mask = [1, 1, 1, 1, 1, 1, 0, 0];
    private static readonly long[] Types = [0, 0, 1, 1, 0, 0, 0, 0];

    private readonly InferenceEnvironment _environment;
    private readonly ScratchFolder _scratch = new("electra-head");

    public ElectraDiscriminatorHeadTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData(HeadActivation.Gelu, false, 17)]
    [InlineData(HeadActivation.GeluTanh, false, 17)]
    [InlineData(HeadActivation.Relu, false, 17)]
    [InlineData(HeadActivation.Gelu, true, 17)]
    [InlineData(HeadActivation.Gelu, false, 11)]
    public void The_appended_head_computes_what_the_checkpoints_weights_give_when_applied_by_hand(HeadActivation activation, bool float16, long opset)
    {
        var encoder = HubModels.FeatureExtractor(Vocabulary, float16, opset).ToArray();
        var tensors = HubModels.HeadTensors();
        var checkpoint = HubModels.Safetensors(tensors);
        var head = ReadHead(checkpoint, activation);

        var spliced = Append(head, encoder);
        var hidden = RunEncoder(encoder, float16);
        var logits = RunHead(spliced, out var shape);

        Assert.Equal([2L, 4L], shape);
        var expected = Reference(hidden, tensors, activation);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - logits[i]) <= 1e-5, $"token {i}: head by hand {expected[i]}, appended head {logits[i]}");
        }
        Assert.True(expected.Distinct().Count() > 4, "the reference must vary across tokens, or the comparison proves little");
    }

    [Fact]
    public void The_appended_model_exposes_logits_only_and_keeps_the_encoders_inputs()
    {
        var head = ReadHead(HubModels.Safetensors(HubModels.HeadTensors()), HeadActivation.Gelu);

        var outline = OnnxGraphSplicer.Outline(Append(head, HubModels.FeatureExtractor(Vocabulary).ToArray()));

        var output = Assert.Single(outline.Outputs);
        Assert.Equal("logits", output.Name);
        Assert.Equal(TensorElementType.Float, output.ElementType);
        Assert.Equal(["batch_size", "sequence_length"], output.Shape.Select(d => d.Symbol));
    }

    [Fact]
    public void A_model_that_already_has_logits_or_lacks_hidden_states_or_has_another_width_is_refused()
    {
        var head = ReadHead(HubModels.Safetensors(HubModels.HeadTensors()), HeadActivation.Gelu);
        var withLogits = TestModels.Affine();
        withLogits.Graph.Outputs.Add(new OnnxValueInfo("logits", TensorElementType.Float, "batch", 2));
        var narrow = ReadHead(HubModels.Safetensors(HubModels.HeadTensors(hidden: 4)), HeadActivation.Gelu, hidden: 4);

        var already = Assert.Throws<InvalidDataException>(() => Append(head, withLogits.ToArray()));
        var noHidden = Assert.Throws<InvalidDataException>(() => Append(head, TestModels.Affine().ToArray()));
        var width = Assert.Throws<InvalidDataException>(() => Append(narrow, HubModels.FeatureExtractor(Vocabulary).ToArray()));

        Assert.Contains("already has a 'logits' output", already.Message, StringComparison.Ordinal);
        Assert.Contains("has no 'last_hidden_state' output (its outputs are 'y')", noHidden.Message, StringComparison.Ordinal);
        Assert.Contains("is 8 wide but the checkpoint's head is for hidden size 4", width.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_whose_head_has_the_wrong_shape_is_refused()
    {
        var checkpoint = HubModels.Safetensors(HubModels.HeadTensors(hidden: 4));

        var error = Assert.Throws<InvalidDataException>(() => ReadHead(checkpoint, HeadActivation.Gelu));

        Assert.Contains("'discriminator_predictions.dense.weight' has shape [4, 4]; expected [8, 8]", error.Message, StringComparison.Ordinal);
    }

    private static ElectraDiscriminatorHead ReadHead(byte[] checkpoint, HeadActivation activation, int hidden = Hidden)
    {
        var length = SafetensorsHeader.ReadHeaderLength(checkpoint, "model.safetensors", checkpoint.Length);
        var header = SafetensorsHeader.Parse(checkpoint.AsSpan(8, (int)length), "model.safetensors", checkpoint.Length);
        return ElectraDiscriminatorHead.FromCheckpoint(header, t => checkpoint.AsSpan((int)t.Start, (int)t.Length).ToArray(), hidden, activation);
    }

    private static byte[] Append(ElectraDiscriminatorHead head, byte[] encoder)
    {
        using var output = new MemoryStream();
        head.AppendTo(encoder, output, "encoder.onnx");
        return output.ToArray();
    }

    private float[] RunEncoder(byte[] encoder, bool float16)
    {
        var path = _scratch.File("encoder.onnx");
        File.WriteAllBytes(path, encoder);
        using var session = InferenceSession.Create(_environment, path);
        using var result = Run(session);
        var hidden = result["last_hidden_state"];
        return float16 ? [.. hidden.GetData<Half>().ToArray().Select(h => (float)h)] : hidden.GetData<float>().ToArray();
    }

    private float[] RunHead(byte[] model, out long[] shape)
    {
        var path = _scratch.File("rtd.onnx");
        File.WriteAllBytes(path, model);
        using var session = InferenceSession.Create(_environment, path);
        using var result = Run(session);
        shape = result["logits"].Shape.ToArray();
        return result["logits"].GetData<float>().ToArray();
    }

    private static RunResult Run(InferenceSession session)
    {
        using var ids = OrtTensor.Create([2, 4], Ids);
        using var mask = OrtTensor.Create([2, 4], Mask);
        using var types = OrtTensor.Create([2, 4], Types);
        return session.Run([new NamedTensor("input_ids", ids), new NamedTensor("attention_mask", mask), new NamedTensor("token_type_ids", types)]);
    }

    /// <summary>ElectraDiscriminatorPredictions applied by hand: dense (torch layout [out, in]), activation, dense to one logit.</summary>
    private static float[] Reference(float[] hidden, List<SafetensorsEntry> tensors, HeadActivation activation)
    {
        float[] Values(string name) => SafetensorsHeader.ToFloats(
            new SafetensorsTensor(name, "F32", tensors.Single(t => t.Name == name).Shape, 0, tensors.Single(t => t.Name == name).Data.Length),
            tensors.Single(t => t.Name == name).Data);
        var w1 = Values(ElectraDiscriminatorHead.DenseWeightName);
        var b1 = Values(ElectraDiscriminatorHead.DenseBiasName);
        var w2 = Values(ElectraDiscriminatorHead.PredictionWeightName);
        var b2 = Values(ElectraDiscriminatorHead.PredictionBiasName)[0];
        var tokens = hidden.Length / Hidden;
        var logits = new float[tokens];
        for (var t = 0; t < tokens; t++)
        {
            double logit = b2;
            for (var o = 0; o < Hidden; o++)
            {
                double d = b1[o];
                for (var i = 0; i < Hidden; i++)
                {
                    d += w1[(o * Hidden) + i] * (double)hidden[(t * Hidden) + i];
                }
                logit += w2[o] * Activate(d, activation);
            }
            logits[t] = (float)logit;
        }
        return logits;
    }

    private static double Activate(double x, HeadActivation activation) => activation switch
    {
        HeadActivation.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        HeadActivation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x)))),
        _ => Math.Max(0, x),
    };

    /// <summary>
    /// erf in double precision: its Maclaurin series below |x| = 3 (where cancellation stays harmless), and above it
    /// 1 − erfc with erfc from its continued fraction, evaluated from the tail.
    /// </summary>
    private static double Erf(double x)
    {
        var a = Math.Abs(x);
        if (a < 3)
        {
            double sum = 0, term = x;
            for (var n = 0; n < 100; n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        var fraction = a;
        for (var k = 80; k >= 1; k--)
        {
            fraction = a + (k / 2.0 / fraction);
        }
        var erfc = Math.Exp(-a * a) / (Math.Sqrt(Math.PI) * fraction);
        return Math.Sign(x) * (1 - erfc);
    }
}
