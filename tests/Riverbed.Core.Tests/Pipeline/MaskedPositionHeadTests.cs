using Riverbed.Core.Tests.ModelKit;
using Riverbed.Core.Tests.Scoring;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>The MLM's graph rewritten at load to run its vocabulary head at masked positions only, against the full logits.</summary>
[Trait("Category", "Slow")]
[Collection(ScoringOracles.Collection)]
public sealed class MaskedPositionHeadTests(ScoringOracles oracles)
{
    private const string Text = "The river flows past the old stone bridge, and children play near the green fields every summer morning.";

    public static TheoryData<string> Shapes => new()
    {
        "bert float32", "roberta float32", "bert float16", "roberta float16", "bert decomposed", "roberta decomposed float16",
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_masked_position_head_gives_the_ids_and_scores_of_the_full_logits(string shape)
    {
        using var scratch = new ScratchFolder("masked-head");
        using var models = OpenGenerated(scratch, shape, maskedHead: true);
        var mlm = models.Mlm!;
        var runner = mlm.Runners[0];
        Assert.True(mlm.Head!.Applied, mlm.Head.Description);
        Assert.NotNull(runner.MaskedHead);
        Assert.DoesNotContain(models.Notes, note => note.Contains("full logits", StringComparison.Ordinal));

        FillMaskRequest[] requests = [.. Requests(mlm, topK: 5), .. Requests(mlm, topK: 1)];
        var viaHead = runner.FillMaskScored(requests, useMaskedHead: true, CancellationToken.None);
        var viaLogits = runner.FillMaskScored(requests, useMaskedHead: false, CancellationToken.None);

        Assert.Equal(requests.Sum(r => r.MaskedPositions.Length), viaHead.Sum(r => r.Length));
        for (var r = 0; r < requests.Length; r++)
        {
            for (var m = 0; m < requests[r].MaskedPositions.Length; m++)
            {
                Assert.Equal(viaLogits[r][m].Ids, viaHead[r][m].Ids);
                Assert.Equal(requests[r].TopK, viaHead[r][m].Ids.Length);
                Assert.All(viaLogits[r][m].Scores.Zip(viaHead[r][m].Scores), pair => Assert.Equal(pair.First, pair.Second, 1e-5f));
                Assert.All(viaHead[r][m].Ids, id => Assert.True(mlm.Info.WholeWords.Contains(id)));
            }
        }
    }

    [Fact]
    public void A_batch_answers_each_request_as_it_is_answered_alone_through_the_head()
    {
        using var scratch = new ScratchFolder("masked-head-batch");
        using var models = OpenGenerated(scratch, "roberta float32", maskedHead: true);
        var mlm = models.Mlm!;
        var requests = Requests(mlm, topK: 3);
        var together = mlm.Runners[0].FillMask(requests);
        for (var r = 0; r < requests.Count; r++)
        {
            var alone = mlm.Runners[0].FillMask([requests[r]])[0];
            Assert.Equal(alone.Select(p => p.TopIds), together[r].Select(p => p.TopIds));
        }
    }

    [Fact]
    public void With_the_head_turned_off_the_runner_reads_the_full_logits_and_answers_the_same()
    {
        using var scratch = new ScratchFolder("masked-head-off");
        using var withHead = OpenGenerated(scratch, "bert float32", maskedHead: true);
        using var without = ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.MaskedLm] = scratch.File("mlm") },
            new ModelSetOptions { Environment = oracles.Environment, MaskedPositionHead = false });
        Assert.Null(without.Mlm!.Runners[0].MaskedHead);
        Assert.Null(without.Mlm.Head);
        var requests = Requests(withHead.Mlm!, topK: 2);
        Assert.Equal(
            without.Mlm.Runners[0].FillMask(requests).Select(r => r.Select(p => string.Join(',', p.TopIds))),
            withHead.Mlm!.Runners[0].FillMask(requests).Select(r => r.Select(p => string.Join(',', p.TopIds))));
    }

    [Fact]
    public void A_graph_without_a_position_wise_head_keeps_the_full_logits_and_says_so_once()
    {
        using var scratch = new ScratchFolder("masked-head-oracle");
        // The oracle MLM ranks ids by rules over the whole input: its logits mix positions up to the end.
        var r = FixtureVocabulary.Roberta;
        OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = TokenizerProfile.FromTokenizerJson(ScoringOracles.RobertaJson),
            Rules = [OracleMlmRule.WhenContains(r["Ġcat"], r["Ġdog"], r["Ġcat"])],
        }).SaveTo(scratch.File("mlm"), ScoringOracles.RobertaJson);
        using var models = ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.MaskedLm] = scratch.File("mlm") },
            new ModelSetOptions { Environment = oracles.Environment });
        Assert.False(models.Mlm!.Head!.Applied);
        Assert.Null(models.Mlm.Runners[0].MaskedHead);
        Assert.Single(models.Notes, note => note.StartsWith("mlm: full logits at every position: ", StringComparison.Ordinal));
    }

    private ModelSet OpenGenerated(ScratchFolder scratch, string shape, bool maskedHead)
    {
        var roberta = shape.StartsWith("roberta", StringComparison.Ordinal);
        var profile = roberta ? TokenizerProfile.RobertaBase : TokenizerProfile.BertBaseUncased;
        var spec = EncoderSpec.Create(roberta ? EncoderFamily.Roberta : EncoderFamily.Bert, EncoderHead.Mlm, profile.VocabSize) with
        {
            PadTokenId = profile.PadId,
            HiddenSize = 16,
            IntermediateSize = 32,
            LayerCount = 2,
            // Wider weights than a checkpoint's initializer range, so the top candidates are well apart from noise.
            InitializerRange = 0.2f,
            DecomposedLayerNorm = shape.Contains("decomposed", StringComparison.Ordinal),
        };
        if (shape.Contains("float16", StringComparison.Ordinal))
        {
            spec = spec with { Weights = WeightPrecision.Float16, OutputElementType = TensorElementType.Float16 };
        }
        var folder = scratch.File("mlm");
        EncoderGenerator.Generate(spec).SaveTo(folder, roberta ? ScoringOracles.RobertaJson : ScoringOracles.BertJson);
        return ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.MaskedLm] = folder },
            new ModelSetOptions { Environment = oracles.Environment, MaskedPositionHead = maskedHead });
    }

    /// <summary>Short and long inputs (one at the model's length limit, as a long turn's window is) with several masks each.</summary>
    private static List<FillMaskRequest> Requests(ModelEntry mlm, int topK)
    {
        var tokenizer = mlm.Tokenizer;
        var mask = tokenizer.MaskTokenId!.Value;
        var requests = new List<FillMaskRequest>();
        foreach (var repeat in new[] { 1, 3, 40 })
        {
            var ids = tokenizer.Encode(string.Join(' ', Enumerable.Repeat(Text, repeat))).Ids.ToArray();
            if (ids.Length > mlm.Info.MaxSequenceLength)
            {
                ids = [.. ids[..(mlm.Info.MaxSequenceLength - 1)], ids[^1]];
            }
            int[] positions = [.. Enumerable.Range(1, ids.Length - 2).Where(i => i % 7 == 3 || i == ids.Length - 2)];
            foreach (var position in positions)
            {
                ids[position] = mask;
            }
            requests.Add(new FillMaskRequest(new ModelInput(ids, null), positions, mlm.Info.WholeWords, topK));
        }
        return requests;
    }
}
