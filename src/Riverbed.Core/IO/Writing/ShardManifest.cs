using System.Text.Json;
using System.Text.Json.Serialization;
using Riverbed.IO.Writing;

namespace Riverbed.IO;

/// <summary>One file a shard committed: its path relative to the output folder, rows, size and SHA-256.</summary>
public sealed record ManifestFile(
    [property: JsonRequired] string Path,
    [property: JsonRequired] long Rows,
    [property: JsonRequired] long Bytes,
    [property: JsonRequired] string Sha256);

/// <summary>
/// The record of a committed shard, written last and atomically. A shard is complete only when its manifest exists
/// and every file it lists has the listed size and SHA-256; the input's size and modification time and the run's
/// configuration hash say what the outputs were made from. Counts reconcile: rows_in = rows_out + rows_rejected + rows_failed.
/// Its file is written and read only here, through <see cref="ManifestDocument"/> and <see cref="ManifestJson"/>.
/// </summary>
public sealed class ShardManifest
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>The shard's base name (relative to the output folder).</summary>
    public required string Shard { get; init; }

    public required string InputPath { get; init; }

    /// <summary>The file the input's data was read from (links followed); null in manifests written before it was kept.</summary>
    public string? InputResolvedPath { get; init; }

    public required long InputBytes { get; init; }

    public required DateTime InputLastWriteUtc { get; init; }

    public required string ConfigHash { get; init; }

    /// <summary>
    /// The decision rule the shard's rows were decided with (opaque text from the caller, e.g. "any(fill_compare_min&lt;0)"),
    /// or null when the writer decides nothing. Not part of the configuration hash: a rerun with another rule redoes the
    /// shard instead of refusing it.
    /// </summary>
    public string? Decisions { get; init; }

    public required string Format { get; init; }

    public SchemaDetection? Schema { get; init; }

    public required long RowsIn { get; init; }

    public required long RowsOut { get; init; }

    public required long RowsRejected { get; init; }

    public required long RowsFailed { get; init; }

    public long BlankLines { get; init; }

    public IReadOnlyDictionary<string, long> RejectsByKind { get; init; } = new Dictionary<string, long>();

    /// <summary>Output shards: one, or kept/ plus one per removal reason; routes are "", "kept", "removed/{reason}".</summary>
    public required IReadOnlyList<(string Route, ManifestFile File)> Outputs { get; init; }

    public ManifestFile? Rejects { get; init; }

    public ManifestFile? Failures { get; init; }

    /// <summary>Documents committed with the shard (<see cref="ShardWriterOptions.Attachments"/>), e.g. {base}.stats.json.</summary>
    public IReadOnlyList<ManifestFile> Attachments { get; init; } = [];

    public DateTime CommittedUtc { get; init; }

    /// <summary>Every file the manifest vouches for.</summary>
    public IEnumerable<ManifestFile> Files =>
        Outputs.Select(output => output.File).Concat(new[] { Rejects, Failures }.OfType<ManifestFile>()).Concat(Attachments);

    /// <summary>False when the input's links now lead to a different file than the one this manifest was made from.</summary>
    public bool InputIsSameFile(ShardInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return InputResolvedPath is null || string.Equals(InputResolvedPath, input.ResolvedPath, StringComparison.Ordinal);
    }

    public byte[] ToJson() => PersistedJson.ToFile(new ManifestDocument
    {
        RiverbedManifest = Version,
        Shard = Shard,
        Input = new ManifestInput { Path = InputPath, ResolvedPath = InputResolvedPath, Bytes = InputBytes, LastWriteUtc = InputLastWriteUtc },
        ConfigHash = ConfigHash,
        Decisions = Decisions,
        Format = Format,
        Schema = Schema is null ? null : new ManifestSchema(Schema.Schema, Schema.Reason, Schema.Forced),
        RowsIn = RowsIn,
        RowsOut = RowsOut,
        RowsRejected = RowsRejected,
        RowsFailed = RowsFailed,
        BlankLines = BlankLines,
        RejectsByKind = new SortedDictionary<string, long>(RejectsByKind.ToDictionary(), StringComparer.Ordinal),
        Outputs = [.. Outputs.Select(output => new ManifestOutput(output.Route, output.File.Path, output.File.Rows, output.File.Bytes, output.File.Sha256))],
        Rejects = Rejects,
        Failures = Failures,
        Attachments = Attachments,
        CommittedUtc = CommittedUtc,
    }, ManifestJson.Persisted.ManifestDocument);

    /// <summary>Reads a manifest; null when the file is missing, unreadable or not a manifest Riverbed understands.</summary>
    public static ShardManifest? TryLoad(string path)
    {
        ManifestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(File.ReadAllBytes(path), ManifestJson.Persisted.ManifestDocument);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
        if (document is null || document.RiverbedManifest != CurrentVersion)
        {
            return null;
        }
        return new ShardManifest
        {
            Shard = document.Shard,
            InputPath = document.Input.Path,
            InputResolvedPath = document.Input.ResolvedPath,
            InputBytes = document.Input.Bytes,
            InputLastWriteUtc = document.Input.LastWriteUtc,
            ConfigHash = document.ConfigHash,
            Decisions = document.Decisions,
            Format = document.Format,
            Schema = document.Schema is { } schema ? new SchemaDetection(schema.Name, schema.Reason, schema.Forced) : null,
            RowsIn = document.RowsIn,
            RowsOut = document.RowsOut,
            RowsRejected = document.RowsRejected,
            RowsFailed = document.RowsFailed,
            BlankLines = document.BlankLines,
            RejectsByKind = document.RejectsByKind.ToDictionary(StringComparer.Ordinal),
            Outputs = [.. document.Outputs.Select(output => (output.Route, new ManifestFile(output.Path, output.Rows, output.Bytes, output.Sha256)))],
            Rejects = document.Rejects,
            Failures = document.Failures,
            // Manifests written before attachments existed have none.
            Attachments = document.Attachments ?? [],
            CommittedUtc = document.CommittedUtc,
        };
    }
}

