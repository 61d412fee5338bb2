using Riverbed.Tokenization;

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
    /// What a HF tokenizer.json says, read by Riverbed's one tokenizer.json reader (Tokenization's): the vocabulary
    /// size is one more than the largest id, added tokens included; specials are found by their usual spellings
    /// ([MASK] or &lt;mask&gt;, …); the family follows the post-processor: RoBERTa's gives a pair one token type, BERT's
    /// (and template processors that mark the second sequence) two.
    /// </summary>
    public static TokenizerProfile FromTokenizerJson(string path)
    {
        // The loader's message names the file and the JSON path at fault.
        var tokenizer = Tokenizer.FromFile(path);

        int Special(string what, params string[] spellings)
        {
            foreach (var spelling in spellings)
            {
                if (tokenizer.TokenToId(spelling) is { } id)
                {
                    return id;
                }
            }
            throw new RiverbedException(
                $"{path}: the tokenizer has no {what} token (looked for {string.Join(", ", spellings)})");
        }

        var pair = tokenizer.Encode("a", "b");
        return new TokenizerProfile(
            tokenizer.VocabularySize,
            Special("padding", "[PAD]", "<pad>"),
            Special("classification (start)", "[CLS]", "<s>"),
            Special("separator", "[SEP]", "</s>"),
            Special("mask", "[MASK]", "<mask>"),
            pair.TypeIds.Any(t => t != 0) ? EncoderFamily.Bert : EncoderFamily.Roberta);
    }
}
