using System.CommandLine;
using Riverbed.Inference;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;

namespace Riverbed.Runner.Commands;

/// <summary>
/// The options of <c>score</c> (and of <c>demo</c> and <c>bench</c>, which run the same engine): models, execution,
/// scoring, decisions and output. With <c>--config run.json</c> the file's configuration is the starting point and only
/// the options given explicitly override it.
/// </summary>
internal sealed class ScoreOptionSet
{
    public Option<string?> Models { get; } = new("--models")
    {
        Description = "Models folder holding mlm/, nli/, rtd/ and optionally ner/ (missing roles skip their scorers); default: models/demo",
    };

    public Option<string> Device { get; } = new("--device")
    {
        Description = "Where the models run: cpu, cuda or cuda:N",
        DefaultValueFactory = _ => "cpu",
    };

    public Option<int> BatchTokens { get; } = new("--batch-tokens")
    {
        Description = "Padded tokens per model batch (requests × longest request)",
        DefaultValueFactory = _ => BatchingOptions.DefaultBatchTokens,
    };

    public Option<int> Sessions { get; } = new("--sessions")
    {
        Description = "Inference sessions per model role, each with its own worker",
        DefaultValueFactory = _ => 1,
    };

    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "Intra-op threads per session (default: one per core, at most 8; 0: ONNX Runtime decides)",
        DefaultValueFactory = _ => DefaultThreads,
    };

    public Option<long> Seed { get; } = new("--seed")
    {
        Description = "Seed of every random choice (which words are masked); with the example id it makes runs reproducible",
        DefaultValueFactory = _ => 0,
    };

    public Option<long?> Limit { get; } = new("--limit") { Description = "Read only the first N records of each shard (a trial run)" };

    public Option<string> Format { get; } = new("--format")
    {
        Description = "Output shard format",
        DefaultValueFactory = _ => "parquet",
    };

    public Option<bool> Split { get; } = new("--split") { Description = "Write kept/ and removed/<score>/ instead of one shard per input" };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "Start from the configuration of a previous run (its run.json); options given explicitly override it",
    };

    public Option<string[]> Thresholds { get; } = new("--threshold")
    {
        Description = "A decision threshold: name=value (the score's natural direction), name<value or name>value; repeatable. " +
            $"Scores: {string.Join(", ", ScoreNames.All)}. Defaults: {DecisionPolicy.Default}",
    };

    public Option<string> Combine { get; } = new("--combine")
    {
        Description = "any: remove when any threshold triggers; all: only when every one does",
        DefaultValueFactory = _ => "any",
    };

    public Option<int> LogEvery { get; } = new("--log-every")
    {
        Description = "Seconds between progress lines when the output is not a terminal",
        DefaultValueFactory = _ => 10,
    };

    public Option<string> MaxFailures { get; } = new("--max-failures")
    {
        Description = "Failed rows a shard may have (examples kept aside with a reason in {base}.failures.jsonl: untokenizable, or a model " +
            "request that failed even alone after its batch was halved and retried) before the shard stops and fails, nothing of it " +
            $"committed: a count (0: none), or a percentage of the rows read so far, at least {FailureBudget.Floor}. Not part of the configuration",
        DefaultValueFactory = _ => FailureBudget.Default.ToString(),
    };

    /// <summary>
    /// One intra-op thread per core (at most 8) in each session. Measured with <c>riverbed bench</c> (bench/README.md,
    /// Pipeline): on a base-sized encoder two threads on two cores give 1.29x the tokens/s of one, because the masked LM
    /// dominates and would otherwise leave a core idle; the other roles' sessions are mostly idle, so their threads cost
    /// little. Several ranks on one machine should divide the cores (<c>--threads</c>), as bench/scale-out.sh does.
    /// </summary>
    public static int DefaultThreads => Math.Clamp(Environment.ProcessorCount, 1, 8);

    public void AddTo(Command command, bool withOutputShape = true)
    {
        Format.AcceptOnlyFromAmong("parquet", "jsonl");
        Combine.AcceptOnlyFromAmong("any", "all");
        Device.Validators.Add(result =>
        {
            if (!ExecutionProvider.TryParse(result.GetValueOrDefault<string>(), out _))
            {
                result.AddError($"--device must be cpu, cuda or cuda:N; got '{result.GetValueOrDefault<string>()}'");
            }
        });
        MaxFailures.Validators.Add(result =>
        {
            try
            {
                FailureBudget.Parse(result.GetValueOrDefault<string>());
            }
            catch (RiverbedException error)
            {
                result.AddError(error.Message);
            }
        });
        Thresholds.ParsesWith(values =>
        {
            foreach (var value in values ?? [])
            {
                ScoreThreshold.Parse(value);
            }
        });
        foreach (var option in new Option[] { Models, Device, BatchTokens, Sessions, Threads, Seed, Limit, Config, Thresholds, Combine, LogEvery, MaxFailures })
        {
            command.Options.Add(option);
        }
        if (withOutputShape)
        {
            command.Options.Add(Format);
            command.Options.Add(Split);
        }
    }

    /// <summary>The run's effective settings: the --config file's (if any) overridden by explicit options, else the defaults.</summary>
    public ScoreSettings Resolve(ParseResult parse, DatasetOptions? dataset)
    {
        var file = parse.GetValue(Config) is { } path ? RunConfiguration.Load(path) : null;
        T Pick<T>(Option<T> option, Func<RunConfiguration, T> fromFile) =>
            file is null || IsExplicit(parse, option) ? parse.GetValue(option)! : fromFile(file);

        var reader = dataset is null ? file?.Reader ?? new ReaderOptions() : ReaderFrom(parse, dataset, file);
        var basePolicy = file?.Policy ?? DecisionPolicy.Default;
        var thresholds = (parse.GetValue(Thresholds) ?? []).Select(ScoreThreshold.Parse).ToList();
        var combination = Pick(Combine, f => f.Policy.Combination == ThresholdCombination.All ? "all" : "any") == "all"
            ? ThresholdCombination.All
            : ThresholdCombination.Any;
        var scoring = file?.Scoring ?? ScoringOptions.Default;
        var seed = Pick(Seed, f => f.Scoring.Seed);
        if (seed != scoring.Seed)
        {
            scoring = Copy(scoring, seed);
        }
        var settings = new ScoreSettings
        {
            ModelsFolder = ModelsLocator.Resolve(IsExplicit(parse, Models) || file is null ? parse.GetValue(Models) : file.ModelsFolder),
            Device = Pick(Device, f => f.Execution.Device),
            Sessions = Pick(Sessions, f => f.Execution.Sessions),
            Threads = Pick(Threads, f => f.Execution.Threads),
            BatchTokens = Pick(BatchTokens, f => f.Execution.BatchTokens),
            Limit = Pick(Limit, f => f.Limit),
            Format = Pick(Format, f => f.Format == OutputFormat.Parquet ? "parquet" : "jsonl") == "jsonl" ? OutputFormat.JsonLines : OutputFormat.Parquet,
            Split = Pick(Split, f => f.Split),
            Reader = reader,
            Scoring = scoring,
            Policy = basePolicy.With(thresholds, combination),
            LogEvery = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(LogEvery))),
            MaxFailures = FailureBudget.Parse(parse.GetValue(MaxFailures)!),
        };
        settings.Validate();
        return settings;
    }

    internal static bool IsExplicit(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static ReaderOptions ReaderFrom(ParseResult parse, DatasetOptions dataset, RunConfiguration? file)
    {
        if (file is null)
        {
            return dataset.Read(parse);
        }
        var fromCommandLine = dataset.Read(parse);
        var schemaGiven = new Option[] { dataset.Schema, dataset.PromptField, dataset.ResponseField, dataset.SystemField, dataset.IdField, dataset.BotLabels }
            .Any(option => IsExplicit(parse, option));
        var limitsGiven = new Option[] { dataset.MaxLineBytes, dataset.MaxDepth, dataset.MaxDecompressedBytes }.Any(option => IsExplicit(parse, option));
        return new ReaderOptions
        {
            Schema = schemaGiven ? fromCommandLine.Schema : file.Reader.Schema,
            Limits = limitsGiven ? fromCommandLine.Limits : file.Reader.Limits,
        };
    }

    private static ScoringOptions Copy(ScoringOptions options, long seed) => new()
    {
        Seed = seed,
        MaskRate = options.MaskRate,
        WindowWords = options.WindowWords,
        TopK = options.TopK,
        Stopwords = options.Stopwords,
        ContextTokenBudget = options.ContextTokenBudget,
        FillFlagBelow = options.FillFlagBelow,
        EntityFlagAbove = options.EntityFlagAbove,
        ContradictionFlagAbove = options.ContradictionFlagAbove,
        MaxContradictionPairs = options.MaxContradictionPairs,
    };
}

