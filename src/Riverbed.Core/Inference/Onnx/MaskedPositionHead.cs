using System.Globalization;

namespace Riverbed.Inference.Onnx;

/// <summary>What <see cref="MaskedPositionHead.Rewrite"/> did: the rewritten model, or why it left the graph alone.</summary>
public sealed class MaskedHeadRewrite
{
    internal MaskedHeadRewrite(byte[]? model, string description, int tailNodes)
    {
        Model = model;
        Description = description;
        TailNodes = tailNodes;
    }

    /// <summary>The rewritten model file, or null when the graph does not have the shape the rewrite needs.</summary>
    public byte[]? Model { get; }

    public bool Applied => Model is not null;

    /// <summary>Where the graph was cut, or why it was not (one sentence, for the log and <c>models check</c>).</summary>
    public string Description { get; }

    /// <summary>How many nodes now run only at the masked positions.</summary>
    public int TailNodes { get; }
}

/// <summary>
/// Rewrites a masked language model so that the work after its last position-mixing operation (the last attention:
/// final feed-forward, layer norms, vocabulary projection, all position-wise) runs only at the masked positions, and
/// the model returns the best k candidate ids and their logits instead of [B,T,V] logits.
/// <para>
/// The cut is found by walking back from the logits through position-wise operators (MatMul by a constant weight,
/// elementwise arithmetic with constant scalars or vectors, GELU in its erf and tanh forms, LayerNormalization or its
/// decomposed form, reductions over the last axis…) whose values feed nothing else; of the values that tail starts
/// from, the earliest through which every path to the logits passes is the cut. There the hidden states [B,T,H] are
/// flattened to [B·T,H] and gathered at a new input of flattened masked indices, as [1,N,H] so every axis the tail's
/// operators name keeps its meaning. After the logits, now [1,N,V], a constant additive mask (0 for allowed ids,
/// −∞ for the rest) and a TopK with k as an input give [1,N,k] float32 scores and ids. TopK puts equal values in index order,
/// as the full-logits path does.
/// </para>
/// Untouched fields (initializers above all) are copied byte for byte; nothing in the file's own order changes.
/// </summary>
public static class MaskedPositionHead
{
    public const string MaskedIndexInput = "riverbed_masked_index";
    public const string TopKInput = "riverbed_top_k";
    public const string ScoresOutput = "riverbed_top_scores";
    public const string IdsOutput = "riverbed_top_ids";

    private const string Prefix = "riverbed_masked_head/";

    private static readonly HashSet<string> Unary = new(StringComparer.Ordinal)
    {
        "Erf", "Tanh", "Sqrt", "Relu", "Sigmoid", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Identity", "Cast", "Softplus", "Gelu",
    };

    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Pow" };

    private static readonly HashSet<string> Reductions = new(StringComparer.Ordinal)
    {
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare",
    };

    /// <summary>The full-logits outcome, with the reason.</summary>
    public static MaskedHeadRewrite NotApplied(string reason) => new(null, $"full logits at every position: {reason}", 0);

    /// <param name="model">The model file's bytes.</param>
    /// <param name="logitsName">The output holding [batch, sequence, vocabulary] logits.</param>
    /// <param name="logitsType">Float or Float16 (the scores are float32 either way).</param>
    /// <param name="vocabularySize">The logits' last axis.</param>
    /// <param name="allowedIds">The ids a prediction may take; every other id is masked out.</param>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX protobuf.</exception>
    public static MaskedHeadRewrite Rewrite(ReadOnlySpan<byte> model, string logitsName, TensorElementType logitsType, int vocabularySize,
        ReadOnlySpan<int> allowedIds)
    {
        ArgumentNullException.ThrowIfNull(logitsName);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        var graph = OnnxGraphReader.Read(model);
        var plan = Plan(graph, logitsName, logitsType, out var reason);
        if (plan is null)
        {
            return NotApplied(reason);
        }
        var bytes = Write(model, graph, plan, logitsName, logitsType, vocabularySize, allowedIds);
        return new MaskedHeadRewrite(bytes, string.Create(CultureInfo.InvariantCulture,
            $"masked-position head: {plan.Tail.Count} operators after '{plan.Cut}' run only at the masked positions, then the whole-word mask and top-k"),
            plan.Tail.Count);
    }

    private sealed record CutPlan(string Cut, HashSet<int> Tail, HashSet<int> ReadsCut, int FirstTailNode, Dictionary<string, string> Names);

