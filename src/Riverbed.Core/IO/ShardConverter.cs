using System.Security.Cryptography;
using System.Text;

namespace Riverbed.IO;

/// <summary>What to do with a record that cannot be read.</summary>
public enum BadRecordPolicy
{
    /// <summary>Write it to the shard's rejects file and go on (within the reject budget).</summary>
    Quarantine,

    /// <summary>Stop the whole run at the first one, naming file:line.</summary>
    Fail,
}

/// <summary>Options for normalizing shards without models (<c>riverbed convert</c>).</summary>
public sealed class ConvertOptions
{
    public required string OutputFolder { get; init; }

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    public ReaderOptions Reader { get; init; } = new();

    public BadRecordPolicy OnBadRecord { get; init; } = BadRecordPolicy.Quarantine;

    public RejectBudget MaxRejects { get; init; } = RejectBudget.Unlimited;

    /// <summary>
    /// A hash of every option that changes what convert writes, so a rerun with other options is not mistaken for the
    /// same job (the budget and the bad-record policy only decide whether a shard commits, not its contents).
    /// </summary>
    public string ConfigHash()
    {
        var schema = Reader.Schema;
        var limits = Reader.Limits;
        var text = string.Join('\n',
            "riverbed-convert/1",
            $"format={Format}",
            $"schema={schema.Schema}",
            $"prompt={schema.PromptField}",
            $"response={schema.ResponseField}",
            $"system={schema.SystemField}",
            $"id={schema.IdField}",
            // oasst-branches only when not the default, so the hashes of conversions made before the option existed still match.
            $"bot-labels={string.Join(',', schema.BotLabels)}" + (schema.OasstBranches == SchemaOptions.OasstBest ? string.Empty : $"\noasst-branches={schema.OasstBranches}"),
            $"max-line-bytes={limits.MaxLineBytes}",
            $"max-depth={limits.MaxDepth}",
            $"max-decompressed-bytes={limits.MaxDecompressedBytes}",
            $"raw-cap={limits.MaxRawBytesInReject}",
            $"columns={string.Join(',', ShardWriterOptions.StandardColumns.Select(column => column.Name + ":" + column.Type))}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    public ShardWriterOptions WriterOptions() => new()
    {
        OutputFolder = OutputFolder,
        Format = Format,
        ConfigHash = ConfigHash(),
        MaxRawBytes = Reader.Limits.MaxRawBytesInReject,
    };
}

public enum ShardOutcomeKind
{
    Committed,
    Skipped,
    Failed,
}

/// <summary>What happened to one shard.</summary>
public sealed record ShardOutcome(ShardInput Input, ShardOutcomeKind Kind, string Message, ShardManifest? Manifest, string? Layout, IReadOnlyList<Reject> FirstRejects);

/// <summary>A bad record under <see cref="BadRecordPolicy.Fail"/>: the run stops here.</summary>
public sealed class BadRecordException : RiverbedException
{
    public BadRecordException()
    {
    }

    public BadRecordException(string message)
        : base(message)
    {
    }

    public BadRecordException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Normalizes shards into output shards with the commit protocol: complete shards are skipped, the rest are (re)done.
/// A shard that cannot be read or written, or goes over its reject budget, fails on its own; the others go on.
/// </summary>
public static class ShardConverter
{
    private const int RejectsToReport = 5;

    /// <summary>Ends the message of a shard over its reject budget.</summary>
    private const string OverBudget = "; the shard is over the budget and was not written";

    public static async Task<IReadOnlyList<ShardOutcome>> RunAsync(IReadOnlyList<ShardInput> inputs, ConvertOptions options,
        Action<ShardOutcome>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Reader.Validate();
        InputResolver.CheckDistinctOutputNames(inputs);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.OutputFolder)) + Path.DirectorySeparatorChar;
        if (inputs.FirstOrDefault(input => input.Path.StartsWith(root, StringComparison.Ordinal)) is { } inside)
        {
            // A rerun would read the previous run's outputs as new inputs.
            throw new InputException($"input {inside.DisplayPath} lies inside the output folder {root}; choose an output folder outside the inputs");
        }
        var writerOptions = options.WriterOptions();
        writerOptions.Validate();
        var outcomes = new List<ShardOutcome>();
        foreach (var input in inputs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = await ConvertShardAsync(input, options, writerOptions, cancellationToken).ConfigureAwait(false);
            outcomes.Add(outcome);
            progress?.Invoke(outcome);
        }
        return outcomes;
    }

    private static async Task<ShardOutcome> ConvertShardAsync(ShardInput input, ConvertOptions options, ShardWriterOptions writerOptions, CancellationToken cancellationToken)
    {
        var firstRejects = new List<Reject>();
        string? layout = null;
        try
        {
            var state = ShardCompletion.Check(writerOptions.LayoutFor(input), input, writerOptions.ConfigHash);
            switch (state.Status)
            {
                case ShardStatus.Complete:
                    return new ShardOutcome(input, ShardOutcomeKind.Skipped, "already complete", state.Manifest, null, firstRejects);
                case ShardStatus.ConfigMismatch:
                    return new ShardOutcome(input, ShardOutcomeKind.Failed,
                        $"its output exists but {state.Reason}; use a new output folder or delete that shard's files", state.Manifest, null, firstRejects);
            }
            using var reader = ShardReader.Open(input, options.Reader, observeShapes: options.Format == OutputFormat.Parquet);
            layout = reader.Layout;
            using var writer = ShardWriter.Create(input, writerOptions);
            foreach (var record in reader.ReadRecords(cancellationToken))
            {
                if (record.Example is { } example)
                {
                    writer.WriteRow(example);
                    continue;
                }
                var reject = record.Reject!;
                if (options.OnBadRecord == BadRecordPolicy.Fail)
                {
                    throw new BadRecordException($"{reject.Location}: {RejectKinds.Name(reject.Kind)}: {reject.Message} ({SettingNames.Of(Setting.OnBadRecord)} fail)");
                }
                writer.WriteReject(reject);
                if (firstRejects.Count < RejectsToReport)
                {
                    firstRejects.Add(reject);
                }
                if (options.MaxRejects.MaxCount is not null && options.MaxRejects.Exceeded(writer.RowsRejected, reader.Statistics.Records) is { } early)
                {
                    return new ShardOutcome(input, ShardOutcomeKind.Failed, early + OverBudget, null, layout, firstRejects);
                }
            }
            if (options.MaxRejects.Exceeded(writer.RowsRejected, reader.Statistics.Records) is { } over)
            {
                return new ShardOutcome(input, ShardOutcomeKind.Failed, over + OverBudget, null, layout, firstRejects);
            }
            var manifest = await writer.CommitAsync(reader.Statistics, reader.Schema, cancellationToken).ConfigureAwait(false);
            var message = state.Status == ShardStatus.Incomplete ? $"redone ({state.Reason})" : "written";
            return new ShardOutcome(input, ShardOutcomeKind.Committed, message, manifest, layout, firstRejects);
        }
        catch (Exception error) when (error is ShardReadException or ShardWriteException or OutputPathException or IO.DuckDb.DuckDbException)
        {
            return new ShardOutcome(input, ShardOutcomeKind.Failed, error.Message, null, layout, firstRejects);
        }
    }
}