/// <summary>A scoring run's settings after defaults, --config and explicit options are combined.</summary>
internal sealed class ScoreSettings
{
    public required string ModelsFolder { get; init; }

    public required string Device { get; init; }

    public int Sessions { get; init; } = 1;

    public int Threads { get; init; } = ScoreOptionSet.DefaultThreads;

    public int BatchTokens { get; init; } = BatchingOptions.DefaultBatchTokens;

    public long? Limit { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    public bool Split { get; init; }

    public ReaderOptions Reader { get; init; } = new();

    public ScoringOptions Scoring { get; init; } = ScoringOptions.Default;

    public DecisionPolicy Policy { get; init; } = DecisionPolicy.Default;

    public TimeSpan LogEvery { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxExamplesInFlight { get; init; } = 512;

    public FailureBudget MaxFailures { get; init; } = FailureBudget.Default;

    public BatchingOptions Batching => new() { BatchTokens = BatchTokens };

    public ExecutionProvider Provider => ExecutionProvider.TryParse(Device, out var provider)
        ? provider
        : throw new RiverbedException($"--device must be cpu, cuda or cuda:N; got '{Device}'");

    public void Validate()
    {
        if (Sessions < 1)
        {
            throw new RiverbedException($"--sessions must be at least 1 (got {Sessions})");
        }
        if (Threads < 0)
        {
            throw new RiverbedException($"--threads must be 0 (ONNX Runtime decides) or more (got {Threads})");
        }
        _ = Provider;
        Reader.Validate();
        Scoring.Validate();
        Batching.Validate();
        if (Limit is < 1)
        {
            throw new RiverbedException($"--limit must be at least 1 (got {Limit})");
        }
    }
}