    private static CutPlan? Plan(OnnxGraphReader graph, string logitsName, TensorElementType logitsType, out string reason)
    {
        reason = string.Empty;
        if (logitsType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            reason = $"the logits are {logitsType}, not float or float16";
            return null;
        }
        if (graph.DefaultOpset < 10)
        {
            reason = $"opset {graph.DefaultOpset} has no TopK with k as an input (10 or later is needed)";
            return null;
        }
        if (graph.HasExternalData)
        {
            reason = "the weights live in external data files, which a graph loaded from memory cannot reach";
            return null;
        }
        if (graph.HasSubgraphs)
        {
            reason = "the graph has subgraphs (If, Loop or Scan)";
            return null;
        }
        var output = graph.Outputs.FirstOrDefault(o => o.Name == logitsName);
        if (output is null || output.Rank is not (3 or -1))
        {
            reason = output is null ? $"the graph has no output '{logitsName}'" : $"'{logitsName}' has rank {output.Rank}, not [batch, sequence, vocabulary]";
            return null;
        }

        // Constants: initializers, Constant nodes and what is computed from constants alone, with their rank when known.
        var constantRank = new Dictionary<string, int>(graph.Initializers, StringComparer.Ordinal);
        var produced = new Dictionary<string, int>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var known = new HashSet<string>(graph.Inputs, StringComparer.Ordinal);
        known.UnionWith(graph.Initializers.Keys);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
            {
                if (!known.Contains(input))
                {
                    reason = "the graph's nodes are not in topological order";
                    return null;
                }
                if (!consumers.TryGetValue(input, out var list))
                {
                    consumers[input] = list = [];
                }
                list.Add(node.Index);
            }
            foreach (var value in node.Outputs.Where(o => o.Length > 0))
            {
                produced[value] = node.Index;
                known.Add(value);
            }
            MarkConstant(graph, node, constantRank);
        }
        if (!produced.TryGetValue(logitsName, out var logitsNode))
        {
            reason = $"'{logitsName}' is not computed by the graph";
            return null;
        }
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);

        // The position-wise tail: nodes whose every output feeds only tail nodes (or is the logits), walked backwards.
        var tail = new HashSet<int>();
        for (var i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (node.Outputs.All(constantRank.ContainsKey) || !IsPositionWise(graph, node, constantRank))
            {
                continue;
            }
            var feedsTailOnly = true;
            var feedsAnything = false;
            foreach (var value in node.Outputs.Where(o => o.Length > 0))
            {
                if (value == logitsName)
                {
                    feedsAnything = true;
                }
                else if (graphOutputs.Contains(value))
                {
                    feedsTailOnly = false;
                }
                if (consumers.TryGetValue(value, out var list))
                {
                    feedsAnything = true;
                    feedsTailOnly &= list.All(tail.Contains);
                }
            }
            if (feedsTailOnly && feedsAnything)
            {
                tail.Add(i);
            }
        }
        if (!tail.Contains(logitsNode))
        {
            reason = $"'{logitsName}' does not come from position-wise operators (it is made by {graph.Nodes[logitsNode].OpType})";
            return null;
        }

        // The cut: the value whose downstream tail is largest among those through which every path to the logits passes.
        var ordered = tail.Order().ToList();
        var candidates = new List<string>();
        foreach (var index in ordered)
        {
            foreach (var input in graph.Nodes[index].Inputs)
            {
                if (input.Length > 0 && !constantRank.ContainsKey(input) && !candidates.Contains(input))
                {
                    candidates.Add(input);
                }
            }
        }
        HashSet<int>? best = null;
        string? cut = null;
        foreach (var candidate in candidates)
        {
            var downstream = Downstream(graph, ordered, candidate, constantRank, out var closed);
            if (closed && downstream.Contains(logitsNode) && (best is null || downstream.Count > best.Count))
            {
                best = downstream;
                cut = candidate;
            }
        }
        if (best is null || cut is null)
        {
            reason = "no single value separates the position-wise tail from the rest of the graph";
            return null;
        }
        if (!best.Any(i => graph.Nodes[i].OpType == "MatMul"))
        {
            reason = "the vocabulary projection (a MatMul by a constant weight) does not run after the last position-mixing operation";
            return null;
        }
        var readsCut = best.Where(i => graph.Nodes[i].Inputs.Contains(cut)).ToHashSet();

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var taken = new HashSet<string>(known, StringComparer.Ordinal);
        foreach (var name in new[] { "flat", "gathered", "wide", "masked", "bias" })
        {
            var unique = Prefix + name;
            for (var n = 1; taken.Contains(unique); n++)
            {
                unique = Prefix + name + n.ToString(CultureInfo.InvariantCulture);
            }
            names[name] = unique;
            taken.Add(unique);
        }
        foreach (var fixedName in new[] { MaskedIndexInput, TopKInput, ScoresOutput, IdsOutput })
        {
            if (taken.Contains(fixedName))
            {
                reason = $"the graph already has a value named '{fixedName}'";
                return null;
            }
        }
        return new CutPlan(cut, best, readsCut, best.Min(), names);
    }

    /// <summary>
    /// The tail nodes reachable from <paramref name="value"/>; <paramref name="closed"/> says whether they read nothing
    /// but that value, their own results and constants.
    /// </summary>
    private static HashSet<int> Downstream(OnnxGraphReader graph, List<int> ordered, string value, Dictionary<string, int> constants, out bool closed)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal) { value };
        var nodes = new HashSet<int>();
        closed = true;
        foreach (var index in ordered)
        {
            var node = graph.Nodes[index];
            var inputs = node.Inputs.Where(i => i.Length > 0 && !constants.ContainsKey(i)).ToList();
            if (!inputs.Any(reached.Contains))
            {
                continue;
            }
            if (!inputs.All(reached.Contains))
            {
                closed = false;
                return nodes;
            }
            nodes.Add(index);
            reached.UnionWith(node.Outputs.Where(o => o.Length > 0));
        }
        return nodes;
    }

    private static void MarkConstant(OnnxGraphReader graph, GraphNode node, Dictionary<string, int> constantRank)
    {
        if (node.Domain.Length == 0 && node.OpType == "Constant")
        {
            var rank = -1;
            if (node.Attributes.TryGetValue("value", out var value) && value.Tensor is { } tensor)
            {
                rank = tensor.Rank;
                if (tensor.Int64Values is { } values)
                {
                    graph.Int64Constants[node.Outputs[0]] = values;
                }
            }
            else if (node.Attributes.ContainsKey("value_float") || node.Attributes.ContainsKey("value_int"))
            {
                rank = 0;
                if (node.Attributes.TryGetValue("value_int", out var single) && single.Int is { } one)
                {
                    graph.Int64Constants[node.Outputs[0]] = [one];
                }
            }
            else if (node.Attributes.TryGetValue("value_ints", out var ints))
            {
                rank = 1;
                graph.Int64Constants[node.Outputs[0]] = ints.Ints;
            }
            else if (node.Attributes.ContainsKey("value_floats"))
            {
                rank = 1;
            }
            constantRank[node.Outputs[0]] = rank;
            return;
        }
        var inputs = node.Inputs.Where(i => i.Length > 0).ToList();
        if (inputs.Count == 0 || !inputs.All(constantRank.ContainsKey) || node.OpType.StartsWith("Random", StringComparison.Ordinal))
        {
            return;
        }
        // Ranks of what constants become: kept by casts, transposes and unary maps, broadcast by elementwise ops.
        var rankOut = node.Domain.Length == 0 && (node.OpType is "Cast" or "Identity" or "Transpose" || Unary.Contains(node.OpType) || Elementwise.Contains(node.OpType))
            ? inputs.Max(i => constantRank[i] < 0 ? int.MaxValue : constantRank[i])
            : -1;
        foreach (var output in node.Outputs.Where(o => o.Length > 0))
        {
            constantRank[output] = rankOut == int.MaxValue ? -1 : rankOut;
        }
    }

    /// <summary>
    /// Whether a node computes each position from that position alone, keeping the rank and leading axes of its
    /// input: the only operators the rewrite lets run on gathered positions.
    /// </summary>
    private static bool IsPositionWise(OnnxGraphReader graph, GraphNode node, Dictionary<string, int> constants)
    {
        bool Constant(int i, int maxRank) =>
            i < node.Inputs.Count && constants.TryGetValue(node.Inputs[i], out var rank) && rank >= 0 && rank <= maxRank;
        bool DataOrSmallConstant(int i) => node.Inputs[i].Length == 0 || !constants.ContainsKey(node.Inputs[i]) || Constant(i, 1);
        bool RestConstant(int from) => Enumerable.Range(from, Math.Max(0, node.Inputs.Count - from))
            .All(i => node.Inputs[i].Length == 0 || Constant(i, 1));
        bool LastAxis(long? axis) => axis is -1 or 2;

        if (node.Inputs.Count == 0 || node.Inputs[0].Length == 0)
        {
            return false;
        }
        if (node.Domain == "com.microsoft")
        {
            return node.OpType switch
            {
                "Gelu" or "FastGelu" or "BiasGelu" or "QuickGelu" => RestConstant(1),
                "LayerNormalization" or "SimplifiedLayerNormalization" => LastAxis(node.Int("axis") ?? -1) && RestConstant(1),
                "SkipLayerNormalization" or "SkipSimplifiedLayerNormalization" => node.Inputs.Count >= 2 && DataOrSmallConstant(1) && RestConstant(2),
                _ => false,
            };
        }
        if (node.Domain.Length != 0)
        {
            return false;
        }
        if (Unary.Contains(node.OpType))
        {
            return node.Inputs.Count == 1;
        }
        if (Elementwise.Contains(node.OpType))
        {
            return node.Inputs.Count == 2 && DataOrSmallConstant(0) && DataOrSmallConstant(1);
        }
        switch (node.OpType)
        {
            case "MatMul":
                return node.Inputs.Count == 2 && !constants.ContainsKey(node.Inputs[0]) && Constant(1, 2) && constants[node.Inputs[1]] == 2;
            case "LayerNormalization" or "SimplifiedLayerNormalization":
                return LastAxis(node.Int("axis") ?? -1) && RestConstant(1);
            case "Clip" or "Dropout":
                return RestConstant(1);
            case "Softmax" or "LogSoftmax":
                return node.Inputs.Count == 1 && LastAxis(node.Int("axis") ?? (graph.DefaultOpset >= 13 ? -1 : 1));
        }
        if (Reductions.Contains(node.OpType))
        {
            if ((node.Int("keepdims") ?? 1) != 1)
            {
                return false;
            }
            long[]? axes = node.Attributes.TryGetValue("axes", out var attribute) ? attribute.Ints : null;
            if (axes is null && node.Inputs.Count > 1 && node.Inputs[1].Length > 0)
            {
                graph.Int64Constants.TryGetValue(node.Inputs[1], out axes);
            }
            return node.Inputs.Count <= 2 && axes is [var axis] && LastAxis(axis);
        }
        return false;
    }

    private static byte[] Write(ReadOnlySpan<byte> model, OnnxGraphReader graph, CutPlan plan, string logitsName, TensorElementType logitsType,
        int vocabularySize, ReadOnlySpan<int> allowedIds)
    {
        var flatten = new OnnxNode("Flatten", [plan.Cut], [plan.Names["flat"]], Prefix + "Flatten");
        flatten.Attributes.Add(OnnxAttribute.Int("axis", 2));
        // Indices shaped [1,N] give [1,N,H]: the tail keeps rank 3, so "axis 2" and "axis -1" mean what they meant.
        var gather = new OnnxNode("Gather", [plan.Names["flat"], MaskedIndexInput], [plan.Names["gathered"]], Prefix + "Gather");
        gather.Attributes.Add(OnnxAttribute.Int("axis", 0));
        var maskName = plan.Names["bias"];
        // TopK runs on float32 whatever the logits' type: float16 logits tie often, and float32 is the path whose
        // ties go to the lower id (as the full-logits path's do); widening float16 is exact, so scores do not change.
        var widen = new OnnxNode("Cast", [logitsName], [plan.Names["wide"]], Prefix + "Widen");
        widen.Attributes.Add(OnnxAttribute.Int("to", (long)TensorElementType.Float));
        var scored = logitsType == TensorElementType.Float16 ? plan.Names["wide"] : logitsName;
        var restrict = new OnnxNode("Add", [scored, maskName], [plan.Names["masked"]], Prefix + "WholeWordMask");
        var topK = new OnnxNode("TopK", [plan.Names["masked"], TopKInput], [ScoresOutput, IdsOutput], Prefix + "TopK");
        topK.Attributes.Add(OnnxAttribute.Int("axis", -1));
        var mask = MaskTensor(maskName, vocabularySize, allowedIds);
        OnnxValueInfo[] inputs =
        [
            new(MaskedIndexInput, TensorElementType.Int64, 1, "masked"),
            new(TopKInput, TensorElementType.Int64, 1),
        ];
        OnnxValueInfo[] outputs =
        [
            new(ScoresOutput, TensorElementType.Float, 1, "masked", "k"),
            new(IdsOutput, TensorElementType.Int64, 1, "masked", "k"),
        ];
        var tailValues = plan.Tail.SelectMany(i => graph.Nodes[i].Outputs).ToHashSet(StringComparer.Ordinal);

        bool Keep(ProtoField field) => field.Number switch
        {
            12 => field.Name != logitsName,
            13 => field.Name is null || !tailValues.Contains(field.Name),
            _ => true,
        };
        long RewrittenNodeSize(GraphNode node) =>
            node.Inputs.Sum(i => ProtoSize.StringField(1, i == plan.Cut ? plan.Names["gathered"] : i)) + node.OtherFields.Sum(f => (long)f.Length);

        long graphSize = 0;
        foreach (var field in graph.GraphFields)
        {
            if (field.Number == 1 && field.Node == plan.FirstTailNode)
            {
                graphSize += ProtoSize.MessageField(1, flatten.ComputeSize()) + ProtoSize.MessageField(1, gather.ComputeSize());
            }
            if (field.Number == 1 && plan.ReadsCut.Contains(field.Node))
            {
                graphSize += ProtoSize.MessageField(1, RewrittenNodeSize(graph.Nodes[field.Node]));
            }
            else if (Keep(field))
            {
                graphSize += field.Length;
            }
        }
        if (logitsType == TensorElementType.Float16)
        {
            graphSize += ProtoSize.MessageField(1, widen.ComputeSize());
        }
        graphSize += ProtoSize.MessageField(1, restrict.ComputeSize()) + ProtoSize.MessageField(1, topK.ComputeSize())
            + ProtoSize.MessageField(5, mask.ComputeSize())
            + inputs.Sum(i => ProtoSize.MessageField(11, i.ComputeSize())) + outputs.Sum(o => ProtoSize.MessageField(12, o.ComputeSize()));
        var modelSize = graph.ModelFields.Sum(f => f.Number == 7 ? ProtoSize.MessageField(7, graphSize) : f.Length);

        var bytes = new byte[modelSize];
        using (var stream = new MemoryStream(bytes, writable: true))
        using (var output = new ProtoOutput(stream))
        {
            foreach (var modelField in graph.ModelFields)
            {
                if (modelField.Number != 7)
                {
                    output.WriteRaw(model[modelField.Start..modelField.End]);
                    continue;
                }
                output.BeginMessage(7, graphSize);
                foreach (var field in graph.GraphFields)
                {
                    if (field.Number == 1 && field.Node == plan.FirstTailNode)
                    {
                        WriteNode(output, flatten);
                        WriteNode(output, gather);
                    }
                    if (field.Number == 1 && plan.ReadsCut.Contains(field.Node))
                    {
                        var node = graph.Nodes[field.Node];
                        output.BeginMessage(1, RewrittenNodeSize(node));
                        foreach (var input in node.Inputs)
                        {
                            output.WriteStringField(1, input == plan.Cut ? plan.Names["gathered"] : input);
                        }
                        foreach (var other in node.OtherFields)
                        {
                            output.WriteRaw(model[other.Start..other.End]);
                        }
                    }
                    else if (Keep(field))
                    {
                        output.WriteRaw(model[field.Start..field.End]);
                    }
                }
                if (logitsType == TensorElementType.Float16)
                {
                    WriteNode(output, widen);
                }
                WriteNode(output, restrict);
                WriteNode(output, topK);
                output.BeginMessage(5, mask.ComputeSize());
                mask.WriteTo(output);
                foreach (var input in inputs)
                {
                    output.BeginMessage(11, input.ComputeSize());
                    input.WriteTo(output);
                }
                foreach (var graphOutput in outputs)
                {
                    output.BeginMessage(12, graphOutput.ComputeSize());
                    graphOutput.WriteTo(output);
                }
            }
            output.Flush();
            if (output.Position != modelSize)
            {
                throw new InvalidOperationException($"the rewritten model came to {output.Position} bytes, not the {modelSize} computed");
            }
        }
        return bytes;
    }

    private static void WriteNode(ProtoOutput output, OnnxNode node)
    {
        output.BeginMessage(1, node.ComputeSize());
        node.WriteTo(output);
    }

    /// <summary>0 for allowed ids, −∞ for every other id: added to the logits, it leaves only allowed ids to TopK.</summary>
    private static OnnxTensor MaskTensor(string name, int vocabularySize, ReadOnlySpan<int> allowedIds)
    {
        var floats = new float[vocabularySize];
        Array.Fill(floats, float.NegativeInfinity);
        foreach (var id in allowedIds)
        {
            if ((uint)id < (uint)vocabularySize)
            {
                floats[id] = 0f;
            }
        }
        return OnnxTensor.FromFloats(name, [vocabularySize], floats);
    }
}
