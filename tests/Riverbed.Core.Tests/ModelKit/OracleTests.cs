using Riverbed.Inference;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>Oracle models, run through the real runtime, produce exactly their engineered outputs.</summary>
public sealed class OracleTests
{
    private static readonly FixtureVocabulary Bert = FixtureVocabulary.Bert;
    private static readonly FixtureVocabulary Roberta = FixtureVocabulary.Roberta;

    [Fact]
    public void Tokenizer_profiles_read_from_the_fixtures_match_the_presets()
    {
        Assert.Equal(TokenizerProfile.BertBaseUncased, TokenizerProfile.FromTokenizerJson(Bert.Path));
        Assert.Equal(TokenizerProfile.RobertaBase, TokenizerProfile.FromTokenizerJson(Roberta.Path));
        var unigram = TokenizerProfile.FromTokenizerJson(TestPaths.Fixture("tokenizers", "deberta-v3-style-unigram", "tokenizer.json"));
        Assert.Equal(8001, unigram.VocabSize);
        Assert.Equal(EncoderFamily.Bert, unigram.Family);
    }

    [Fact]
    public void A_tokenizer_without_a_mask_token_or_not_a_tokenizer_at_all_is_refused_with_its_path()
    {
        using var scratch = new ScratchFolder("profile");
        var path = scratch.File("tokenizer.json");
        File.WriteAllText(path, File.ReadAllText(Bert.Path).Replace("[MASK]", "[UNUSED-MASK]", StringComparison.Ordinal));
        var error = Assert.Throws<RiverbedException>(() => TokenizerProfile.FromTokenizerJson(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("[MASK]", error.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "[1, 2, 3]");
        error = Assert.Throws<TokenizerLoadException>(() => TokenizerProfile.FromTokenizerJson(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mlm_oracle_predicts_by_context_at_masks_and_the_input_elsewhere()
    {
        int cls = 101, sep = 102, mask = 103, pad = 0;
        int the = Bert["the"], camel = Bert["camel"], isId = Bert["is"], dot = Bert["."], dog = Bert["dog"], cat = Bert["cat"],
            horse = Bert["horse"], animal = Bert["animal"], small = Bert["small"], tiny = Bert["tiny"], a = Bert["a"],
            b = Bert["b"], x = Bert["x"], y = Bert["y"];
        var spec = new MlmOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            Rules =
            [
                OracleMlmRule.WhenContains(camel, dog, cat, horse),
                new OracleMlmRule { Ranking = [tiny], Conditions = [new OracleCondition(small, OracleSegment.Second)] },
                new OracleMlmRule { Ranking = [x], PreviousId = a },
                new OracleMlmRule { Ranking = [y], PreviousId = b, NextId = sep },
            ],
            DefaultRanking = [animal],
        };
        long[][] ids =
        [
            [cls, the, camel, isId, mask, dot, sep, pad],
            [cls, the, cat, isId, mask, dot, sep, camel],   // the camel is padding: it does not count
            [cls, the, sep, small, mask, sep, pad, pad],    // "small" in the second segment
            [cls, small, mask, sep, the, sep, pad, pad],    // "small" only in the first segment
            [cls, a, mask, b, mask, sep, pad, pad],         // neighbours choose per mask
        ];
        long[][] attention =
        [
            [1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0],
        ];
        long[][] types =
        [
            [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
        ];

        var result = Run(OracleGenerator.Mlm(spec), ids, attention, types);

        Assert.Equal([5L, 8L, 30522L], result.Shape);
        var v = 30522;
        float[] Row(int bi, int ti) => result.Values.AsSpan(((bi * 8) + ti) * v, v).ToArray();
        int[] Top(int bi, int ti, int k) =>
            [.. Row(bi, ti).Select((logit, id) => (logit, id)).OrderByDescending(p => p.logit).ThenBy(p => p.id).Take(k).Select(p => p.id)];
        Assert.Equal([dog, cat, horse], Top(0, 4, 3));
        Assert.Equal([MlmOracleSpec.TopLogit, MlmOracleSpec.TopLogit - 1, MlmOracleSpec.TopLogit - 2, 0f],
            Top(0, 4, 4).Select(id => Row(0, 4)[id]));
        Assert.Equal(animal, Top(1, 4, 1)[0]);
        Assert.Equal(tiny, Top(2, 4, 1)[0]);
        Assert.Equal(animal, Top(3, 2, 1)[0]);
        Assert.Equal(x, Top(4, 2, 1)[0]);
        Assert.Equal(y, Top(4, 4, 1)[0]);
        for (var bi = 0; bi < ids.Length; bi++)
        {
            for (var ti = 0; ti < 8; ti++)
            {
                if (ids[bi][ti] != mask)
                {
                    Assert.Equal((int)ids[bi][ti], Top(bi, ti, 1)[0]);
                    Assert.Equal(MlmOracleSpec.TopLogit, Row(bi, ti).Max());
                }
            }
        }
    }

    [Fact]
    public void The_mlm_oracle_finds_the_second_segment_after_the_first_separator_without_token_types()
    {
        int s = 0, e = 2, mask = 50264, pad = 1;
        int small = Roberta["Ġsmall"], tiny = Roberta["Ġtiny"], fluffy = Roberta["Ġfluffy"], dog = Roberta["Ġdog"];
        var spec = new MlmOracleSpec
        {
            Tokenizer = TokenizerProfile.RobertaBase,
            Rules = [new OracleMlmRule { Ranking = [tiny], Conditions = [new OracleCondition(small, OracleSegment.Second)] }],
            DefaultRanking = [dog],
        };
        long[][] ids = [[s, fluffy, e, e, small, mask, e], [s, small, e, e, fluffy, mask, e], [s, small, mask, e, pad, pad, pad]];
        long[][] attention = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]];

        var result = Run(OracleGenerator.Mlm(spec), ids, attention, types: null);

        int Argmax(int bi, int ti) => ArgMax(result.Values.AsSpan(((bi * 7) + ti) * 50265, 50265));
        Assert.Equal(tiny, Argmax(0, 5));
        Assert.Equal(dog, Argmax(1, 5));
        Assert.Equal(dog, Argmax(2, 2));
        Assert.Equal(fluffy, Argmax(1, 4));
    }

    [Theory]
    [InlineData("CONTRADICTION,NEUTRAL,ENTAILMENT")]
    [InlineData("entailment,neutral,contradiction")]
    [InlineData("Neutral,Entailment,Contradiction")]
    public void The_nli_oracle_returns_the_chosen_probabilities_in_the_declared_label_order(string labelOrder)
    {
        var labels = labelOrder.Split(',');
        int s = 0, e = 2, pad = 1;
        int fluffy = Roberta["Ġfluffy"], small = Roberta["Ġsmall"], camel = Roberta["Ġcamel"], dog = Roberta["Ġdog"], the = Roberta["Ġthe"];
        var spec = new NliOracleSpec
        {
            Tokenizer = TokenizerProfile.RobertaBase,
            Labels = labels,
            Rules =
            [
                OracleNliRule.WhenPair(fluffy, small, new NliProbabilities(13.0892, 79.0414, 7.8693)),
                OracleNliRule.WhenPair(small, fluffy, new NliProbabilities(0.1456, 99.7456, 0.1087)),
                OracleNliRule.WhenHypothesisContains(dog, new NliProbabilities(1.8346, 3.7347, 94.4307)),
            ],
            Default = new NliProbabilities(0.111, 1.8248, 98.0642),
        };
        long[][] ids =
        [
            [s, the, fluffy, e, e, the, small, e],
            [s, the, small, e, e, the, fluffy, e],
            [s, dog, e, e, camel, e, pad, pad],     // dog only in the premise: default
            [s, camel, e, e, the, dog, e, pad],
        ];
        long[][] attention = [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1, 0]];

        var result = Run(OracleGenerator.Nli(spec), ids, attention, types: null);

        Assert.Equal([4L, 3L], result.Shape);
        (double E, double N, double C)[] expected = [(13.0892, 79.0414, 7.8693), (0.1456, 99.7456, 0.1087), (0.111, 1.8248, 98.0642), (1.8346, 3.7347, 94.4307)];
        for (var row = 0; row < 4; row++)
        {
            var probabilities = SoftmaxFloat32(result.Values.AsSpan(row * 3, 3));
            for (var column = 0; column < 3; column++)
            {
                var label = labels[column].ToUpperInvariant();
                var (ee, nn, cc) = expected[row];
                var want = (label.StartsWith('E') ? ee : label.StartsWith('N') ? nn : cc) / (ee + nn + cc);
                Assert.Equal(want, probabilities[column], 1e-6);
            }
        }
    }

    [Fact]
    public void The_nli_oracle_reads_the_hypothesis_from_token_types_when_the_model_takes_them()
    {
        int cls = 101, sep = 102;
        int dog = Bert["dog"], cat = Bert["cat"];
        var spec = new NliOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            Rules = [OracleNliRule.WhenHypothesisContains(dog, new NliProbabilities(1, 0, 0))],
            Default = new NliProbabilities(0, 0, 1),
        };
        long[][] ids = [[cls, cat, sep, dog, sep], [cls, dog, sep, cat, sep]];
        long[][] attention = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]];
        long[][] types = [[0, 0, 0, 1, 1], [0, 0, 0, 1, 1]];

