using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.Onnx;
using Riverbed.ModelKit.Onnx;

namespace Riverbed.ModelKit.Oracles;

/// <summary>
/// Builds "oracle" models: ONNX graphs whose outputs are engineered functions of the input ids, so tests can assert
/// scoring behaviour exactly through the real runtime. They take the same inputs and give the same output shapes as
/// real checkpoints, are sized to a real tokenizer, and refuse over-long inputs like a real model. Nothing in them is
/// dense in vocabulary × vocabulary: rules are a few rows of V logits chosen per position.
/// </summary>
public static class OracleGenerator
{
    public static GeneratedModel Mlm(MlmOracleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var graph = new OracleGraph(spec, "riverbed_oracle_mlm");
        var ops = graph.Ops;
        long vocab = spec.Tokenizer.VocabSize;

        // Rule table: one row of V logits per rule, the default ranking last (it always matches, lowest priority).
        var rankings = spec.Rules.Select(rule => rule.Ranking).Append(spec.DefaultRanking).ToList();
        var table = new float[rankings.Count * vocab];
        for (var r = 0; r < rankings.Count; r++)
        {
            for (var rank = 0; rank < rankings[r].Count; rank++)
            {
                table[(r * vocab) + rankings[r][rank]] = MlmOracleSpec.TopLogit - (rank * MlmOracleSpec.RankStep);
            }
        }
        var conditions = spec.Rules.Select(rule => rule.Conditions).Append([]).ToList();
        var matched = ops.Unsqueeze(graph.RuleMatches(conditions), 1);                       // [B,1,R]
        matched = NeighbourFilter(graph, matched, spec.Rules.Select(r => r.PreviousId).ToList(), previous: true);
        matched = NeighbourFilter(graph, matched, spec.Rules.Select(r => r.NextId).ToList(), previous: false);
        var choice = ops.ArgMax(graph.Prioritise(matched, conditions.Count), axis: 2, keepDims: false);       // [B,T] or [B,1]
        var predicted = ops.Gather(ops.Floats([rankings.Count, vocab], table), choice);    // [B,·,V]

        // Everywhere else the model "agrees with the text": the input id itself.
        var own = ops.Mul(graph.OneHot(graph.Inputs.InputIds, vocab), ops.Float(MlmOracleSpec.TopLogit));
        var isMask = ops.Unsqueeze(ops.Equal(graph.Inputs.InputIds, ops.Int64(spec.Tokenizer.MaskId)), 2);
        var logits = ops.Where(isMask, predicted, own);

        return graph.Finish(logits, ["batch", "sequence", vocab], EncoderHead.Mlm, [],
            $"mlm: {spec.Rules.Count} rule(s), default [{string.Join(' ', spec.DefaultRanking)}]");
    }

    public static GeneratedModel Nli(NliOracleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var graph = new OracleGraph(spec, "riverbed_oracle_nli");
        var ops = graph.Ops;

        var answers = spec.Rules.Select(rule => rule.Probabilities).Append(spec.Default).ToList();
        var kinds = spec.Labels.Select(NliLabels.Kind).ToArray();
        var table = new float[answers.Count * 3];
        for (var r = 0; r < answers.Count; r++)
        {
            var p = answers[r];
            for (var column = 0; column < 3; column++)
            {
                var probability = kinds[column] switch
                {
                    NliLabels.Entailment => p.Entailment,
                    NliLabels.Neutral => p.Neutral,
                    _ => p.Contradiction,
                } / p.Sum;
                // softmax(log p) = p / Σp = p. A zero probability becomes a logit whose exp underflows to 0.
                table[(r * 3) + column] = probability > 0 ? (float)Math.Log(probability) : -10000f;
            }
        }
        var conditions = spec.Rules.Select(rule => rule.Conditions).Append([]).ToList();
        var choice = ops.ArgMax(graph.Prioritise(graph.RuleMatches(conditions), conditions.Count), axis: 1, keepDims: false); // [B]
        var logits = ops.Gather(ops.Floats([answers.Count, 3], table), choice);                             // [B,3]

        return graph.Finish(logits, ["batch", 3], EncoderHead.Nli, spec.Labels,
            $"nli: {spec.Rules.Count} rule(s), labels [{string.Join(", ", spec.Labels)}]");
    }