/// <summary>A shard's manifest as its file holds it (properties in file order); <see cref="ShardManifest"/> is made from and into it.</summary>
internal sealed record ManifestDocument
{
    [JsonRequired] public int RiverbedManifest { get; init; }
    [JsonRequired] public required string Shard { get; init; }
    [JsonRequired] public required ManifestInput Input { get; init; }
    [JsonRequired] public required string ConfigHash { get; init; }

    /// <summary>Absent when the writer decided nothing.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Decisions { get; init; }

    [JsonRequired] public required string Format { get; init; }
    [JsonRequired] public ManifestSchema? Schema { get; init; }
    [JsonRequired] public long RowsIn { get; init; }
    [JsonRequired] public long RowsOut { get; init; }
    [JsonRequired] public long RowsRejected { get; init; }
    [JsonRequired] public long RowsFailed { get; init; }
    [JsonRequired] public long BlankLines { get; init; }
    [JsonRequired] public required IReadOnlyDictionary<string, long> RejectsByKind { get; init; }
    [JsonRequired] public required IReadOnlyList<ManifestOutput> Outputs { get; init; }
    [JsonRequired] public ManifestFile? Rejects { get; init; }
    [JsonRequired] public ManifestFile? Failures { get; init; }

    /// <summary>Absent from manifests written before attachments existed.</summary>
    public IReadOnlyList<ManifestFile>? Attachments { get; init; }

    [JsonRequired] public DateTime CommittedUtc { get; init; }
}

internal sealed record ManifestInput
{
    [JsonRequired] public required string Path { get; init; }

    /// <summary>Absent from manifests written before it was kept.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ResolvedPath { get; init; }

    [JsonRequired] public long Bytes { get; init; }
    [JsonRequired] public DateTime LastWriteUtc { get; init; }
}

internal sealed record ManifestSchema([property: JsonRequired] string Name, [property: JsonRequired] string Reason, [property: JsonRequired] bool Forced);

internal sealed record ManifestOutput(
    [property: JsonRequired] string Route,
    [property: JsonRequired] string Path,
    [property: JsonRequired] long Rows,
    [property: JsonRequired] long Bytes,
    [property: JsonRequired] string Sha256);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ManifestDocument))]
internal sealed partial class ManifestJson : JsonSerializerContext
{
    public static ManifestJson Persisted { get; } = new(PersistedJson.Options());
}

/// <summary>Whether a shard's committed outputs can be trusted as they are.</summary>
public enum ShardStatus
{
    /// <summary>Manifest present and every file matches it, for this input and configuration: skip the shard.</summary>
    Complete,

    /// <summary>No manifest: never committed (maybe partly written); redo it.</summary>
    Missing,

    /// <summary>A manifest that does not match its files, or was made from a different version of the input: redo it.</summary>
    Incomplete,

