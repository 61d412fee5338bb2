using System.CommandLine;
using System.Globalization;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Pipeline.Models;
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
        sweepTokens.ParsesWith(text => ParseList(text, "--sweep-batch-tokens"));
        sweepSessions.ParsesWith(text => ParseList(text, "--sweep-sessions"));
        var noSweep = new Option<bool>("--no-sweep") { Description = "Measure the given setting (sorted and unsorted) only" };
        var command = new Command("bench",
            "Benchmark the scoring pipeline end to end: examples/s, real tokens/s, share of wall time inside Run(), padding with and " +
            "without length sorting, and a sweep of --batch-tokens and --sessions that names the best setting.")
        {
            inputs, examples, sweepTokens, sweepSessions, noSweep,
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
                $"on {settings.Device}, {settings.Threads} intra-op thread(s) per session; {Environment.ProcessorCount} CPU core(s)"));

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
            return ExitCodes.Success;
        });
        return command;
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
                $"inside Run() {role.RunSeconds / role.Sessions / m.Seconds:P1} of wall time per session"));
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
    private sealed record Measurement(int Sessions, int BatchTokens, long Examples, double Seconds, double BusySeconds,
        IReadOnlyList<RoleBatchStatistics> Batching)
    {
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
            using var models = Open(settings.Sessions);
            await RunAsync(models, settings.BatchTokens, sort: true, limit: 16, cancellationToken).ConfigureAwait(false);
        }

        public async Task<Measurement> MeasureAsync(int sessions, int batchTokens, bool sort, CancellationToken cancellationToken)
        {
            using var models = Open(sessions);
            var result = await RunAsync(models, batchTokens, sort, settings.Limit, cancellationToken).ConfigureAwait(false);
            var committed = result.Committed;
            return new Measurement(sessions, batchTokens, committed.RowsOut + committed.RowsFailed, result.Elapsed.TotalSeconds,
                result.ModelBusy.TotalSeconds, result.Batching);
        }

        private ModelSet Open(int sessions) => ScoreJob.Open(new ScoreSettings
        {
            ModelsFolder = settings.ModelsFolder,
            Device = settings.Device,
            Sessions = sessions,
            Threads = settings.Threads,
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
