using Riverbed.Core.Tests.Inference;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;

// tests/Shared has a contract-test EncoderSpec of its own; this file means the generator's.

namespace Riverbed.Core.Tests.ModelKit;

/// <summary>Every generated folder — encoders and oracles — keeps the model-folder contract that real exports keep.</summary>
public sealed class GeneratedFoldersContractTests : IClassFixture<EnvironmentFixture>
{
    private readonly InferenceEnvironment _environment;

    public GeneratedFoldersContractTests(EnvironmentFixture fixture) => _environment = fixture.Environment;

    private static string Tokenizer(string name) => TestPaths.Fixture("tokenizers", name, "tokenizer.json");

    public static TheoryData<string> Cases => new()
    {
        "encoder-mlm-roberta", "encoder-nli-bert", "encoder-rtd-electra-int32-trailing", "encoder-ner-bert-float16",
        "oracle-mlm-roberta", "oracle-nli-permuted", "oracle-rtd-trailing", "oracle-ner",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_generated_folder_keeps_the_model_folder_contract(string name)
    {
        var (generated, tokenizer, role) = Build(name);
        using var scratch = new ScratchFolder("contract");
        var folderPath = scratch.File(name);
        generated.SaveTo(folderPath, Tokenizer(tokenizer));
        var vocabulary = TokenizerProfile.FromTokenizerJson(Tokenizer(tokenizer)).VocabSize;

        using var folder = ModelFolder.Open(_environment, folderPath, new ModelFolderOptions { TokenizerVocabularySize = vocabulary });

        Assert.Equal(role, folder.Role);
        Assert.Equal(vocabulary, folder.Contract.TokenizerVocabularySize);
        switch (name)
        {
            case "encoder-rtd-electra-int32-trailing":
                Assert.Equal(TensorElementType.Int32, folder.Contract.InputIdsType);
                Assert.True(folder.Contract.LogitsHaveTrailingAxis);
                break;
            case "encoder-ner-bert-float16":
                Assert.Equal(TensorElementType.Float16, folder.Contract.LogitsType);
                Assert.Equal(EncoderSpec.DefaultNerLabels, folder.Contract.Labels);
                break;
            case "oracle-nli-permuted":
                Assert.Equal(new NliLabelIndices(Entailment: 1, Neutral: 0, Contradiction: 2), folder.Contract.NliLabels);
                break;
            case "oracle-mlm-roberta":
                Assert.False(folder.Contract.HasTokenTypeIds);
                Assert.Equal(50265L, folder.Contract.ModelVocabularySize);
                break;
        }
    }

    private static (GeneratedModel Model, string Tokenizer, ModelRole Role) Build(string name)
    {
        var bert = TokenizerProfile.BertBaseUncased;
        var roberta = TokenizerProfile.RobertaBase;
        EncoderSpec Tiny(EncoderFamily family, EncoderHead head, TokenizerProfile profile) =>
            EncoderSpec.Create(family, head, profile.VocabSize) with { PadTokenId = profile.PadId, LayerCount = 1, HiddenSize = 16 };
        return name switch
        {
            "encoder-mlm-roberta" => (EncoderGenerator.Generate(Tiny(EncoderFamily.Roberta, EncoderHead.Mlm, roberta)), "roberta-base", ModelRole.MaskedLm),
            "encoder-nli-bert" => (EncoderGenerator.Generate(Tiny(EncoderFamily.Bert, EncoderHead.Nli, bert)), "bert-base-uncased", ModelRole.Nli),
            "encoder-rtd-electra-int32-trailing" => (EncoderGenerator.Generate(Tiny(EncoderFamily.Electra, EncoderHead.Rtd, bert) with
            {
                InputElementType = TensorElementType.Int32,
                RtdTrailingAxis = true,
            }), "electra-base-discriminator", ModelRole.ReplacedTokenDetection),
            "encoder-ner-bert-float16" => (EncoderGenerator.Generate(Tiny(EncoderFamily.Bert, EncoderHead.Ner, bert) with
            {
                Weights = WeightPrecision.Float16,
                OutputElementType = TensorElementType.Float16,
            }), "bert-base-uncased", ModelRole.TokenClassification),
            "oracle-mlm-roberta" => (OracleGenerator.Mlm(new MlmOracleSpec { Tokenizer = roberta, DefaultRanking = [5] }), "roberta-base", ModelRole.MaskedLm),
            "oracle-nli-permuted" => (OracleGenerator.Nli(new NliOracleSpec { Tokenizer = bert, Labels = ["neutral", "Entailment", "CONTRADICTION"] }),
                "bert-base-uncased", ModelRole.Nli),
            "oracle-rtd-trailing" => (OracleGenerator.Rtd(RtdOracleSpec.Marking(bert, [2000], 2f, -2f) with { TrailingAxis = true }),
                "electra-base-discriminator", ModelRole.ReplacedTokenDetection),
            "oracle-ner" => (OracleGenerator.Ner(new NerOracleSpec { Tokenizer = bert }), "bert-base-uncased", ModelRole.TokenClassification),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown case"),
        };
    }
}
