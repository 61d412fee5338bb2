using Riverbed.ModelKit;
using Xunit.Abstractions;
// tests/Shared has a contract-test EncoderSpec of its own; this file means the generator's.

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>Generated encoders through the real runtime equal the independent reference forward pass.</summary>
public sealed class EncoderReferenceTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    // Two sequences of different length in real ids of the tokenizer the model is sized to, the shorter one padded:
    // the mask must keep the pads out of attention.
    private static (long[][] Ids, long[][] Mask, long[][] Types) Batch(EncoderSpec spec)
    {
        long pad = spec.PadTokenId;
        long[][] ids;
        if (spec.Family == EncoderFamily.Roberta)
        {
            var v = FixtureVocabulary.Roberta;
            ids =
            [
                [0, v["Ġthe"], v["Ġcat"], v["Ġsat"], 2, 2, v["Ġon"], v["Ġmat"], 2],
                [0, v["Ġdog"], v["Ġran"], 2, pad, pad, pad, pad, pad],
            ];
        }
        else
        {
            var v = FixtureVocabulary.Bert;
            ids =
            [
                [101, v["the"], v["cat"], v["sat"], 102, v["on"], v["the"], v["mat"], 102],
                [101, v["dog"], v["ran"], 102, pad, pad, pad, pad, pad],
            ];
        }
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0, 0]];
        long[][] types = [[0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0]];
        return (ids, mask, types);
    }

    // Vocabulary sized to the real tokenizer of the family; small everywhere else. Larger-than-HF weights make
    // attention far from uniform, so a wrong mask or head split shows.
    private static EncoderSpec Spec(EncoderFamily family, EncoderHead head, int layers)
    {
        var tokenizer = family == EncoderFamily.Roberta ? TokenizerProfile.RobertaBase : TokenizerProfile.BertBaseUncased;
        return EncoderSpec.Create(family, head, tokenizer.VocabSize) with
        {
            PadTokenId = tokenizer.PadId,
            LayerCount = layers,
            HiddenSize = 16,
            HeadCount = 4,
            IntermediateSize = 24,
            InitializerRange = 0.3f,
            Seed = 7,
        };
    }

    public static TheoryData<EncoderFamily, EncoderHead, int> Cases => new()
    {
        { EncoderFamily.Bert, EncoderHead.Mlm, 1 },
        { EncoderFamily.Bert, EncoderHead.Nli, 1 },
        { EncoderFamily.Electra, EncoderHead.Rtd, 1 },
        { EncoderFamily.Roberta, EncoderHead.Mlm, 2 },
        { EncoderFamily.Roberta, EncoderHead.Nli, 2 },
        { EncoderFamily.Electra, EncoderHead.Rtd, 2 },
        { EncoderFamily.Bert, EncoderHead.Ner, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_runtime_computes_what_the_reference_computes(EncoderFamily family, EncoderHead head, int layers)
    {
        var spec = Spec(family, head, layers);
        var (ids, mask, types) = Batch(spec);
        var expected = ReferenceEncoder.Forward(EncoderWeights.Generate(spec), ids, mask, spec.HasTokenTypeIds ? types : null);
        using var scratch = new ScratchFolder("reference");
        var path = scratch.File("model.onnx");
        EncoderGenerator.Generate(spec).Model.Save(path);

        var actual = GeneratedModelRuns.Run(path, ids, mask, spec.HasTokenTypeIds ? types : null);

        Assert.Equal(expected.Length, actual.Values.Length);
        var maxDifference = expected.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max();
        output.WriteLine($"{family} {head}, {layers} layer(s): max |runtime − reference| = {maxDifference:E3}");
        Assert.True(maxDifference <= Tolerance, $"max |runtime − reference| = {maxDifference:E3}");
        // Logits must actually vary, or the comparison proves nothing.
        Assert.True(expected.Max() - expected.Min() > 0.5, $"logits span only {expected.Max() - expected.Min():F3}");
        // And the padding matters: attending to the pads would give other outputs than the runtime's.
        long[][] ignoringMask = [.. mask.Select(row => row.Select(_ => 1L).ToArray())];
        var unmasked = ReferenceEncoder.Forward(EncoderWeights.Generate(spec), ids, ignoringMask, spec.HasTokenTypeIds ? types : null);
        Assert.True(unmasked.Zip(actual.Values, (e, a) => Math.Abs(e - a)).Max() > 100 * Tolerance);
    }

    [Fact]
    public void Float16_weights_int32_inputs_and_float16_logits_still_follow_the_reference()
    {
        var spec = Spec(EncoderFamily.Roberta, EncoderHead.Mlm, layers: 1) with
        {
            Weights = WeightPrecision.Float16,
            InputElementType = Riverbed.Inference.TensorElementType.Int32,
            OutputElementType = Riverbed.Inference.TensorElementType.Float16,
        };
        var (ids, mask, _) = Batch(spec);
        // The reference reads the float16-rounded weights; only the final cast to float16 differs.
        var expected = ReferenceEncoder.Forward(EncoderWeights.Generate(spec), ids, mask, null);
        using var scratch = new ScratchFolder("reference");
        var path = scratch.File("model.onnx");
        EncoderGenerator.Generate(spec).Model.Save(path);

        var actual = GeneratedModelRuns.Run(path, ids, mask, inputType: Riverbed.Inference.TensorElementType.Int32);

        Assert.Equal(Riverbed.Inference.TensorElementType.Float16, actual.ElementType);
        for (var i = 0; i < expected.Length; i++)
        {
            // float16 keeps 11 significant bits: half an ulp is |x|·2⁻¹¹.
            Assert.True(Math.Abs(expected[i] - actual.Values[i]) <= (Math.Abs(expected[i]) * Math.Pow(2, -11)) + Tolerance,
                $"logit {i}: reference {expected[i]}, runtime {actual.Values[i]}");
        }
    }
}