        var result = Run(OracleGenerator.Nli(spec), ids, attention, types);

        // Default labels: CONTRADICTION, NEUTRAL, ENTAILMENT.
        Assert.Equal(1.0, SoftmaxFloat32(result.Values.AsSpan(0, 3))[2], 1e-6);
        Assert.Equal(1.0, SoftmaxFloat32(result.Values.AsSpan(3, 3))[0], 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_rtd_oracle_gives_each_token_the_logit_chosen_for_its_id(bool trailingAxis)
    {
        int cls = 101, sep = 102, pad = 0;
        int paris = Bert["paris"], london = Bert["london"], the = Bert["the"], city = Bert["city"];
        var spec = RtdOracleSpec.Marking(TokenizerProfile.BertBaseUncased, [paris, london], markedLogit: 3.5f, otherLogit: -2f)
            with { TrailingAxis = trailingAxis, Logits = new Dictionary<int, float> { [paris] = 3.5f, [london] = 3.5f, [city] = 0.25f } };
        long[][] ids = [[cls, the, city, paris, sep], [cls, london, sep, pad, pad]];
        long[][] attention = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];

        var result = Run(OracleGenerator.Rtd(spec), ids, attention, [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);

        Assert.Equal(trailingAxis ? [2L, 5L, 1L] : [2L, 5L], result.Shape);
        Assert.Equal([-2f, -2f, 0.25f, 3.5f, -2f, -2f, 3.5f, -2f, -2f, -2f], result.Values);
    }

    [Fact]
    public void The_ner_oracle_labels_tokens_by_id()
    {
        int cls = 101, sep = 102;
        int john = Bert["john"], smith = Bert["smith"], visited = Bert["visited"], paris = Bert["paris"];
        var spec = new NerOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            TokenLabels = new Dictionary<int, string> { [john] = "B-PER", [smith] = "I-PER", [paris] = "B-LOC" },
        };
        long[][] ids = [[cls, john, smith, visited, paris, sep]];

        var result = Run(OracleGenerator.Ner(spec), ids, [[1, 1, 1, 1, 1, 1]], [[0, 0, 0, 0, 0, 0]]);

        var labels = spec.Labels;
        Assert.Equal([1L, 6L, labels.Count], result.Shape);
        var predicted = Enumerable.Range(0, 6).Select(t => labels[ArgMax(result.Values.AsSpan(t * labels.Count, labels.Count))]);
        Assert.Equal(["O", "B-PER", "I-PER", "O", "B-LOC", "O"], predicted);
        Assert.Equal(NerOracleSpec.ChosenLogit, result.Values.Max());
        Assert.Equal(0f, result.Values.Min());
    }