    public static GeneratedModel Rtd(RtdOracleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var graph = new OracleGraph(spec, "riverbed_oracle_rtd");
        var ops = graph.Ops;
        var table = new float[spec.Tokenizer.VocabSize];
        Array.Fill(table, spec.DefaultLogit);
        foreach (var (id, logit) in spec.Logits)
        {
            table[id] = logit;
        }
        var logits = ops.Gather(ops.Floats([table.Length], table), graph.Inputs.InputIds); // [B,T]
        OnnxDimension[] shape = ["batch", "sequence"];
        if (spec.TrailingAxis)
        {
            logits = ops.Unsqueeze(logits, 2);
            shape = ["batch", "sequence", 1];
        }
        return graph.Finish(logits, shape, EncoderHead.Rtd, [],
            string.Create(CultureInfo.InvariantCulture, $"rtd: {spec.Logits.Count} chosen id(s), others {spec.DefaultLogit}"));
    }

    public static GeneratedModel Ner(NerOracleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var graph = new OracleGraph(spec, "riverbed_oracle_ner");
        var ops = graph.Ops;
        var labelIndex = spec.Labels.Select((label, index) => (label, index)).ToDictionary(x => x.label, x => (long)x.index, StringComparer.Ordinal);
        var table = new long[spec.Tokenizer.VocabSize];
        Array.Fill(table, labelIndex[spec.DefaultLabel]);
        foreach (var (id, label) in spec.TokenLabels)
        {
            table[id] = labelIndex[label];
        }
        var labels = ops.Gather(ops.Int64Table([table.Length], table), graph.Inputs.InputIds);         // [B,T]
        var logits = ops.Mul(graph.OneHot(labels, spec.Labels.Count), ops.Float(NerOracleSpec.ChosenLogit)); // [B,T,L]
        return graph.Finish(logits, ["batch", "sequence", spec.Labels.Count], EncoderHead.Ner, spec.Labels,
            $"ner: {spec.TokenLabels.Count} labelled id(s), labels [{string.Join(", ", spec.Labels)}]");
    }

    /// <summary>Narrows [B,·,R] rule matches to positions whose neighbouring id is the one a rule asks for.</summary>
    private static string NeighbourFilter(OracleGraph graph, string matched, IReadOnlyList<int?> wanted, bool previous)
    {
        if (wanted.All(id => id is null))
        {
            return matched;
        }
        var ops = graph.Ops;
        // Rule columns without the condition accept anything; the default rule (last) too.
        var ids = wanted.Select(id => (long)(id ?? -1)).Append(-1).ToArray();
        var unconditioned = ops.Equal(ops.Int64Table([ids.Length], ids), ops.Int64(-1));                       // [R]
        var neighbour = ops.Unsqueeze(graph.Neighbour(previous), 2);                                         // [B,T,1]
        var ok = ops.Or(ops.Equal(neighbour, ops.Int64Table([ids.Length], ids)), unconditioned);             // [B,T,R]
        return ops.And(matched, ok);
    }
}

/// <summary>The parts every oracle graph shares: inputs, segments, condition matching, the length guard, the slow path.</summary>
internal sealed class OracleGraph
{
    private readonly OracleSpec _spec;

    public OracleGraph(OracleSpec spec, string name)
    {
        _spec = spec;
        Ops = new GraphOps(new OnnxGraphBuilder(name));
        Inputs = ModelInputs.Declare(Ops, spec.InputElementType, spec.EffectiveTokenTypeIds);
    }

    public GraphOps Ops { get; }

    public ModelInputs Inputs { get; }

