using System.Text.Json;
using Riverbed.ModelKit;
using Riverbed.ModelKit.Oracles;
using Riverbed.Pipeline;
using Riverbed.Tokenization;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// Oracle model folders for the tests that drive faults through the whole engine: the four roles on one tokenizer.json
/// that ModelKit writes for a vocabulary of a few hundred tokens (<see cref="SmallVocabulary"/>: the synthetic
/// dialogues' words whole, ASCII characters for anything else). What those tests assert — no example lost, scores and
/// decisions unchanged by faults, a poison request failed alone — holds for any vocabulary, and a masked LM's logits are
/// [batch, sequence, vocabulary]: on roberta-base's 50,265 ids every run of theirs took about a minute.
/// </summary>
public sealed class SmallVocabularyOracles : OracleFolders
{
    public const string Collection = "small-vocabulary oracles";


    public SmallVocabularyOracles()
        : base("small-vocabulary-oracles")
    {
        var tokenizerJson = Folder("tokenizer.json");
        File.WriteAllText(tokenizerJson, SmallVocabulary.TokenizerJson(DialogueWords(Folder("words.jsonl"))));
        Tokenizer = Tokenizer.FromFile(tokenizerJson);
        var profile = TokenizerProfile.FromTokenizerJson(tokenizerJson);
        int Id(string word) => Tokenizer.TokenToId(word) ?? throw new InvalidOperationException($"'{word}' is not a word of the synthetic dialogues");

        // A few rules so that fill-and-compare meets agreeing, benign and wrong fills, and NLI answers vary.
        OracleGenerator.Mlm(new MlmOracleSpec
        {
            Tokenizer = profile,
            Rules =
            [
                new OracleMlmRule { Ranking = [Id("river")], PreviousId = Id("the"), Conditions = [new OracleCondition(Id("river"))] },
                new OracleMlmRule { Ranking = [Id("city"), Id("market")], PreviousId = Id("the") },
                new OracleMlmRule { Ranking = [Id("quiet")], PreviousId = Id("a") },
            ],
            DefaultRanking = [Id("village"), Id("bridge")],
        }).SaveTo(Folder("mlm"), tokenizerJson);
        OracleGenerator.Nli(new NliOracleSpec
        {
            Tokenizer = profile,
            Labels = ["entailment", "neutral", "contradiction"],
            Rules =
            [
                OracleNliRule.WhenHypothesisContains(Id("city"), new NliProbabilities(2, 8, 90)),
                OracleNliRule.WhenHypothesisContains(Id("quiet"), new NliProbabilities(70, 25, 5)),
                OracleNliRule.WhenHypothesisContains(Id("village"), new NliProbabilities(10, 60, 30)),
            ],
            Default = new NliProbabilities(80, 19, 1),
        }).SaveTo(Folder("nli"), tokenizerJson);
        OracleGenerator.Rtd(new RtdOracleSpec
        {
            Tokenizer = profile,
            Logits = new Dictionary<int, float> { [Id("lisbon")] = 2f, [Id("canada")] = 1f, [Id("1987")] = 0.5f },
            DefaultLogit = -4f,
        }).SaveTo(Folder("rtd"), tokenizerJson);
        OracleGenerator.Ner(new NerOracleSpec
        {
            Tokenizer = profile,
            TokenLabels = new Dictionary<int, string>
            {
                [Id("maria")] = "B-PER",
                [Id("anna")] = "B-PER",
                [Id("berg")] = "I-PER",
                [Id("chen")] = "B-PER",
                [Id("lisbon")] = "B-LOC",
                [Id("canada")] = "B-LOC",
            },
        }).SaveTo(Folder("ner"), tokenizerJson);
    }

    /// <summary>The tokenizer every oracle folder ships with.</summary>
    public Tokenizer Tokenizer { get; }


    /// <summary>Every word the synthetic dialogues use, read from a generated file (its texts cut at every other character than ASCII letters and digits).</summary>
    private static SortedSet<string> DialogueWords(string path)
    {
        SyntheticDialogues.Write(path, 2000, seed: 1);
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            using var row = JsonDocument.Parse(line);
            var text = row.RootElement.GetProperty("text").GetString()!.ToLowerInvariant();
            var start = 0;
            for (var i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || !char.IsAsciiLetterOrDigit(text[i]))
                {
                    if (i > start)
                    {
                        words.Add(text[start..i]);
                    }
                    start = i + 1;
                }
            }
        }
        return words;
    }
}

/// <summary>The fault test classes share one set of small-vocabulary oracle folders.</summary>
[CollectionDefinition(SmallVocabularyOracles.Collection)]
public sealed class SmallVocabularyOraclesCollection : ICollectionFixture<SmallVocabularyOracles>;
