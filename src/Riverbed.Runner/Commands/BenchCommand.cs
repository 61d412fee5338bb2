using System.CommandLine;
using System.Globalization;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Execution;
using Spectre.Console;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed bench</c>: runs the whole pipeline (read, score, write) over a generated or given input and reports what
/// matters for throughput: examples/s, real tokens/s, the share of wall time the models spend inside Run() (per role,
/// and any model at all), padding with and without length sorting, and a sweep of --batch-tokens × --sessions with
/// the best setting. Outputs go to a temporary folder that is deleted afterwards.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] SettingsColumns = ["threads", "mlm head", "examples/s", "mlm tokens/s in Run()", "nli cache hits", "vs first row"];

    private static readonly string[] SweepColumns = ["sessions", "batch tokens", "examples/s", "real tokens/s", "models busy", "vs sorted run above"];

    public static Command Create()
    {
        var scoring = new ScoreOptionSet();
        var inputs = new Argument<string[]>("inputs")
        {
            Description = "Dataset files or folders to run over (default: generated OIG-style dialogues)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var examples = new Option<int>("--examples") { Description = "Dialogues to generate when no input is given", DefaultValueFactory = _ => 400 };
        var sweepTokens = new Option<string>("--sweep-batch-tokens")
        {
            Description = "Comma-separated --batch-tokens values to sweep",
            DefaultValueFactory = _ => "1024,4096,16384",
        };
        var sweepSessions = new Option<string>("--sweep-sessions")
        {
            Description = "Comma-separated --sessions values to sweep",
            DefaultValueFactory = _ => "1,2",
        };
        var sweepThreads = new Option<string>("--sweep-threads")
        {
            Description = "Comma-separated thread settings to sweep against each other: budget (the default), per-core (the old default: " +
                "a thread per core in every session, spinning on) or a count per session",
            DefaultValueFactory = _ => "budget,1,per-core",
        };
        var sweepHead = new Option<string>("--sweep-mlm-head")
        {
            Description = "Comma-separated --mlm-head values to sweep (masked, full)",
            DefaultValueFactory = _ => "masked,full",
        };
        sweepTokens.ParsesWith(text => ParseList(text, "--sweep-batch-tokens"));
        sweepSessions.ParsesWith(text => ParseList(text, "--sweep-sessions"));
        sweepThreads.ParsesWith(text => ParseThreads(text));
        sweepHead.ParsesWith(text => ParseHeads(text));
        var noSweep = new Option<bool>("--no-sweep") { Description = "Measure the given setting (sorted and unsorted) only" };
        var command = new Command("bench",
            "Benchmark the scoring pipeline end to end: examples/s, real tokens/s, share of wall time inside Run(), padding with and " +
            "without length sorting, and a sweep of --batch-tokens and --sessions that names the best setting.")
        {
            inputs, examples, sweepTokens, sweepSessions, sweepThreads, sweepHead, noSweep,
        };
        scoring.AddTo(command);
        CommandAction.Set(command, async (parse, cancellationToken) =>
        {
            var settings = scoring.Resolve(parse, dataset: null);
            using var scratch = new TemporaryFolder();
            IReadOnlyList<ShardInput> shards;
            string description;
            var given = parse.GetValue(inputs) ?? [];
            if (given.Length > 0)
            {
                shards = InputResolver.Resolve(given);
                description = $"{shards.Count} shard(s) from {string.Join(", ", given)}";
            }
            else
            {
                var count = parse.GetValue(examples);
                var path = Path.Combine(scratch.Path, "synthetic.jsonl");
                SyntheticDialogues.Write(path, count);
                shards = [ShardInput.FromFile(path)];
                description = $"{count:N0} generated OIG-style dialogues";
            }
            var display = new RunDisplay();
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"riverbed bench: {description}{(settings.Limit is { } l ? $" (first {l:N0} records per shard)" : string.Empty)}; models {settings.ModelsFolder} " +
                $"on {settings.Device}, threads {ThreadsLabel(settings.Threads)}, mlm head {(settings.MaskedHead ? "masked" : "full")}; " +
                $"{Environment.ProcessorCount} CPU core(s)"));

            var bench = new Bench(settings, shards, scratch.Path);
            await bench.WarmUpAsync(cancellationToken).ConfigureAwait(false);
            var sorted = await bench.MeasureAsync(settings.Sessions, settings.BatchTokens, sort: true, cancellationToken).ConfigureAwait(false);
            Report(display, "sorted by length", sorted);
            var unsorted = await bench.MeasureAsync(settings.Sessions, settings.BatchTokens, sort: false, cancellationToken).ConfigureAwait(false);
            Report(display, "arrival order (no sort)", unsorted);
            display.Line("padding fraction, sorted vs arrival order (same run settings):");
            foreach (var role in sorted.Batching.Where(b => b.Batches > 0))
            {
                var other = unsorted.Batching.Single(b => b.Role == role.Role);
                display.Line(string.Create(CultureInfo.InvariantCulture,
                    $"  {role.Role}: {role.PaddingFraction:P1} vs {other.PaddingFraction:P1} (padded tokens {(double)role.PaddedTokens / Math.Max(1, other.PaddedTokens):0.00}x)"));
            }

            if (!parse.GetValue(noSweep))
            {
                // Thread settings × mlm head, alternated so drift on a shared machine hits every setting alike.
                var settingsRuns = new List<Measurement>();
                var heads = ParseHeads(parse.GetValue(sweepHead)!);
                var threadSettings = ParseThreads(parse.GetValue(sweepThreads)!);
                foreach (var threads in threadSettings)
                {
                    foreach (var masked in heads)
                    {
                        settingsRuns.Add(await bench.MeasureAsync(settings.Sessions, settings.BatchTokens, sort: true, cancellationToken,
                            threads, masked).ConfigureAwait(false));
                    }
                }
                var settingsTable = new Table().Border(display.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
                foreach (var column in SettingsColumns)
                {
                    settingsTable.AddColumn(new TableColumn(column).RightAligned());
                }
                var reference = settingsRuns[0];
                foreach (var m in settingsRuns)
                {
                    var nli = m.Batching.FirstOrDefault(b => b.Role == "nli");
                    settingsTable.AddRow(ThreadsLabel(m.Threads), m.MaskedHead ? "masked" : "full", F(m.ExamplesPerSecond, "0.0"),
                        F(m.MlmTokensPerRunSecond, "N0"), nli is { CacheLookups: > 0 } ? F(nli.CacheHitRate, "P1") : "-",
                        F(m.ExamplesPerSecond / reference.ExamplesPerSecond, "0.00") + "x");
                }
                display.Line("threads and mlm head (sorted, the given sessions and batch tokens):");
                display.Console.Write(settingsTable);

                var results = new List<Measurement>();
                foreach (var sessions in ParseList(parse.GetValue(sweepSessions)!, "--sweep-sessions"))
                {
                    foreach (var tokens in ParseList(parse.GetValue(sweepTokens)!, "--sweep-batch-tokens"))
                    {
                        results.Add(await bench.MeasureAsync(sessions, tokens, sort: true, cancellationToken).ConfigureAwait(false));
                    }
                }
                var table = new Table().Border(display.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
                foreach (var column in SweepColumns)
                {
                    table.AddColumn(new TableColumn(column).RightAligned());
                }
                foreach (var m in results)
                {
                    table.AddRow(N(m.Sessions), N(m.BatchTokens), F(m.ExamplesPerSecond, "0.0"), F(m.RealTokensPerSecond, "N0"), F(m.BusyShare, "P0"),
                        F(m.ExamplesPerSecond / sorted.ExamplesPerSecond, "0.00") + "x");
                }
                display.Line("sweep:");
                display.Console.Write(table);
                var best = results.MaxBy(m => m.ExamplesPerSecond)!;
                display.Line(string.Create(CultureInfo.InvariantCulture,
                    $"best: --sessions {best.Sessions} --batch-tokens {best.BatchTokens} ({best.ExamplesPerSecond:0.0} examples/s, {best.RealTokensPerSecond:N0} real tokens/s)"));
            }
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"peak RSS of this bench process: {PeakRss.Mebibytes:N0} MiB (over every run above; `riverbed score` prints its own)"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static string ThreadsLabel(int threads) => threads == ExecutionSettings.BudgetThreads
        ? "budget"
        : threads.ToString(CultureInfo.InvariantCulture) + " per session";

    private static List<int> ParseThreads(string text)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            values.Add(part switch
            {
                "budget" => ExecutionSettings.BudgetThreads,
                "per-core" => ScoreOptionSet.ThreadPerCoreCount,
                _ when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1 => count,
                _ => throw new RiverbedException($"--sweep-threads: '{part}' is not budget, per-core or a positive whole number"),
            });
        }
        return values.Count > 0 ? values : throw new RiverbedException("--sweep-threads lists no values");
    }

    private static List<bool> ParseHeads(string text)
    {
        var values = new List<bool>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            values.Add(part switch
            {
                "masked" => true,
                "full" => false,
                _ => throw new RiverbedException($"--sweep-mlm-head: '{part}' is not masked or full"),
            });
        }
        return values.Count > 0 ? values : throw new RiverbedException("--sweep-mlm-head lists no values");
    }

    private static void Report(RunDisplay display, string label, Measurement m)
    {
        display.Line(string.Create(CultureInfo.InvariantCulture,
            $"{label}: sessions {m.Sessions}, batch tokens {m.BatchTokens:N0}: {m.Examples:N0} examples in {m.Seconds:0.00} s = {m.ExamplesPerSecond:0.0} examples/s, " +
            $"{m.RealTokensPerSecond:N0} real tokens/s; some model running {m.BusyShare:P0} of wall time"));
        foreach (var role in m.Batching.Where(b => b.Batches > 0))
        {
            display.Line(string.Create(CultureInfo.InvariantCulture,
                $"  {role.Role}: {role.Batches:N0} batches of {role.Requests / (double)role.Batches:0.0} requests, fill {role.Fill:P0}, padding {role.PaddingFraction:P1}, " +
                $"inside Run() {role.RunSeconds / role.Sessions / m.Seconds:P1} of wall time per session") +
                (role.CacheLookups > 0 ? string.Create(CultureInfo.InvariantCulture, $", cache hits {role.CacheHitRate:P1}") : string.Empty));
        }
    }

    private static List<int> ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
            {
                throw new RiverbedException($"{option}: '{part}' is not a positive whole number");
            }
            values.Add(value);
        }
        return values.Count > 0 ? values : throw new RiverbedException($"{option} lists no values");
    }

    private static string N(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>One measured pipeline run.</summary>
    private sealed record Measurement(int Sessions, int BatchTokens, int Threads, bool MaskedHead, long Examples, double Seconds, double BusySeconds,
        IReadOnlyList<RoleBatchStatistics> Batching)
    {
        /// <summary>The MLM's real tokens per second of its sessions' time inside the runner: its speed, whatever waits on it.</summary>
        public double MlmTokensPerRunSecond => Batching.FirstOrDefault(b => b.Role == "mlm") is { RunSeconds: > 0 } mlm
            ? mlm.RealTokens / (mlm.RunSeconds / mlm.Sessions)
            : 0;

        public double ExamplesPerSecond => Examples / Seconds;

        public double RealTokensPerSecond => Batching.Sum(b => b.RealTokens) / Seconds;

        public double BusyShare => BusySeconds / Seconds;
    }

    /// <summary>Runs the pipeline over the same shards with different settings, each into a fresh folder.</summary>
    private sealed class Bench(ScoreSettings settings, IReadOnlyList<ShardInput> shards, string scratch)
    {
        private int _runs;

        public async Task WarmUpAsync(CancellationToken cancellationToken)
        {
            // First runs pay for thread pools, JIT and ONNX Runtime's allocations; measure after one short run.
            using var models = Open(settings.Sessions, settings.Threads, settings.MaskedHead);
            await RunAsync(models, settings.BatchTokens, sort: true, limit: 16, cancellationToken).ConfigureAwait(false);
        }

        public async Task<Measurement> MeasureAsync(int sessions, int batchTokens, bool sort, CancellationToken cancellationToken,
            int? threads = null, bool? maskedHead = null)
        {
            var threadSetting = threads ?? settings.Threads;
            var head = maskedHead ?? settings.MaskedHead;
            using var models = Open(sessions, threadSetting, head);
            var result = await RunAsync(models, batchTokens, sort, settings.Limit, cancellationToken).ConfigureAwait(false);
            var committed = result.Committed;
            return new Measurement(sessions, batchTokens, threadSetting, head, committed.RowsOut + committed.RowsFailed, result.Elapsed.TotalSeconds,
                result.ModelBusy.TotalSeconds, result.Batching);
        }

        private ModelSet Open(int sessions, int threads, bool maskedHead) => ScoreJob.Open(new ScoreSettings
        {
            ModelsFolder = settings.ModelsFolder,
            Device = settings.Device,
            Sessions = sessions,
            Threads = threads,
            MaskedHead = maskedHead,
        });

        private async Task<ScoreRunResult> RunAsync(ModelSet models, int batchTokens, bool sort, long? limit, CancellationToken cancellationToken)
        {
            var output = Path.Combine(scratch, $"run-{++_runs}");
            var options = new ScoreRunOptions
            {
                OutputFolder = output,
                ConfigHash = "bench",
                Format = settings.Format,
                Reader = settings.Reader,
                Scoring = settings.Scoring,
                Policy = settings.Policy,
                Batching = new BatchingOptions { BatchTokens = batchTokens, SortByLength = sort },
                Limit = limit,
                MaxExamplesInFlight = settings.MaxExamplesInFlight,
            };
            var result = await new ScoringPipeline(models, options).RunAsync(shards, cancellationToken).ConfigureAwait(false);
            if (result.Failed > 0)
            {
                throw new RiverbedException($"bench: a shard failed: {result.Shards.First(s => s.Status == ShardRunStatus.Failed).Message}");
            }
            Directory.Delete(output, recursive: true);
            return result;
        }
    }

    /// <summary>A temporary folder deleted with everything in it.</summary>
    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("riverbed-bench-").FullName;

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: it is under the system's temporary folder.
            }
        }
    }
}