    /// <summary>[B,T] bool: the position is in the second sequence of a pair.</summary>
    public string SecondSegment()
    {
        if (Inputs.TokenTypeIds is { } types)
        {
            return Ops.Not(Ops.Equal(types, Ops.Int64(0)));
        }
        // Strictly after the first separator: RoBERTa's "</s></s>" puts the second separator in the hypothesis, which
        // no condition looks for.
        var separators = Ops.Cast(Ops.Equal(Inputs.InputIds, Ops.Int64(_spec.Tokenizer.SeparatorId)), TensorElementType.Int64);
        var before = Ops.CumSum(separators, 1, exclusive: true);
        return Ops.Not(Ops.Equal(before, Ops.Int64(0)));
    }

    /// <summary>
    /// [B,R] bool: for each rule (a list of conditions that must all hold), whether the input satisfies it. Padded
    /// positions never count.
    /// </summary>
    public string RuleMatches(IReadOnlyList<IReadOnlyList<OracleCondition>> rules)
    {
        var conditions = rules.SelectMany(rule => rule).Distinct().ToList();
        if (conditions.Count == 0)
        {
            // One condition that never holds keeps every shape non-empty; no rule refers to it.
            conditions.Add(new OracleCondition(-1));
        }
        var index = conditions.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var membership = new float[conditions.Count * rules.Count];
        var required = new float[rules.Count];
        for (var r = 0; r < rules.Count; r++)
        {
            foreach (var condition in rules[r].Distinct())
            {
                membership[(index[condition] * rules.Count) + r] = 1f;
                required[r]++;
            }
        }

        var ids = Ops.Unsqueeze(Inputs.InputIds, 2);                                                          // [B,T,1]
        var wanted = Ops.Int64Table([conditions.Count], conditions.Select(c => (long)c.TokenId).ToArray());
        var hits = Ops.Equal(ids, wanted);                                                                    // [B,T,C]
        if (conditions.Any(c => c.Segment != OracleSegment.Any))
        {
            var second = Ops.Unsqueeze(Ops.Cast(SecondSegment(), TensorElementType.Int64), 2);               // [B,T,1]
            var segments = conditions.Select(c => c.Segment switch
            {
                OracleSegment.First => 0L,
                OracleSegment.Second => 1L,
                _ => -1L,
            }).ToArray();
            var segmentCodes = Ops.Int64Table([segments.Length], segments);
            var inSegment = Ops.Or(Ops.Equal(second, segmentCodes), Ops.Equal(segmentCodes, Ops.Int64(-1)));
            hits = Ops.And(hits, inSegment);
        }
        var valid = Ops.Unsqueeze(Ops.Not(Ops.Equal(Inputs.AttentionMask, Ops.Int64(0))), 2);                // [B,T,1]
        var present = Ops.ReduceMax(Ops.Cast(Ops.And(hits, valid), TensorElementType.Float), 1, keepDims: false); // [B,C]
        var counts = Ops.MatMul(present, Ops.Floats([conditions.Count, rules.Count], membership));          // [B,R]
        return Ops.Equal(counts, Ops.Floats([rules.Count], required));
    }

    /// <summary>Turns [..,R] matches into scores whose argmax is the first matching rule.</summary>
    public string Prioritise(string matched, int count)
    {
        // Rule r scores R − r when it matches and 0 otherwise; the last (default) rule always matches.
        var priority = Enumerable.Range(0, count).Select(r => (float)(count - r)).ToArray();
        return Ops.Mul(Ops.Cast(matched, TensorElementType.Float), Ops.Floats([count], priority));
    }

    /// <summary>[B,T] int64: each position's neighbouring id (−1 past either end).</summary>
    public string Neighbour(bool previous)
    {
        var ids = Inputs.InputIds;
        var edge = Ops.Sub(Ops.Mul(Slice(ids, 0, 1), Ops.Int64(0)), Ops.Int64(1));  // [B,1] of −1
        return previous
            ? Ops.Concat(1, edge, Slice(ids, 0, -1))
            : Ops.Concat(1, Slice(ids, 1, long.MaxValue), edge);
    }

