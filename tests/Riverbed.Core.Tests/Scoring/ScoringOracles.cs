using Riverbed.Core.Tests.ModelKit;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;
using OracleNli = Riverbed.ModelKit.Oracles.NliProbabilities;

namespace Riverbed.Core.Tests.Scoring;

/// <summary>
/// Oracle model folders for the scoring tests, built once per test class into a scratch folder: an MLM and NLI models
/// on roberta-base's real tokenizer (the realistic choice for fill-and-compare), an ELECTRA discriminator on
/// electra-base-discriminator's and a NER model on bert-base-uncased's. Their rules are the dialogues' "truth".
/// </summary>
public sealed class ScoringOracles : OracleFolders
{
    public const string Collection = "scoring oracles";

    public static readonly string RobertaJson = TestPaths.Fixture("tokenizers", "roberta-base", "tokenizer.json");
    public static readonly string ElectraJson = TestPaths.Fixture("tokenizers", "electra-base-discriminator", "tokenizer.json");
    public static readonly string BertJson = TestPaths.Fixture("tokenizers", "bert-base-uncased", "tokenizer.json");

    /// <summary>The published examples, in percent: original → replaced, then replaced → original.</summary>
    public static readonly OracleNli FluffyToSmall = new(13.0892, 79.0414, 7.8693);
    public static readonly OracleNli SmallToFluffy = new(0.1456, 99.7456, 0.1087);
    public static readonly OracleNli CamelToDog = new(1.8346, 3.7347, 94.4307);
    public static readonly OracleNli DogToCamel = new(0.111, 1.8248, 98.0642);

    public static readonly IReadOnlyList<string>[] LabelOrders =
    [
        ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"],
        ["entailment", "neutral", "contradiction"],
        ["Neutral", "Contradiction", "Entailment"],
    ];

    /// <summary>RTD logits of the marked ids (bert-base-uncased / electra ids); every other id gets −4.</summary>
    public const float ObamaLogit = 2f;
    public const float HawaiiLogit = 1f;
    public const float YearLogit = 0.5f;
    public const float OtherLogit = -4f;

    /// <summary>Model limit of the short oracles (RoBERTa: max_position_embeddings − 2).</summary>
    public const int ShortLimit = 64;


    public ScoringOracles()
        : base("scoring-oracles")
    {
        var r = FixtureVocabulary.Roberta;
        var b = FixtureVocabulary.Bert;
        var roberta = TokenizerProfile.FromTokenizerJson(RobertaJson);
        var electra = TokenizerProfile.FromTokenizerJson(ElectraJson);
        var bert = TokenizerProfile.FromTokenizerJson(BertJson);

        // Predictions are chosen per dialogue by a word of its user turn (the context), then by the id before the mask.
        OracleMlmRule Fill(string contextWord, string previous, string predicted) => new()
        {
            Ranking = [r[predicted]],
            Conditions = [new OracleCondition(r[contextWord])],
            PreviousId = r[previous],
        };
        OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = roberta,
            Rules =
            [
                Fill("Ġgeography", "The", "Ġcapital"),      // match
                Fill("Ġgeography", "Ġof", "ĠFrance"),       // match
                Fill("Ġgeography", "Ġis", "ĠParis"),        // "Berlin" → "Paris": a planted wrong word
                Fill("Ġkitten", "Ġis", "Ġsmall"),           // "fluffy" → "small": benign
                Fill("Ġpet", "Ġa", "Ġdog"),                 // "camel" → "dog": wrong
                Fill("Ġhouse", "Ġa", "Ġbig"),               // "huge" → "big": benign
            ],
            DefaultRanking = [r["Ġone"]],
        }).SaveTo(Folder("mlm"), RobertaJson);
        OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = roberta,
            MaxPositions = ShortLimit + 2,
            DefaultRanking = [r["Ġone"]],
        }).SaveTo(Folder("mlm-short"), RobertaJson);

        OracleNliRule Pair(string premise, string hypothesis, OracleNli answer) =>
            OracleNliRule.WhenPair(r[premise], r[hypothesis], answer);
        var nliRules = new List<OracleNliRule>
        {
            Pair("ĠBerlin", "ĠParis", new OracleNli(2, 3, 95)),
            Pair("ĠParis", "ĠBerlin", new OracleNli(1, 4, 95)),
            Pair("Ġfluffy", "Ġsmall", FluffyToSmall),
            Pair("Ġsmall", "Ġfluffy", SmallToFluffy),
            Pair("Ġcamel", "Ġdog", CamelToDog),
            Pair("Ġdog", "Ġcamel", DogToCamel),
            Pair("Ġhuge", "Ġbig", new OracleNli(80, 18, 2)),
            Pair("Ġbig", "Ġhuge", new OracleNli(70, 28, 2)),
            Pair("Ġblue", "Ġred", new OracleNli(1, 2, 97)),
            Pair("Ġred", "Ġblue", new OracleNli(2, 8, 90)),
            Pair("Ġdeep", "Ġshallow", new OracleNli(5, 5, 90)),
            Pair("Ġshallow", "Ġdeep", new OracleNli(3, 3, 94)),
        };
        for (var i = 0; i < LabelOrders.Length; i++)
        {
            OracleGenerator.Nli(new NliOracleSpec
            {
                Tokenizer = roberta,
                Labels = LabelOrders[i],
                Rules = nliRules,
                Default = new OracleNli(80, 19, 1),
            }).SaveTo(Folder(i == 0 ? "nli" : $"nli-{i}"), RobertaJson);
        }

        var marked = new Dictionary<int, float> { [b["obama"]] = ObamaLogit, [b["hawaii"]] = HawaiiLogit, [b["1961"]] = YearLogit };
        OracleGenerator.Rtd(new RtdOracleSpec { Tokenizer = electra, Logits = marked, DefaultLogit = OtherLogit })
            .SaveTo(Folder("rtd"), ElectraJson);
        OracleGenerator.Rtd(new RtdOracleSpec
        {
            Tokenizer = electra,
            Logits = marked,
            DefaultLogit = OtherLogit,
            MaxPositions = 24,
            TrailingAxis = true,
        }).SaveTo(Folder("rtd-short"), ElectraJson);
        OracleGenerator.Ner(new NerOracleSpec
        {
            Tokenizer = bert,
            TokenLabels = new Dictionary<int, string>
            {
                [b["barack"]] = "B-PER",
                [b["obama"]] = "I-PER",
                [b["honolulu"]] = "B-LOC",
                [b["hawaii"]] = "B-LOC",
            },
        }).SaveTo(Folder("ner"), BertJson);
    }

}

/// <summary>The scoring test classes share one set of oracle folders.</summary>
[CollectionDefinition(ScoringOracles.Collection)]
public sealed class ScoringOraclesCollection : ICollectionFixture<ScoringOracles>;