    [Fact]
    public void Oracles_take_int32_inputs_and_a_slow_path_that_changes_nothing()
    {
        int cls = 101, sep = 102;
        int paris = Bert["paris"];
        var spec = RtdOracleSpec.Marking(TokenizerProfile.BertBaseUncased, [paris], 1f, -1f) with
        {
            InputElementType = TensorElementType.Int32,
            HasTokenTypeIds = false,
            SlowPath = new OracleSlowPath(Steps: 3, Size: 32),
        };
        var result = Run(OracleGenerator.Rtd(spec), [[cls, paris, sep]], [[1, 1, 1]], types: null, TensorElementType.Int32);
        Assert.Equal([-1f, 1f, -1f], result.Values);
    }

    [Fact]
    public void The_slow_path_is_a_chain_of_products_that_cancellation_interrupts_inside_the_runtime()
    {
        var plain = RtdOracleSpec.Marking(TokenizerProfile.BertBaseUncased, [], 1f, -1f);
        // Seconds of work uncancelled (300 products of 512×512 matrices), in few enough nodes to load quickly.
        var spec = plain with { SlowPath = new OracleSlowPath(Steps: 300, Size: 512) };
        // The work is checked in the graph (one MatMul node per step, on top of what the oracle has without it), not by
        // whether a run is still going after a sleep, which says more about the machine's speed and load than the model.
        var model = OracleGenerator.Rtd(spec).Model;
        Assert.Equal(300, model.Graph.Nodes.Count(n => n.OpType == "MatMul") - OracleGenerator.Rtd(plain).Model.Graph.Nodes.Count(n => n.OpType == "MatMul"));
        using var scratch = new ScratchFolder("oracle");
        var path = scratch.File("model.onnx");
        model.Save(path);
        using var session = GeneratedModelRuns.Open(path);
        using var entered = new ManualResetEventSlim();
        using var cancellation = new CancellationTokenSource();
        // Cancelled from this thread once the run is under way (the fault seam is called inside Run, just before the
        // runtime starts), not after a sleep that a fast machine outruns or a loaded one oversleeps: the runtime then
        // always stops the run through its terminate flag, which the inner OrtException shows. Only hang guards wait.
        session.InjectFault = _ =>
        {
            entered.Set();
            return InjectedFault.None;
        };
        var run = Task.Run(() => GeneratedModelRuns.Run(session, [[101, 102]], [[1, 1]], [[0, 0]], cancellationToken: cancellation.Token));
        Assert.True(entered.Wait(TimeSpan.FromMinutes(2)), "the run never began");
        cancellation.Cancel();

        Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromMinutes(2)), "the cancelled run did not end");
        var error = Assert.ThrowsAny<OperationCanceledException>(() => run.GetAwaiter().GetResult());
        Assert.Contains("terminate", Assert.IsType<OrtException>(error.InnerException).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_input_longer_than_max_positions_fails_inside_the_runtime_like_a_real_model(bool roberta)
    {
        var profile = roberta ? TokenizerProfile.RobertaBase : TokenizerProfile.BertBaseUncased;
        var spec = RtdOracleSpec.Marking(profile, [], 1f, -1f) with { MaxPositions = roberta ? 10 : 8, HasTokenTypeIds = false };
        using var scratch = new ScratchFolder("oracle");
        var path = scratch.File("model.onnx");
        OracleGenerator.Rtd(spec).Model.Save(path);
        // Eight real tokens fit both (RoBERTa's positions start at pad + 1 = 2, so 10 rows hold 8); nine do not.
        long[] Row(int n) => [.. Enumerable.Range(0, n).Select(i => (long)(5 + i))];
        long[] Ones(int n) => [.. Enumerable.Repeat(1L, n)];
        Assert.Equal(8, GeneratedModelRuns.Run(path, [Row(8)], [Ones(8)]).Values.Length);
        var error = Assert.Throws<OrtException>(() => GeneratedModelRuns.Run(path, [Row(9)], [Ones(9)]));
        Assert.Contains("out of", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Invalid_oracle_specs_are_refused_with_the_reason()
    {
        var error = Assert.Throws<ArgumentException>(() => OracleGenerator.Nli(new NliOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            Labels = ["yes", "maybe", "no"],
        }));
        Assert.Contains("entailment, neutral and contradiction", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            Rules = [OracleMlmRule.WhenContains(40000, 5)],
        }));
        Assert.Contains("40000", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => OracleGenerator.Ner(new NerOracleSpec
        {
            Tokenizer = TokenizerProfile.BertBaseUncased,
            TokenLabels = new Dictionary<int, string> { [5] = "B-FOOD" },
        }));
        Assert.Contains("B-FOOD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oracle_folders_carry_a_config_with_the_declared_labels()
    {
        var generated = OracleGenerator.Nli(new NliOracleSpec
        {
            Tokenizer = TokenizerProfile.RobertaBase,
            Labels = ["neutral", "contradiction", "entailment"],
        });
        var config = System.Text.Json.Nodes.JsonNode.Parse(generated.ConfigJson)!;
        Assert.Equal("roberta", (string?)config["model_type"]);
        Assert.Equal(50265, (int)config["vocab_size"]!);
        Assert.Equal(514, (int)config["max_position_embeddings"]!);
        Assert.Equal("contradiction", (string?)config["id2label"]!["1"]);
        var rtd = System.Text.Json.Nodes.JsonNode.Parse(OracleGenerator.Rtd(RtdOracleSpec.Marking(TokenizerProfile.BertBaseUncased, [], 0, 0)).ConfigJson)!;
        Assert.Equal("electra", (string?)rtd["model_type"]);
        Assert.Equal("ElectraForPreTraining", (string?)rtd["architectures"]![0]);
    }

    private static ModelOutput Run(GeneratedModel model, long[][] ids, long[][] mask, long[][]? types,
        TensorElementType inputType = TensorElementType.Int64)
    {
        using var scratch = new ScratchFolder("oracle");
        var path = scratch.File("model.onnx");
        model.Model.Save(path);
        return GeneratedModelRuns.Run(path, ids, mask, types, inputType);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }

    // What a scorer does: softmax in float32.
    private static float[] SoftmaxFloat32(ReadOnlySpan<float> logits)
    {
        var max = float.NegativeInfinity;
        foreach (var logit in logits)
        {
            max = MathF.Max(max, logit);
        }
        var exps = new float[logits.Length];
        var sum = 0f;
        for (var i = 0; i < logits.Length; i++)
        {
            exps[i] = MathF.Exp(logits[i] - max);
            sum += exps[i];
        }
        for (var i = 0; i < exps.Length; i++)
        {
            exps[i] /= sum;
        }
        return exps;
    }
}
