using System.Text.Json;

namespace Riverbed.ModelKit;

/// <summary>
/// What a generated model must agree on with the tokenizer it is used with: the vocabulary size (added tokens
/// included) and the ids of the special tokens the graph looks for.
/// </summary>
public sealed record TokenizerProfile(int VocabSize, int PadId, int ClsId, int SeparatorId, int MaskId, EncoderFamily Family)
{
    /// <summary>bert-base-uncased (and ELECTRA's identical vocabulary).</summary>
    public static TokenizerProfile BertBaseUncased { get; } = new(30522, 0, 101, 102, 103, EncoderFamily.Bert);

    /// <summary>roberta-base / roberta-large.</summary>
    public static TokenizerProfile RobertaBase { get; } = new(50265, 1, 0, 2, 50264, EncoderFamily.Roberta);

    /// <summary>RoBERTa has a single token type; BERT-style models two.</summary>
    public int TypeVocabSize => Family == EncoderFamily.Roberta ? 1 : 2;

    /// <summary>HF's max_position_embeddings for a usable length of 512 (RoBERTa offsets positions by pad id + 1).</summary>
    public int DefaultMaxPositions => Family == EncoderFamily.Roberta ? 512 + PadId + 1 : 512;

    /// <summary>
    /// Reads a HF tokenizer.json: the vocabulary size is one more than the largest id of the model's vocabulary and
    /// the added tokens; specials are found by their usual spellings ([MASK] or &lt;mask&gt;, …).
    /// </summary>
    public static TokenizerProfile FromTokenizerJson(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new RiverbedException($"{path}: cannot read the tokenizer: {error.Message}", error);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model)
                || model.ValueKind != JsonValueKind.Object)
            {
                throw new RiverbedException($"{path}: not a HF tokenizer.json (no \"model\" object)");
            }
            var maxId = -1L;
            var ids = new Dictionary<string, long>(StringComparer.Ordinal);
            if (model.TryGetProperty("vocab", out var vocab))
            {
                if (vocab.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in vocab.EnumerateObject())
                    {
                        var id = entry.Value.GetInt64();
                        ids[entry.Name] = id;
                        maxId = Math.Max(maxId, id);
                    }
                }
                else if (vocab.ValueKind == JsonValueKind.Array)
                {
                    // Unigram: [[piece, score], …], the id is the position.
                    var index = 0L;
                    foreach (var entry in vocab.EnumerateArray())
                    {
                        ids[entry[0].GetString() ?? string.Empty] = index;
                        maxId = index++;
                    }
                }
            }
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    var id = token.GetProperty("id").GetInt64();
                    ids[token.GetProperty("content").GetString() ?? string.Empty] = id;
                    maxId = Math.Max(maxId, id);
                }
            }
            if (maxId < 0)
            {
                throw new RiverbedException($"{path}: the tokenizer has an empty vocabulary");
            }

            int Special(string what, params string[] spellings)
            {
                foreach (var spelling in spellings)
                {
                    if (ids.TryGetValue(spelling, out var id))
                    {
                        return (int)id;
                    }
                }
                throw new RiverbedException(
                    $"{path}: the tokenizer has no {what} token (looked for {string.Join(", ", spellings)})");
            }

            var roberta = root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object
                && post.TryGetProperty("type", out var type) && type.GetString() == "RobertaProcessing";
            return new TokenizerProfile(
                checked((int)(maxId + 1)),
                Special("padding", "[PAD]", "<pad>"),
                Special("classification (start)", "[CLS]", "<s>"),
                Special("separator", "[SEP]", "</s>"),
                Special("mask", "[MASK]", "<mask>"),
                roberta ? EncoderFamily.Roberta : EncoderFamily.Bert);
        }
    }
}