    /// <summary>Complete, but made with a different configuration: mixing configurations in one output is refused.</summary>
    ConfigMismatch,
}

/// <summary>The state of one shard's outputs and why.</summary>
public sealed record ShardState(ShardStatus Status, string Reason, ShardManifest? Manifest);

/// <summary>Checks a shard's outputs against its manifest (sizes and SHA-256 of every file, input identity, config).</summary>
public static class ShardCompletion
{
    /// <param name="decisions">
    /// The decision rule this run applies (null: decisions are not compared). A shard complete under the same
    /// configuration but decided by another rule is reported <see cref="ShardStatus.Incomplete"/>, so it is redone
    /// with this run's rule rather than refused.
    /// </param>
    public static ShardState Check(ShardLayout layout, ShardInput input, string configHash, string? decisions = null)
    {
        var manifestPath = layout.ManifestPath;
        if (!File.Exists(manifestPath))
        {
            return new ShardState(ShardStatus.Missing, "no manifest", null);
        }
        var manifest = ShardManifest.TryLoad(manifestPath);
        if (manifest is null)
        {
            return new ShardState(ShardStatus.Incomplete, $"{layout.RelativeManifestPath} cannot be read as a manifest", null);
        }
        if (manifest.InputBytes != input.Size || manifest.InputLastWriteUtc != input.LastWriteUtc)
        {
            return new ShardState(ShardStatus.Incomplete, $"the input changed since it was converted ({input.DisplayPath})", manifest);
        }
        if (!manifest.InputIsSameFile(input))
        {
            return new ShardState(ShardStatus.Incomplete, $"the input now resolves to another file ({input.DisplayPath} -> {input.ResolvedPath})", manifest);
        }
        if (manifest.RowsIn != manifest.RowsOut + manifest.RowsRejected + manifest.RowsFailed)
        {
            return new ShardState(ShardStatus.Incomplete, "the manifest's counts do not reconcile", manifest);
        }
        // The shard's counts must agree with its files' own counts. Each file's count is the writer's, taken as it wrote
        // the bytes whose size and SHA-256 are checked below: a file that matches them holds exactly those rows, so its
        // lines are not counted again (status and every rerun would otherwise read each output twice).
        var outputRows = manifest.Outputs.Sum(output => output.File.Rows);
        if (outputRows != manifest.RowsOut || (manifest.Rejects?.Rows ?? 0) != manifest.RowsRejected || (manifest.Failures?.Rows ?? 0) != manifest.RowsFailed)
        {
            var files = FormattableString.Invariant($"its files hold {outputRows:N0}, {manifest.Rejects?.Rows ?? 0:N0} and {manifest.Failures?.Rows ?? 0:N0}");
            return new ShardState(ShardStatus.Incomplete, FormattableString.Invariant(
                $"the manifest's counts disagree with its outputs' ({manifest.RowsOut:N0} out, {manifest.RowsRejected:N0} rejected, {manifest.RowsFailed:N0} failed; {files})"), manifest);
        }
        foreach (var file in manifest.Files)
        {
            string full;
            try
            {
                full = layout.Full(file.Path);
            }
            catch (OutputPathException error)
            {
                return new ShardState(ShardStatus.Incomplete, error.Message, manifest);
            }
            if (!File.Exists(full))
            {
                return new ShardState(ShardStatus.Incomplete, $"{file.Path} is missing", manifest);
            }
            var (bytes, sha256) = DurableFiles.Measure(full);
            if (bytes != file.Bytes || !string.Equals(sha256, file.Sha256, StringComparison.Ordinal))
            {
                return new ShardState(ShardStatus.Incomplete, $"{file.Path} does not match its manifest (size or SHA-256 differ)", manifest);
            }
        }
        if (!string.Equals(manifest.ConfigHash, configHash, StringComparison.Ordinal))
        {
            return new ShardState(ShardStatus.ConfigMismatch,
                $"it was committed with configuration {manifest.ConfigHash}, this run's is {configHash}", manifest);
        }
        if (decisions is not null && !string.Equals(manifest.Decisions, decisions, StringComparison.Ordinal))
        {
            return new ShardState(ShardStatus.Incomplete,
                $"its rows were decided with {manifest.Decisions ?? "an unrecorded rule"}, this run decides with {decisions}", manifest);
        }
        return new ShardState(ShardStatus.Complete, "manifest matches its files", manifest);
    }
}