    /// <summary>[…, depth] float: 1 at each index, 0 elsewhere (Equal against a Range, which every runtime has).</summary>
    public string OneHot(string indices, long depth)
    {
        var range = Ops.Op("Range", Ops.Int64(0), Ops.Int64(depth), Ops.Int64(1));
        return Ops.Cast(Ops.Equal(Ops.Unsqueeze(indices, -1), range), TensorElementType.Float);
    }

    /// <summary>Adds the length guard and the slow path, declares <c>logits</c>, and writes config.json.</summary>
    public GeneratedModel Finish(string logits, OnnxDimension[] shape, EncoderHead head, IReadOnlyList<string> labels,
        string description)
    {
        logits = Ops.Add(logits, LengthGuard());
        if (_spec.SlowPath is { } slow)
        {
            logits = Ops.Add(logits, SlowZero(slow));
        }
        Ops.Builder.Output(logits, "logits", TensorElementType.Float, shape);
        var model = Ops.Builder.Build(17);
        model.Metadata["riverbed.generator"] = $"oracle v{EncoderGenerator.Version}";
        model.Metadata["riverbed.oracle"] = description;
        return new GeneratedModel(model, HuggingFaceConfig.ForOracle(_spec.Tokenizer, head, _spec.EffectiveMaxPositions, labels,
            description));
    }

    private string Slice(string value, long start, long end) =>
        Ops.Op("Slice", value, Ops.Int64s(start), Ops.Int64s(end), Ops.Int64s(1));

    /// <summary>
    /// A scalar 0 that depends on position ids gathered from a table of max_position_embeddings rows, computed as the
    /// tokenizer's family computes them: an input longer than the model allows fails inside the runtime.
    /// </summary>
    private string LengthGuard()
    {
        var ids = Inputs.InputIds;
        string positions;
        if (_spec.Tokenizer.Family == EncoderFamily.Roberta)
        {
            var pad = Ops.Int64(_spec.Tokenizer.PadId);
            var notPad = Ops.Cast(Ops.Not(Ops.Equal(ids, pad)), TensorElementType.Int64);
            positions = Ops.Add(Ops.Mul(Ops.CumSum(notPad, 1), notPad), pad);
        }
        else
        {
            // 0…T−1 per row. Not Gather(Range(T)): ORT rewrites that into a Slice, which clamps instead of failing.
            positions = Ops.CumSum(Ops.Add(Ops.Mul(ids, Ops.Int64(0)), Ops.Int64(1)), 1, exclusive: true);
        }
        var zeros = Ops.Floats([_spec.EffectiveMaxPositions], new float[_spec.EffectiveMaxPositions]);
        return Ops.Op("ReduceMax", [Ops.Gather(zeros, positions)], OnnxAttribute.Int("keepdims", 0));
    }

    /// <summary>Real, input-dependent work whose result is multiplied by zero.</summary>
    private string SlowZero(OracleSlowPath slow)
    {
        var random = new SeededRandom(0x5105UL);
        var start = new float[slow.Size * slow.Size];
        random.Fill(start, 1f);
        var step = new float[slow.Size * slow.Size];
        random.Fill(step, 1.5f / MathF.Sqrt(slow.Size));
        var scale = Ops.Op("ReduceMean", [Ops.Cast(Inputs.InputIds, TensorElementType.Float)], OnnxAttribute.Int("keepdims", 0));
        var x = Ops.Mul(Ops.Floats([slow.Size, slow.Size], start), Ops.Add(Ops.Mul(scale, Ops.Float(1e-6f)), Ops.Float(1f)));
        var w = Ops.Floats([slow.Size, slow.Size], step);
        for (var i = 0; i < slow.Steps; i++)
        {
            x = Ops.Op("Tanh", Ops.MatMul(x, w));
        }
        return Ops.Mul(Ops.Op("ReduceMax", [x], OnnxAttribute.Int("keepdims", 0)), Ops.Float(0f));
    }
}
