using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>A scored shard found in a scored output folder, by its manifest.</summary>
/// <param name="Name">The data file's path relative to the scored folder (e.g. "sub/part-1.parquet"): the filter's input name.</param>
public sealed record ScoredShard(string Name, string DataPath, ShardManifest Manifest);

/// <summary>Options of <c>riverbed filter</c>.</summary>
public sealed class FilterOptions
{
    public required string ScoredFolder { get; init; }

    public required string OutputFolder { get; init; }

    /// <summary>The scored run's configuration (from its run.json): schema, limits and the policy the thresholds adjust.</summary>
    public required RunConfiguration Source { get; init; }

    public required DecisionPolicy Policy { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    /// <summary>
    /// The filter's own configuration hash, recorded in its manifests: the scored run's hash, the policy and the format.
    /// A rerun with other thresholds is refused rather than mixed, as with score.
    /// </summary>
    public string ConfigHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"riverbed-filter/1\n{Source.Hash}\n{Policy}\n{(Format == OutputFormat.Parquet ? "parquet" : "jsonl")}\n")));

    public ShardWriterOptions WriterOptions() => new()
    {
        OutputFolder = OutputFolder,
        Format = Format,
        SplitByDecision = true,
        ExtraColumns = ScoredColumns.DecisionOnly,
        ConfigHash = ConfigHash,
        Decisions = Policy.ToString(),
        MaxRawBytes = Source.Reader.Limits.MaxRawBytesInReject,
        Attachments = [ScoreRunOptions.StatsAttachment],
    };

    /// <summary>
    /// The scored shards are read with the scored run's schema options, and with riverbed_id as the id field so each
    /// row keeps its original id.
    /// </summary>
    public ReaderOptions ReaderOptions() => ScoredShardFilter.ReaderOptions(Source);
}

