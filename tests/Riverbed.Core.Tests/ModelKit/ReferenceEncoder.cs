using Riverbed.ModelKit;

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>
/// An independent forward pass of the generated encoders: plain loops in double precision over the same weights,
/// written from the architecture's definition (BERT/RoBERTa/ELECTRA), not from the ONNX graph. What the runtime
/// computes from model.onnx must agree with this.
/// </summary>
internal static class ReferenceEncoder
{
    /// <summary>Logits, row-major in the output's shape ([B,T,V], [B,3], [B,T] or [B,T,L]).</summary>
    public static double[] Forward(EncoderWeights weights, long[][] ids, long[][] mask, long[][]? tokenTypes)
    {
        var spec = weights.Spec;
        var outputs = new List<double>();
        for (var b = 0; b < ids.Length; b++)
        {
            var hidden = Embed(weights, ids[b], tokenTypes?[b]);
            for (var layer = 0; layer < spec.LayerCount; layer++)
            {
                hidden = Layer(weights, $"encoder.layer.{layer}", hidden, mask[b]);
            }
            outputs.AddRange(Head(weights, hidden));
        }
        return [.. outputs];
    }

    private static double[][] Embed(EncoderWeights w, long[] ids, long[]? types)
    {
        var spec = w.Spec;
        var word = w["embeddings.word_embeddings.weight"].Values;
        var position = w["embeddings.position_embeddings.weight"].Values;
        var type = w["embeddings.token_type_embeddings.weight"].Values;
        int h = spec.HiddenSize, t = ids.Length;
        var result = new double[t][];
        var nonPadSeen = 0L;
        for (var i = 0; i < t; i++)
        {
            long positionId;
            if (spec.Family == EncoderFamily.Roberta)
            {
                // fairseq/HF: non-pad tokens are numbered from padding_idx + 1; pads sit at padding_idx.
                positionId = ids[i] == spec.PadTokenId ? spec.PadTokenId : spec.PadTokenId + ++nonPadSeen;
            }
            else
            {
                positionId = i;
            }
            var typeId = types?[i] ?? 0;
            var row = new double[h];
            for (var k = 0; k < h; k++)
            {
                row[k] = (double)word[(ids[i] * h) + k] + position[(positionId * h) + k] + type[(typeId * h) + k];
            }
            result[i] = LayerNorm(row, w["embeddings.LayerNorm.weight"].Values, w["embeddings.LayerNorm.bias"].Values, spec.LayerNormEpsilon);
        }
        return result;
    }

    private static double[][] Layer(EncoderWeights w, string prefix, double[][] hidden, long[] mask)
    {
        var spec = w.Spec;
        int t = hidden.Length, h = spec.HiddenSize, heads = spec.HeadCount, d = h / heads;
        var q = Linear(w, $"{prefix}.attention.query", hidden);
        var k = Linear(w, $"{prefix}.attention.key", hidden);
        var v = Linear(w, $"{prefix}.attention.value", hidden);
        var context = new double[t][];
        for (var i = 0; i < t; i++)
        {
            context[i] = new double[h];
        }
        for (var head = 0; head < heads; head++)
        {
            for (var i = 0; i < t; i++)
            {
                var scores = new double[t];
                for (var j = 0; j < t; j++)
                {
                    var dot = 0.0;
                    for (var x = 0; x < d; x++)
                    {
                        dot += q[i][(head * d) + x] * k[j][(head * d) + x];
                    }
                    scores[j] = (dot / Math.Sqrt(d)) + (mask[j] == 0 ? -10000.0 : 0.0);
                }
                var probabilities = Softmax(scores);
                for (var j = 0; j < t; j++)
                {
                    for (var x = 0; x < d; x++)
                    {
                        context[i][(head * d) + x] += probabilities[j] * v[j][(head * d) + x];
                    }
                }
            }
        }
        var attention = Linear(w, $"{prefix}.attention.output.dense", context);
        var afterAttention = AddNorm(w, $"{prefix}.attention.output.LayerNorm", attention, hidden);
        var intermediate = Linear(w, $"{prefix}.intermediate.dense", afterAttention).Select(row => row.Select(Gelu).ToArray()).ToArray();
        var output = Linear(w, $"{prefix}.output.dense", intermediate);
        return AddNorm(w, $"{prefix}.output.LayerNorm", output, afterAttention);
    }

