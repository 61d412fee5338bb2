using Riverbed.Core.Tests.ModelKit;
using Riverbed.Core.Tests.Scoring;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>ModelRunner and ModelSet through the real runtime.</summary>
[Collection(ScoringOracles.Collection)]
public sealed class ModelRunnerTests(ScoringOracles oracles)
{
    private static string DemoModels => Path.Combine(TestPaths.RepositoryRoot, "models", "demo");

    private static ModelInput Pair(ModelRoleInfo model, string first, string second)
    {
        var encoding = model.Tokenizer.Encode(first, second);
        return new ModelInput([.. encoding.Ids], [.. encoding.TypeIds]);
    }

    [Fact]
    public void A_request_gives_the_same_results_alone_and_inside_a_batch_of_differently_sized_requests()
    {
        using var models = ModelSet.Open(DemoModels);
        var nli = models.Nli!;
        var rtd = models.Rtd!;
        var mlm = models.Mlm!;
        var target = Pair(nli.Info, "The river flows past the old stone bridge.", "A bridge stands over the river.");
        ModelInput[] others =
        [
            Pair(nli.Info, "Short.", "Tiny."),
            Pair(nli.Info, string.Join(' ', Enumerable.Repeat("children play near green fields", 30)), "Nobody plays."),
            Pair(nli.Info, "Bread.", "Fresh bread every morning in the market of the old town."),
        ];

        var alone = nli.Runners[0].ClassifyPairs([target])[0];
        var batched = nli.Runners[0].ClassifyPairs([others[0], target, others[1], others[2]])[1];
        Assert.Equal(alone.Entailment, batched.Entailment, 1e-5);
        Assert.Equal(alone.Neutral, batched.Neutral, 1e-5);
        Assert.Equal(alone.Contradiction, batched.Contradiction, 1e-5);
        Assert.Equal(1.0, (double)alone.Entailment + alone.Neutral + alone.Contradiction, 1e-5);

        var logitsAlone = rtd.Runners[0].ReplacedTokenLogits([target])[0];
        var logitsBatched = rtd.Runners[0].ReplacedTokenLogits([others[1], others[0], target])[2];
        Assert.Equal(target.Length, logitsAlone.Length);
        Assert.All(logitsAlone.Zip(logitsBatched), p => Assert.Equal(p.First, p.Second, 1e-5));

        var masked = (int[])target.Ids.Clone();
        masked[3] = mlm.Tokenizer.MaskTokenId!.Value;
        masked[6] = mlm.Tokenizer.MaskTokenId!.Value;
        var request = new FillMaskRequest(new ModelInput(masked, target.TypeIds), [3, 6], mlm.Info.WholeWords, 5);
        var other = new FillMaskRequest(others[1], [2], mlm.Info.WholeWords, 5);
        var topAlone = mlm.Runners[0].FillMask([request])[0];
        var topBatched = mlm.Runners[0].FillMask([other, request])[1];
        Assert.Equal(topAlone.Select(p => p.TopIds), topBatched.Select(p => p.TopIds));
        Assert.All(topAlone, p => Assert.Equal(5, p.TopIds.Length));
        Assert.All(topAlone.SelectMany(p => p.TopIds), id => Assert.True(mlm.Info.WholeWords.Contains(id)));
    }

