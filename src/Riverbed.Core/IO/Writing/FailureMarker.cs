using System.Text.Json;
using System.Text.Json.Serialization;

namespace Riverbed.IO;

/// <summary>
/// The record a failed attempt leaves for its shard, <c>{output}/.riverbed/failed/{shard}.json</c>: who tried (rank,
/// host, pid), when, and why it failed. An attempt that fails writes it; an attempt that commits removes it. A valid
/// manifest always wins (a marker left beside one is from an earlier attempt), so a crash between commit and removal
/// cannot make a complete shard look failed. A process killed outright leaves no marker: its shard reads as pending.
/// The record is its file's one type (format <c>riverbed-failure/1</c>), serialized by <see cref="FailureMarkerJson"/>.
/// </summary>
public sealed record FailureMarker(
    [property: JsonRequired] string Shard,
    [property: JsonRequired] string Reason,
    [property: JsonRequired] int Rank,
    [property: JsonRequired] int WorldSize,
    [property: JsonRequired] string Host,
    [property: JsonRequired, JsonPropertyName("pid")] int ProcessId,
    [property: JsonRequired] DateTime FailedUtc)
{
    public const string FormatName = "riverbed-failure/1";

    /// <summary>The file's format, written first.</summary>
    [JsonPropertyOrder(-1)]
    public string Format => FormatName;

    public static string PathFor(string outputFolder, string shardBaseName) =>
        ControlArea.PathOf(outputFolder, "failed/" + ShardLayout.CheckRelativeName(shardBaseName) + ".json");

    /// <summary>Records that this process's attempt at <paramref name="shardBaseName"/> failed.</summary>
    public static FailureMarker Write(string outputFolder, string shardBaseName, string reason, WriterIdentity writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var marker = new FailureMarker(shardBaseName, reason, writer.Rank, writer.WorldSize, System.Environment.MachineName,
            System.Environment.ProcessId, DateTime.UtcNow);
        AtomicFile.Replace(PathFor(outputFolder, shardBaseName), marker.ToJson());
        return marker;
    }

    /// <summary>Removes the shard's marker, if any (after its commit).</summary>
    public static void Clear(string outputFolder, string shardBaseName)
    {
        var path = PathFor(outputFolder, shardBaseName);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>The shard's marker; null when there is none. A marker that cannot be read still says "failed".</summary>
    public static FailureMarker? TryRead(string outputFolder, string shardBaseName)
    {
        var path = PathFor(outputFolder, shardBaseName);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, FailureMarkerJson.Persisted.FailureMarker) ?? throw new JsonException("the marker is null");
        }
        catch (JsonException)
        {
            return new FailureMarker(shardBaseName, $"a failure marker that cannot be read ({path})", -1, 0, string.Empty, 0, File.GetLastWriteTimeUtc(path));
        }
    }

    public byte[] ToJson() => PersistedJson.ToFile(this, FailureMarkerJson.Persisted.FailureMarker);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(FailureMarker))]
internal sealed partial class FailureMarkerJson : JsonSerializerContext
{
    public static FailureMarkerJson Persisted { get; } = new(PersistedJson.Options());
}
