using System.Globalization;
using System.Text.Json.Nodes;

namespace Riverbed.ModelKit;

/// <summary>
/// Writes the HF <c>config.json</c> of a generated model with the keys a real checkpoint's config has, so a
/// generated folder is indistinguishable, to Riverbed, from a user's export.
/// </summary>
internal static class HuggingFaceConfig
{
    public static JsonObject ForEncoder(EncoderSpec spec)
    {
        var config = Common(spec.Family, spec.Head, spec.VocabSize, spec.MaxPositions, spec.TypeVocabSize, spec.PadTokenId,
            spec.EffectiveLabels);
        config["hidden_size"] = spec.HiddenSize;
        config["num_hidden_layers"] = spec.LayerCount;
        config["num_attention_heads"] = spec.HeadCount;
        config["intermediate_size"] = spec.IntermediateSize;
        config["hidden_act"] = "gelu";
        config["hidden_dropout_prob"] = 0.1;
        config["attention_probs_dropout_prob"] = 0.1;
        config["layer_norm_eps"] = Real(spec.LayerNormEpsilon);
        config["initializer_range"] = Real(spec.InitializerRange);
        config["torch_dtype"] = spec.Weights == WeightPrecision.Float16 ? "float16" : "float32";
        if (spec.Family == EncoderFamily.Electra)
        {
            config["embedding_size"] = spec.HiddenSize;
        }
        return config;
    }

    /// <summary>The config of an oracle: the same identifying keys, and the tokenizer's family conventions.</summary>
    public static JsonObject ForOracle(TokenizerProfile profile, EncoderHead head, int maxPositions,
        IReadOnlyList<string> labels, string description)
    {
        var family = head == EncoderHead.Rtd ? EncoderFamily.Electra : profile.Family;
        var config = Common(family, head, profile.VocabSize, maxPositions, profile.TypeVocabSize, profile.PadId, labels);
        config["riverbed_oracle"] = description;
        return config;
    }

    private static JsonObject Common(EncoderFamily family, EncoderHead head, int vocabSize, int maxPositions, int typeVocabSize,
        int padTokenId, IReadOnlyList<string> labels)
    {
        var (modelType, prefix) = family switch
        {
            EncoderFamily.Roberta => ("roberta", "Roberta"),
            EncoderFamily.Electra => ("electra", "Electra"),
            _ => ("bert", "Bert"),
        };
        var task = head switch
        {
            EncoderHead.Mlm => "MaskedLM",
            EncoderHead.Nli => "SequenceClassification",
            EncoderHead.Rtd => "PreTraining",
            _ => "TokenClassification",
        };
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(JsonValue.Create($"{prefix}For{task}")),
            ["model_type"] = modelType,
            ["vocab_size"] = vocabSize,
            ["max_position_embeddings"] = maxPositions,
            ["type_vocab_size"] = typeVocabSize,
            ["pad_token_id"] = padTokenId,
        };
        if (family == EncoderFamily.Roberta)
        {
            config["bos_token_id"] = 0;
            config["eos_token_id"] = 2;
        }
        if (labels.Count > 0)
        {
            var id2Label = new JsonObject();
            var label2Id = new JsonObject();
            for (var i = 0; i < labels.Count; i++)
            {
                id2Label[i.ToString(CultureInfo.InvariantCulture)] = labels[i];
                label2Id[labels[i]] = i;
            }
            config["id2label"] = id2Label;
            config["label2id"] = label2Id;
        }
        return config;
    }

    // The shortest decimal that round-trips the float, so 1e-12f is written as 1e-12, not 9.99999996e-13.
    private static double Real(float value) =>
        double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
