using System.CommandLine;
using System.Globalization;
using Riverbed.ModelKit;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed models generate demo|encoder</c>: writes generated model folders (seeded random weights, real ONNX
/// graphs, HF config.json) for the demo, tests and benchmarks.
/// </summary>
internal static class ModelsGenerateCommand
{
    public static Command Create()
    {
        var generate = new Command("generate",
            "Generate model folders with seeded random weights: the demo set, or an encoder of a chosen role and size. " +
            "They exercise the mechanics; they are not quality models (see models/README.md).");
        generate.Subcommands.Add(Demo());
        generate.Subcommands.Add(Encoder());
        return generate;
    }

    private static Command Demo()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "Folder to write mlm/, nli/ and rtd/ into.",
            DefaultValueFactory = _ => Path.Combine("models", "demo"),
        };
        var vocab = new Option<string?>("--vocab")
        {
            Description = "bert-base-uncased vocabulary in '▁' form (default: the copy bundled in Riverbed).",
        };
        var force = new Option<bool>("--force") { Description = "Regenerate even when the folder is complete and up to date." };
        var command = new Command("demo", "Write the demo models (tiny mlm, nli and rtd encoders over the bert-base-uncased tokenizer).")
        {
            output, vocab, force,
        };
        CommandAction.Set(command, parseResult =>
        {
            var folder = parseResult.GetValue(output)!;
            var vocabulary = parseResult.GetValue(vocab);
            var result = DemoModels.Generate(folder, vocabulary, parseResult.GetValue(force));
            if (!result.Generated)
            {
                Console.Out.WriteLine($"{folder}: demo models are up to date (generator v{EncoderGenerator.Version}); use --force to rewrite them");
                return ExitCodes.Success;
            }
            foreach (var modelFolder in result.Folders)
            {
                PrintFolder(modelFolder);
            }
            Console.Out.WriteLine("These are mechanics demos with random weights, not quality models: see models/README.md.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Encoder()
    {
        var role = new Option<string>("--role") { Description = "Task head: mlm, nli, rtd or ner.", Required = true };
        role.AcceptOnlyFromAmong("mlm", "nli", "rtd", "ner");
        var size = new Option<string>("--size")
        {
            Description = "tiny (hidden 32, 2 layers), base (768, 12) or large (1024, 24). Base and large are hundreds of MB.",
            DefaultValueFactory = _ => "tiny",
        };
        size.AcceptOnlyFromAmong("tiny", "base", "large");
        var family = new Option<string?>("--family")
        {
            Description = "bert, roberta or electra (default: electra for rtd, else the tokenizer's family, else bert).",
        };
        family.AcceptOnlyFromAmong("bert", "roberta", "electra");
        var vocabSize = new Option<int?>("--vocab-size") { Description = "Vocabulary size, when no --tokenizer is given." };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "A HF tokenizer.json: sizes the vocabulary, sets the special ids and is copied into the folder.",
        };
        var output = new Option<string>("--output", "-o") { Description = "Model folder to write.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Weight seed.", DefaultValueFactory = _ => 1 };
        var layers = new Option<int?>("--layers") { Description = "Override the preset's number of layers." };
        var float16 = new Option<bool>("--float16") { Description = "Store weights as float16 (computation stays float32)." };
        var command = new Command("encoder", "Write one encoder model folder of a chosen role and size with seeded random weights.")
        {
            role, size, family, vocabSize, tokenizer, output, seed, layers, float16,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(vocabSize) is null == result.GetValue(tokenizer) is null)
            {
                result.AddError("give exactly one of --vocab-size and --tokenizer");
            }
            if (result.GetValue(vocabSize) is <= 0)
            {
                result.AddError("--vocab-size must be positive");
            }
            if (result.GetValue(layers) is < 0)
            {
                result.AddError("--layers must not be negative");
            }
        });
        CommandAction.Set(command, parseResult =>
        {
            var head = Enum.Parse<EncoderHead>(parseResult.GetValue(role)!, ignoreCase: true);
            var tokenizerPath = parseResult.GetValue(tokenizer);
            var profile = tokenizerPath is null ? null : ReadProfile(tokenizerPath);
            var chosenFamily = parseResult.GetValue(family) is { } name
                ? Enum.Parse<EncoderFamily>(name, ignoreCase: true)
                : head == EncoderHead.Rtd ? EncoderFamily.Electra : profile?.Family ?? EncoderFamily.Bert;
            if (head == EncoderHead.Rtd && chosenFamily != EncoderFamily.Electra)
            {
                throw new RiverbedException("--role rtd is an ELECTRA discriminator head: use --family electra (or leave --family out)");
            }
            var spec = EncoderSpec.Create(chosenFamily, head, profile?.VocabSize ?? parseResult.GetValue(vocabSize)!.Value,
                Enum.Parse<EncoderSize>(parseResult.GetValue(size)!, ignoreCase: true), parseResult.GetValue(seed));
            if (profile is not null)
            {
                spec = spec with
                {
                    PadTokenId = profile.PadId,
                    MaxPositions = chosenFamily == EncoderFamily.Roberta ? 512 + profile.PadId + 1 : spec.MaxPositions,
                };
            }
            spec = spec with
            {
                LayerCount = parseResult.GetValue(layers) ?? spec.LayerCount,
                Weights = parseResult.GetValue(float16) ? WeightPrecision.Float16 : WeightPrecision.Float32,
            };
            GeneratedModel generated;
            try
            {
                generated = EncoderGenerator.Generate(spec);
            }
            catch (ArgumentException error)
            {
                throw new RiverbedException(error.Message, error);
            }
            var folder = parseResult.GetValue(output)!;
            try
            {
                generated.SaveTo(folder, tokenizerPath);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new RiverbedException($"{folder}: cannot write the model folder: {error.Message}", error);
            }
            PrintFolder(folder);
            if (tokenizerPath is null)
            {
                Console.Out.WriteLine($"{folder}: no tokenizer.json was given; add one for the same vocabulary of {spec.VocabSize} tokens before using the folder.");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static TokenizerProfile ReadProfile(string path) =>
        File.Exists(path) ? TokenizerProfile.FromTokenizerJson(path) : throw new RiverbedException($"{path}: tokenizer file not found");

    private static void PrintFolder(string folder)
    {
        var files = Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(f)} {FormatSize(new FileInfo(f).Length)}"));
        Console.Out.WriteLine($"wrote {folder}: {string.Join(", ", files)}");
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
