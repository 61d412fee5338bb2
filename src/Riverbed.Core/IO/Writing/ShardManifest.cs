using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.IO.Writing;

namespace Riverbed.IO;

/// <summary>One file a shard committed: its path relative to the output folder, rows, size and SHA-256.</summary>
public sealed record ManifestFile(string Path, long Rows, long Bytes, string Sha256);

/// <summary>
/// The record of a committed shard, written last and atomically. A shard is complete only when its manifest exists
/// and every file it lists has the listed size and SHA-256; the input's size and modification time and the run's
/// configuration hash say what the outputs were made from. Counts reconcile: rows_in = rows_out + rows_rejected + rows_failed.
/// </summary>
public sealed class ShardManifest
{
    public const int CurrentVersion = 1;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("riverbed_manifest", Version);
            writer.WriteString("shard", Shard);
            writer.WriteStartObject("input");
            writer.WriteString("path", InputPath);
            if (InputResolvedPath is not null)
            {
                writer.WriteString("resolved_path", InputResolvedPath);
            }
            writer.WriteNumber("bytes", InputBytes);
            writer.WriteString("last_write_utc", InputLastWriteUtc.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteString("config_hash", ConfigHash);
            if (Decisions is not null)
            {
                writer.WriteString("decisions", Decisions);
            }
            writer.WriteString("format", Format);
            if (Schema is null)
            {
                writer.WriteNull("schema");
            }
            else
            {
                writer.WriteStartObject("schema");
                writer.WriteString("name", Schema.Schema);
                writer.WriteString("reason", Schema.Reason);
                writer.WriteBoolean("forced", Schema.Forced);
                writer.WriteEndObject();
            }
            writer.WriteNumber("rows_in", RowsIn);
            writer.WriteNumber("rows_out", RowsOut);
            writer.WriteNumber("rows_rejected", RowsRejected);
            writer.WriteNumber("rows_failed", RowsFailed);
            writer.WriteNumber("blank_lines", BlankLines);
            writer.WriteStartObject("rejects_by_kind");
            foreach (var (kind, count) in RejectsByKind.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                writer.WriteNumber(kind, count);
            }
            writer.WriteEndObject();
            writer.WriteStartArray("outputs");
            foreach (var (route, file) in Outputs)
            {
                writer.WriteStartObject();
                writer.WriteString("route", route);
                WriteFileFields(writer, file);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            WriteFile(writer, "rejects", Rejects);
            WriteFile(writer, "failures", Failures);
            writer.WriteStartArray("attachments");
            foreach (var file in Attachments)
            {
                writer.WriteStartObject();
                WriteFileFields(writer, file);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("committed_utc", CommittedUtc.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads a manifest; null when the file is missing, unreadable or not a manifest Riverbed understands.</summary>
    public static ShardManifest? TryLoad(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("riverbed_manifest").GetInt32() != CurrentVersion)
            {
                return null;
            }
            var input = root.GetProperty("input");
            var schema = root.GetProperty("schema");
            return new ShardManifest
            {
                Shard = root.GetProperty("shard").GetString()!,
                InputPath = input.GetProperty("path").GetString()!,
                InputResolvedPath = input.TryGetProperty("resolved_path", out var resolved) ? resolved.GetString() : null,
                InputBytes = input.GetProperty("bytes").GetInt64(),
                InputLastWriteUtc = DateTime.Parse(input.GetProperty("last_write_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                ConfigHash = root.GetProperty("config_hash").GetString()!,
                Decisions = root.TryGetProperty("decisions", out var decisions) && decisions.ValueKind == JsonValueKind.String ? decisions.GetString() : null,
                Format = root.GetProperty("format").GetString()!,
                Schema = schema.ValueKind == JsonValueKind.Null
                    ? null
                    : new SchemaDetection(schema.GetProperty("name").GetString()!, schema.GetProperty("reason").GetString()!, schema.GetProperty("forced").GetBoolean()),
                RowsIn = root.GetProperty("rows_in").GetInt64(),
                RowsOut = root.GetProperty("rows_out").GetInt64(),
                RowsRejected = root.GetProperty("rows_rejected").GetInt64(),
                RowsFailed = root.GetProperty("rows_failed").GetInt64(),
                BlankLines = root.GetProperty("blank_lines").GetInt64(),
                RejectsByKind = root.GetProperty("rejects_by_kind").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal),
                Outputs = root.GetProperty("outputs").EnumerateArray()
                    .Select(output => (output.GetProperty("route").GetString()!, ReadFile(output)!))
                    .ToList(),
                Rejects = ReadFile(root.GetProperty("rejects")),
                Failures = ReadFile(root.GetProperty("failures")),
                // Manifests written before attachments existed have none.
                Attachments = root.TryGetProperty("attachments", out var attachments)
                    ? attachments.EnumerateArray().Select(file => ReadFile(file)!).ToList()
                    : [],
                CommittedUtc = DateTime.Parse(root.GetProperty("committed_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            };
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException
            or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static void WriteFile(Utf8JsonWriter writer, string name, ManifestFile? file)
    {
        if (file is null)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartObject(name);
        WriteFileFields(writer, file);
        writer.WriteEndObject();
    }

    private static void WriteFileFields(Utf8JsonWriter writer, ManifestFile file)
    {
        writer.WriteString("path", file.Path);
        writer.WriteNumber("rows", file.Rows);
        writer.WriteNumber("bytes", file.Bytes);
        writer.WriteString("sha256", file.Sha256);
    }

    private static ManifestFile? ReadFile(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null
            ? null
            : new ManifestFile(element.GetProperty("path").GetString()!, element.GetProperty("rows").GetInt64(),
                element.GetProperty("bytes").GetInt64(), element.GetProperty("sha256").GetString()!);
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