/// <summary>
/// <c>riverbed filter</c>'s engine: re-decides scored shards from their saved score columns alone (no model runs) and
/// writes them split into kept/ and removed/{score}/ with new <c>riverbed_decision</c> and <c>riverbed_reasons</c>
/// columns, through the same commit protocol. Each shard's stats.json is the scored shard's with the decisions counted
/// again.
/// </summary>
public static class ScoredShardFilter
{
    /// <summary>The complete, unsplit scored shards of a scored folder, in name order; a problem with any is an error.</summary>
    public static IReadOnlyList<ScoredShard> Find(string scoredFolder, string configHash)
    {
        var root = Path.GetFullPath(scoredFolder);
        var shards = new List<ScoredShard>();
        foreach (var path in Directory.EnumerateFiles(root, "*.manifest.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.Split('/').Any(segment => segment.StartsWith('.')))
            {
                continue;
            }
            var manifest = ShardManifest.TryLoad(path) ?? throw new RiverbedException($"{path}: not a readable shard manifest");
            if (!string.Equals(manifest.ConfigHash, configHash, StringComparison.Ordinal))
            {
                throw new RiverbedException(
                    $"{path}: made with configuration {manifest.ConfigHash}, but the folder's run.json says {configHash}; the folder mixes runs");
            }
            if (manifest.Outputs.Count != 1 || manifest.Outputs[0].Route.Length != 0)
            {
                throw new RiverbedException(
                    $"{path}: the shard was scored with {SettingNames.Of(Setting.Split)}; filter reads unsplit scored shards (score without {SettingNames.Of(Setting.Split)}, then filter splits)");
            }
            var data = Path.Combine(root, manifest.Outputs[0].File.Path);
            foreach (var file in manifest.Files)
            {
                CheckFile(Path.Combine(root, file.Path), file);
            }
            shards.Add(new ScoredShard(manifest.Outputs[0].File.Path, data, manifest));
        }
        if (shards.Count == 0)
        {
            throw new RiverbedException($"{root} holds no committed scored shards (no *.manifest.json)");
        }
        return shards;
    }

    public static async Task<IReadOnlyList<ShardRunResult>> RunAsync(IReadOnlyList<ScoredShard> shards, FilterOptions options,
        Action<ShardRunResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(options);
        var writerOptions = options.WriterOptions();
        writerOptions.Validate();
        var readerOptions = options.ReaderOptions();
        readerOptions.Validate();
        var results = new List<ShardRunResult>();
        foreach (var shard in shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var input = ShardInput.FromFile(shard.DataPath, shard.Name, shard.DataPath);
            var state = ShardCompletion.Check(writerOptions.LayoutFor(input), input, writerOptions.ConfigHash);
            ShardRunResult result;
            if (state.Status == ShardStatus.Complete)
            {
                result = new ShardRunResult(input, ShardRunStatus.Skipped, "already complete", state.Manifest,
                    ScoringPipeline.LoadStatistics(state.Manifest!, options.OutputFolder));
            }
            else if (state.Status == ShardStatus.ConfigMismatch)
            {
                var what = state.Manifest?.Decisions is { } earlier && earlier != options.Policy.ToString()
                    ? $"decided with {earlier}; this filter decides with {options.Policy}"
                    : state.Reason;
                throw new RiverbedException(
                    $"{options.OutputFolder} already holds shard {input.BaseName} filtered with other thresholds ({what}); " +
                    $"choose a new {SettingNames.Of(Setting.Output)} folder");
            }
            else
            {
                result = await FilterShardAsync(input, shard, options, readerOptions, writerOptions, cancellationToken).ConfigureAwait(false);
            }
            results.Add(result);
            progress?.Invoke(result);
        }
        return results;
    }

    private static async Task<ShardRunResult> FilterShardAsync(ShardInput input, ScoredShard shard, FilterOptions options,
        ReaderOptions readerOptions, ShardWriterOptions writerOptions, CancellationToken cancellationToken)
    {
        var statistics = ScoringPipeline.LoadStatistics(shard.Manifest, options.ScoredFolder) ?? new ScoreStatistics { Shards = 1 };
        long kept = 0;
        long removed = 0;
        var byReason = new SortedDictionary<string, long>(StringComparer.Ordinal);
        try
        {
            using var reader = ShardReader.Open(input, readerOptions, observeShapes: options.Format == OutputFormat.Parquet);
            using var writer = ShardWriter.Create(input, writerOptions);
            foreach (var record in reader.ReadRecords(cancellationToken))
            {
                if (record.Example is not { } example)
                {
                    writer.WriteReject(record.Reject!);
                    continue;
                }
                var decision = options.Policy.Decide(SavedScores(example, input));
                if (decision.Keep)
                {
                    kept++;
                }
                else
                {
                    removed++;
                    foreach (var reason in decision.Reasons)
                    {
                        byReason[reason] = byReason.GetValueOrDefault(reason) + 1;
                    }
                }
                writer.WriteRow(example,
                    [ColumnValue.From(decision.Keep ? ScoredColumns.KeepValue : ScoredColumns.RemoveValue), ColumnValue.Strings(decision.Reasons)],
                    ScoredColumns.Route(decision));
            }
            statistics.ReplaceDecisions(kept, removed, byReason, shard.Manifest.Shard);
            writer.Attach(ScoreRunOptions.StatsAttachment, statistics.ToJson());
            var manifest = await writer.CommitAsync(reader.Statistics, reader.Schema, cancellationToken).ConfigureAwait(false);
            return new ShardRunResult(input, ShardRunStatus.Committed, "written", manifest, statistics);
        }
        catch (Exception error) when (error is ShardReadException or ShardWriteException or OutputPathException or IO.DuckDb.DuckDbException)
        {
            return new ShardRunResult(input, ShardRunStatus.Failed, error.Message, null, null);
        }
    }

    /// <summary>
    /// How scored shards are read back: with the scored run's schema options, and riverbed_id as the id field so each
    /// row keeps its original id.
    /// </summary>
    public static ReaderOptions ReaderOptions(RunConfiguration source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ReaderOptions
        {
            Schema = new SchemaOptions
            {
                Schema = source.Reader.Schema.Schema,
                PromptField = source.Reader.Schema.PromptField,
                ResponseField = source.Reader.Schema.ResponseField,
                SystemField = source.Reader.Schema.SystemField,
                IdField = "riverbed_id",
                BotLabels = source.Reader.Schema.BotLabels,
            },
            Limits = source.Reader.Limits,
        };
    }

    /// <summary>The four score columns of a scored row (null when absent or null).</summary>
    public static Dictionary<string, double?> SavedScores(Example example, ShardInput input)
    {
        using var document = JsonDocument.Parse(example.Record, ReaderLimits.ValidatedRecord);
        var root = document.RootElement;
        var scores = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var name in ScoreNames.All)
        {
            var column = ScoredColumns.ScoreColumn(name);
            if (!root.TryGetProperty(column, out var value))
            {
                throw new ShardReadException($"{input.DisplayPath} row {example.Row}: no {column} column; is this a scored shard?");
            }
            scores[name] = value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Number => value.GetDouble(),
                JsonValueKind.String when value.GetString() == "NaN" => double.NaN,
                _ => throw new ShardReadException($"{input.DisplayPath} row {example.Row}: {column} holds {value.ValueKind}, not a number"),
            };
        }
        return scores;
    }

    private static void CheckFile(string path, ManifestFile file)
    {
        if (!File.Exists(path))
        {
            throw new RiverbedException($"{path} is listed in its shard's manifest but missing; rerun riverbed score to complete that shard");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        if (stream.Length != file.Bytes || !string.Equals(Convert.ToHexStringLower(SHA256.HashData(stream)), file.Sha256, StringComparison.Ordinal))
        {
            throw new RiverbedException($"{path} does not match its shard's manifest (size or SHA-256); rerun riverbed score to redo that shard");
        }
    }
}