    [Fact]
    public void Mask_predictions_keep_to_whole_words_best_first_with_ties_to_the_lower_id()
    {
        var r = FixtureVocabulary.Roberta;
        var profile = TokenizerProfile.FromTokenizerJson(ScoringOracles.RobertaJson);
        using var scratch = new ScratchFolder("runner-mlm");
        // "ing" (no space marker) continues a word, "<pad>" is special: neither may be predicted.
        OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = profile,
            Rules = [OracleMlmRule.WhenContains(r["Ġcat"], r["ing"], r["<pad>"], r["Ġdog"], r["Ġcat"])],
        }).SaveTo(scratch.File("mlm"), ScoringOracles.RobertaJson);
        using var models = ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.MaskedLm] = scratch.File("mlm") },
            new ModelSetOptions { Environment = oracles.Environment });
        var mlm = models.Mlm!;
        var mask = mlm.Tokenizer.MaskTokenId!.Value;
        var words = mlm.Info.WholeWords;

        var predictions = mlm.Runners[0].FillMask(
        [
            new FillMaskRequest(new ModelInput([0, r["Ġcat"], mask, 2], null), [2], words, 3),
            new FillMaskRequest(new ModelInput([0, mask, 2], null), [1], words, 3),   // no rule: every logit is 0
        ]);

        Assert.Equal([r["Ġdog"], r["Ġcat"], words.Ids[0]], predictions[0][0].TopIds);
        Assert.Equal(words.Ids[..3].ToArray(), predictions[1][0].TopIds);
        Assert.False(words.Contains(r["ing"]));
        Assert.False(words.Contains(r["<pad>"]));
        Assert.False(words.Contains(r["Ġ,"]));
        Assert.True(words.Contains(r["Ġdog"]));
    }

    [Fact]
    public void Int32_inputs_and_logits_with_a_trailing_axis_are_fed_and_read_as_the_model_declares()
    {
        var r = FixtureVocabulary.Roberta;
        var profile = TokenizerProfile.FromTokenizerJson(ScoringOracles.RobertaJson);
        using var scratch = new ScratchFolder("runner-int32");
        OracleGenerator.Nli(new NliOracleSpec
        {
            Tokenizer = profile,
            InputElementType = TensorElementType.Int32,
            Labels = ["neutral", "ENTAILMENT", "Contradiction"],
            Rules = [OracleNliRule.WhenHypothesisContains(r["Ġdog"], new(10, 20, 70))],
        }).SaveTo(scratch.File("nli"), ScoringOracles.RobertaJson);
        using var models = ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.Nli] = scratch.File("nli") },
            new ModelSetOptions { Environment = oracles.Environment });
        Assert.Equal(TensorElementType.Int32, models.Nli!.Folder.Contract.InputIdsType);

        var answer = models.Nli.Runners[0].ClassifyPairs([Pair(models.Nli.Info, "A cat.", "A dog."), Pair(models.Nli.Info, "A cat.", "A cow.")]);
        Assert.Equal((0.1f, 0.2f, 0.7f), (answer[0].Entailment, answer[0].Neutral, answer[0].Contradiction), new Near());
        Assert.Equal(1f / 3, answer[1].Contradiction, 1e-6);

        using var rtd = oracles.Open((ModelRole.ReplacedTokenDetection, "rtd-short"));
        Assert.True(rtd.Rtd!.Folder.Contract.LogitsHaveTrailingAxis);
        var b = FixtureVocabulary.Bert;
        var logits = rtd.Rtd.Runners[0].ReplacedTokenLogits([new ModelInput([101, b["obama"], 102], null), new ModelInput([101, 102], null)]);
        Assert.Equal([ScoringOracles.OtherLogit, ScoringOracles.ObamaLogit, ScoringOracles.OtherLogit], logits[0]);
        Assert.Equal(2, logits[1].Length);
    }

    private sealed class Near : IEqualityComparer<(float, float, float)>
    {
        public bool Equals((float, float, float) x, (float, float, float) y) =>
            Math.Abs(x.Item1 - y.Item1) < 1e-6 && Math.Abs(x.Item2 - y.Item2) < 1e-6 && Math.Abs(x.Item3 - y.Item3) < 1e-6;

        public int GetHashCode((float, float, float) obj) => 0;
    }

    [Fact]
    public void Inputs_longer_than_the_model_are_refused_before_the_runtime_and_cancellation_is_honoured()
    {
        using var models = oracles.Open((ModelRole.ReplacedTokenDetection, "rtd-short"));
        var runner = models.Rtd!.Runners[0];
        Assert.Equal(24, runner.MaxSequenceLength);

        var error = Assert.Throws<ArgumentException>(() => runner.ReplacedTokenLogits([new ModelInput(new int[25], null)]));
        Assert.Contains("25 tokens is longer than the rtd model accepts (24)", error.Message, StringComparison.Ordinal);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => runner.ReplacedTokenLogits([new ModelInput([101, 102], null)], cancelled.Token));
    }

    [Fact]
    public void A_model_set_reads_each_roles_limit_and_names_what_is_missing()
    {
        using var models = oracles.Open((ModelRole.MaskedLm, "mlm"), (ModelRole.ReplacedTokenDetection, "rtd"), (ModelRole.TokenClassification, "ner"));
        Assert.Equal(512, models.Mlm!.Info.MaxSequenceLength);   // RoBERTa: 514 positions − 2
        Assert.Equal(512, models.Rtd!.Info.MaxSequenceLength);
        using (var shortModels = oracles.Open((ModelRole.MaskedLm, "mlm-short")))
        {
            Assert.Equal(ScoringOracles.ShortLimit, shortModels.Mlm!.Info.MaxSequenceLength);
        }
        Assert.Equal(9, models.Ner!.Info.Labels.Count);
        Assert.Contains("no nli model: fill-and-compare and self-contradiction are skipped", models.Notes);
        Assert.Null(models.Nli);

        using var scratch = new ScratchFolder("model-set");
        var empty = Assert.Throws<RiverbedException>(() => ModelSet.Open(scratch.Path));
        Assert.Contains("holds none of mlm/, nli/, rtd/, ner/", empty.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<RiverbedException>(() => ModelSet.Open(scratch.File("nowhere")));
        Assert.Contains("models folder not found", missing.Message, StringComparison.Ordinal);

        // tokenizer_config.json's model_max_length caps the model's own limit.
        Directory.CreateDirectory(scratch.File("capped"));
        foreach (var file in Directory.GetFiles(oracles.Folder("rtd")))
        {
            File.Copy(file, Path.Combine(scratch.File("capped"), Path.GetFileName(file)));
        }
        File.WriteAllText(scratch.File("capped", "tokenizer_config.json"), """{"model_max_length": 128}""");
        using var capped = ModelSet.Open(new Dictionary<ModelRole, string> { [ModelRole.ReplacedTokenDetection] = scratch.File("capped") },
            new ModelSetOptions { Environment = oracles.Environment, SessionsPerRole = 2 });
        Assert.Equal(128, capped.Rtd!.Info.MaxSequenceLength);
        Assert.Equal(2, capped.Rtd.Runners.Count);
    }
}
