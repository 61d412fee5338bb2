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

    public Option<string?> GpuMemoryLimit { get; } = new("--gpu-memory-limit")
    {
        Description = "With --device cuda: the most GPU memory ONNX Runtime's arena may take per session, e.g. 20GiB, 16GB or a byte count " +
            "(default: no limit); a batch that would need more fails as out of memory and is halved. Not part of the configuration",
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

    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = "Intra-op threads per session (default: the cores this process may use divided among the sessions, the mlm's " +
            "counting double, with ONNX Runtime's spinning off; 0: ONNX Runtime decides)",
    };

    public Option<string> MlmHead { get; } = new("--mlm-head")
    {
        Description = "masked: rewrite the mlm's graph at load so its vocabulary head runs only at masked positions and returns top-k " +
            "(same results; falls back to full with a note when the graph does not allow it); full: read the full logits",
        DefaultValueFactory = _ => "masked",
    };

    public Option<long> Seed { get; } = new("--seed")
    {
        Description = "Seed of every random choice (which words are masked); with the example id it makes runs reproducible",
        DefaultValueFactory = _ => 0,
    };

    public Option<bool> ScoreToolTurns { get; } = new("--score-tool-turns")
    {
        Description = "Also score tool turns (tool calls and tool outputs), which are otherwise context for the turns after them",
    };

    public Option<string> OtherLanguage { get; } = new("--other-language")
    {
        Description = "A turn whose prose is not English (the models' language; a script and function-word check): 'skip' leaves it " +
            "unscored, 'flag' scores it; either way riverbed_skipped notes it",
        DefaultValueFactory = _ => "skip",
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

    public DecisionOptions Decisions { get; } = new("How thresholds combine (default: any)");

    public Option<int> LogEvery { get; } = new("--log-every")
    {
        Description = "Seconds between progress lines when the output is not a terminal",
        DefaultValueFactory = _ => 10,
    };

    public Option<string> MaxFailures { get; } = new("--max-failures")
    {
        Description = "Failed rows a shard may have (examples kept aside with a reason in {base}.failures.jsonl: untokenizable, or a model " +
            "request that failed even alone after its batch was halved and retried) before the shard stops and fails, nothing of it " +
            $"committed: a count (0: none), or a percentage of the rows read so far, at least {RejectBudget.FailureFloor}. Not part of the configuration",
        DefaultValueFactory = _ => RejectBudget.DefaultFailures.ToString(),
    };

    /// <summary>
    /// The thread count of the default before the thread budget: one intra-op thread per core (at most 8) in every
    /// session. <c>riverbed bench</c> measures it against the budget (bench/README.md).
    /// </summary>
    public static int ThreadPerCoreCount => Math.Clamp(Environment.ProcessorCount, 1, 8);

    public void AddTo(Command command, bool withOutputShape = true)
    {
        Format.AcceptOnlyFromAmong("parquet", "jsonl");
        MlmHead.AcceptOnlyFromAmong("masked", "full");
        OtherLanguage.AcceptOnlyFromAmong([.. OtherLanguageNames.All]);
        Device.Validators.Add(result =>
        {
            if (!ExecutionProvider.TryParse(result.GetValueOrDefault<string>(), out _))
            {
                result.AddError($"--device must be cpu, cuda or cuda:N; got '{result.GetValueOrDefault<string>()}'");
            }
        });
        GpuMemoryLimit.ParsesWith(text => ParseMemorySize(text));
        MaxFailures.Validators.Add(result =>
        {
            try
            {
                RejectBudget.ParseFailures(result.GetValueOrDefault<string>());
            }
            catch (RiverbedException error)
            {
                result.AddError(error.Message);
            }
        });
        foreach (var option in new Option[] { Models, Device, GpuMemoryLimit, BatchTokens, Sessions, Threads, MlmHead, Seed, ScoreToolTurns, OtherLanguage, Limit, Config, Decisions.Thresholds, Decisions.Combine, LogEvery, MaxFailures })
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
        // Decisions are parsed first, so a bad threshold is reported before anything else is looked for.
        var policy = Decisions.Apply(parse, file?.Policy ?? DecisionPolicy.Default);
        var scoring = file?.Scoring ?? ScoringOptions.Default;
        var seed = Pick(Seed, f => f.Scoring.Seed);
        var tools = Pick(ScoreToolTurns, f => f.Scoring.ScoreToolTurns);
        var language = OtherLanguageNames.Parse(Pick(OtherLanguage, f => OtherLanguageNames.Name(f.Scoring.OtherLanguage)));
        // A record: the options the command line sets replace the file's, every other option is kept as it is.
        scoring = scoring with { Seed = seed, ScoreToolTurns = tools, OtherLanguage = language };
        var settings = new ScoreSettings
        {
            ModelsFolder = ModelsLocator.Resolve(IsExplicit(parse, Models) || file is null ? parse.GetValue(Models) : file.ModelsFolder),
            Device = Pick(Device, f => f.Execution.Device),
            GpuMemoryLimitBytes = ParseMemorySize(parse.GetValue(GpuMemoryLimit)),
            Sessions = Pick(Sessions, f => f.Execution.Sessions),
            Threads = Pick(Threads, f => (int?)f.Execution.Threads) ?? ExecutionSettings.BudgetThreads,
            MaskedHead = parse.GetValue(MlmHead) != "full",
            BatchTokens = Pick(BatchTokens, f => f.Execution.BatchTokens),
            Limit = Pick(Limit, f => f.Limit),
            Format = Pick(Format, f => f.Format == OutputFormat.Parquet ? "parquet" : "jsonl") == "jsonl" ? OutputFormat.JsonLines : OutputFormat.Parquet,
            Split = Pick(Split, f => f.Split),
            Reader = reader,
            Scoring = scoring,
            Policy = policy,
            LogEvery = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(LogEvery))),
            MaxFailures = RejectBudget.ParseFailures(parse.GetValue(MaxFailures)!),
        };
        settings.Validate();
        return settings;
    }

    /// <summary>A memory size: a byte count, or a number with KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of 1024).</summary>
    internal static long? ParseMemorySize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var trimmed = text.Trim();
        var split = 0;
        while (split < trimmed.Length && (char.IsAsciiDigit(trimmed[split]) || trimmed[split] == '.'))
        {
            split++;
        }
        var unit = trimmed[split..].Trim().ToUpperInvariant();
        long? multiplier = unit switch
        {
            "" or "B" => 1L,
            "KB" => 1_000L,
            "MB" => 1_000_000L,
            "GB" => 1_000_000_000L,
            "TB" => 1_000_000_000_000L,
            "KIB" => 1L << 10,
            "MIB" => 1L << 20,
            "GIB" => 1L << 30,
            "TIB" => 1L << 40,
            _ => null,
        };
        if (multiplier is null || !decimal.TryParse(trimmed[..split], System.Globalization.NumberStyles.AllowDecimalPoint,
                System.Globalization.CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new RiverbedException($"--gpu-memory-limit: '{text}' is not a size such as 20GiB, 16GB or a byte count");
        }
        var bytes = number * multiplier.Value;
        return bytes >= 1 && bytes <= long.MaxValue
            ? (long)bytes
            : throw new RiverbedException($"--gpu-memory-limit: '{text}' is out of range");
    }

    internal static bool IsExplicit(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static ReaderOptions ReaderFrom(ParseResult parse, DatasetOptions dataset, RunConfiguration? file)
    {
        if (file is null)
        {
            return dataset.Read(parse);
        }
        var fromCommandLine = dataset.Read(parse);
        var schemaGiven = new Option[] { dataset.Schema, dataset.PromptField, dataset.ResponseField, dataset.SystemField, dataset.IdField, dataset.BotLabels, dataset.OasstBranches }
            .Any(option => IsExplicit(parse, option));
        var limitsGiven = new Option[] { dataset.MaxLineBytes, dataset.MaxDepth, dataset.MaxDecompressedBytes }.Any(option => IsExplicit(parse, option));
        return new ReaderOptions
        {
            Schema = schemaGiven ? fromCommandLine.Schema : file.Reader.Schema,
            Limits = limitsGiven ? fromCommandLine.Limits : file.Reader.Limits,
        };
    }
}

