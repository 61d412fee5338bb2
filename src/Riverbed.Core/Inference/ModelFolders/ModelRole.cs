namespace Riverbed.Inference.ModelFolders;

/// <summary>What a model folder is for, and so what its logits must look like.</summary>
public enum ModelRole
{
    /// <summary><c>mlm</c>: a masked language model; logits [batch, sequence, vocabulary].</summary>
    MaskedLm,

    /// <summary><c>nli</c>: sequence-pair classification; logits [batch, 3] over entailment, neutral, contradiction.</summary>
    Nli,

    /// <summary><c>rtd</c>: an ELECTRA discriminator (replaced-token detection); logits [batch, sequence] or [batch, sequence, 1].</summary>
    ReplacedTokenDetection,

    /// <summary><c>ner</c>: token classification with BIO labels; logits [batch, sequence, labels].</summary>
    TokenClassification,
}