    private static IEnumerable<double> Head(EncoderWeights w, double[][] hidden)
    {
        var spec = w.Spec;
        switch (spec.Head)
        {
            case EncoderHead.Mlm:
            {
                var transformed = Linear(w, "head.transform.dense", hidden)
                    .Select(row => LayerNorm(row.Select(Gelu).ToArray(), w["head.transform.LayerNorm.weight"].Values,
                        w["head.transform.LayerNorm.bias"].Values, spec.LayerNormEpsilon))
                    .ToArray();
                var word = w["embeddings.word_embeddings.weight"].Values;
                var bias = w["head.decoder.bias"].Values;
                int h = spec.HiddenSize;
                foreach (var row in transformed)
                {
                    for (var token = 0; token < spec.VocabSize; token++)
                    {
                        var sum = (double)bias[token];
                        for (var x = 0; x < h; x++)
                        {
                            sum += row[x] * word[(token * h) + x];
                        }
                        yield return sum;
                    }
                }
                break;
            }
            case EncoderHead.Nli:
            {
                var pooled = Linear(w, "head.dense", [hidden[0]])[0].Select(Math.Tanh).ToArray();
                foreach (var logit in Linear(w, "head.out_proj", [pooled])[0])
                {
                    yield return logit;
                }
                break;
            }
            case EncoderHead.Rtd:
            {
                var transformed = Linear(w, "head.dense", hidden).Select(row => row.Select(Gelu).ToArray()).ToArray();
                foreach (var row in Linear(w, "head.dense_prediction", transformed))
                {
                    yield return row[0];
                }
                break;
            }
            case EncoderHead.Ner:
                foreach (var row in Linear(w, "head.classifier", hidden))
                {
                    foreach (var logit in row)
                    {
                        yield return logit;
                    }
                }
                break;
        }
    }

    private static double[][] Linear(EncoderWeights w, string name, double[][] input)
    {
        var weight = w[$"{name}.weight"];
        var bias = w[$"{name}.bias"].Values;
        int inputs = (int)weight.Dims[0], outputs = (int)weight.Dims[1];
        var result = new double[input.Length][];
        for (var i = 0; i < input.Length; i++)
        {
            var row = new double[outputs];
            for (var o = 0; o < outputs; o++)
            {
                var sum = (double)bias[o];
                for (var x = 0; x < inputs; x++)
                {
                    sum += input[i][x] * weight.Values[(x * outputs) + o];
                }
                row[o] = sum;
            }
            result[i] = row;
        }
        return result;
    }

    private static double[][] AddNorm(EncoderWeights w, string name, double[][] a, double[][] residual) =>
        a.Select((row, i) => LayerNorm(row.Select((x, k) => x + residual[i][k]).ToArray(), w[$"{name}.weight"].Values,
            w[$"{name}.bias"].Values, w.Spec.LayerNormEpsilon)).ToArray();

    private static double[] LayerNorm(double[] x, float[] scale, float[] shift, float epsilon)
    {
        var mean = x.Average();
        var variance = x.Select(v => (v - mean) * (v - mean)).Average();
        var denominator = Math.Sqrt(variance + epsilon);
        return x.Select((v, k) => ((v - mean) / denominator * scale[k]) + shift[k]).ToArray();
    }

    private static double[] Softmax(double[] scores)
    {
        var max = scores.Max();
        var exps = scores.Select(s => Math.Exp(s - max)).ToArray();
        var sum = exps.Sum();
        return exps.Select(e => e / sum).ToArray();
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>erf to ~1e-15: Maclaurin series near 0, a continued fraction for erfc further out.</summary>
    internal static double Erf(double x)
    {
        var a = Math.Abs(x);
        double result;
        if (a < 2.5)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (var n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -a * a / n;
                sum += term / ((2 * n) + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
            var fraction = a;
            for (var n = 80; n >= 1; n--)
            {
                fraction = a + (n / 2.0 / fraction);
            }
            result = 1 - (Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction);
        }
        return x < 0 ? -result : result;
    }
}