/// <summary>A scoring run's settings after defaults, --config and explicit options are combined.</summary>
internal sealed class ScoreSettings
{
    public required string ModelsFolder { get; init; }

    public required string Device { get; init; }

    /// <summary>The CUDA arena's limit in bytes per session (<c>--gpu-memory-limit</c>); null: none.</summary>
    public long? GpuMemoryLimitBytes { get; init; }

    public int Sessions { get; init; } = 1;

    /// <summary>Intra-op threads per session, or <see cref="ExecutionSettings.BudgetThreads"/> for the thread budget.</summary>
    public int Threads { get; init; } = ExecutionSettings.BudgetThreads;

    /// <summary>Rewrite the MLM to its masked-position head (<c>--mlm-head masked</c>).</summary>
    public bool MaskedHead { get; init; } = true;

    public int BatchTokens { get; init; } = BatchingOptions.DefaultBatchTokens;

    public long? Limit { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    public bool Split { get; init; }

    public ReaderOptions Reader { get; init; } = new();

    public ScoringOptions Scoring { get; init; } = ScoringOptions.Default;

    public DecisionPolicy Policy { get; init; } = DecisionPolicy.Default;

    public TimeSpan LogEvery { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxExamplesInFlight { get; init; } = 512;

    public RejectBudget MaxFailures { get; init; } = RejectBudget.DefaultFailures;

    public BatchingOptions Batching => new() { BatchTokens = BatchTokens };

    public ExecutionProvider Provider => ExecutionProvider.TryParse(Device, out var provider)
        ? provider.WithMemoryLimit(GpuMemoryLimitBytes)
        : throw new RiverbedException($"--device must be cpu, cuda or cuda:N; got '{Device}'");

    public void Validate()
    {
        if (Sessions < 1)
        {
            throw new RiverbedException($"--sessions must be at least 1 (got {Sessions})");
        }
        if (Threads < ExecutionSettings.BudgetThreads)
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
