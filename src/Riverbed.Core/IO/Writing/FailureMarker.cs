using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
namespace Riverbed.IO;

/// <summary>
/// The record a failed attempt leaves for its shard, <c>{output}/.riverbed/failed/{shard}.json</c>: who tried (rank,
/// host, pid), when, and why it failed. An attempt that fails writes it; an attempt that commits removes it. A valid
/// manifest always wins (a marker left beside one is from an earlier attempt), so a crash between commit and removal
/// cannot make a complete shard look failed. A process killed outright leaves no marker: its shard reads as pending.
/// </summary>
public sealed record FailureMarker(string Shard, string Reason, int Rank, int WorldSize, string Host, int ProcessId, DateTime FailedUtc)
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            return new FailureMarker(
                root.GetProperty("shard").GetString()!,
                root.GetProperty("reason").GetString()!,
                root.GetProperty("rank").GetInt32(),
                root.GetProperty("world_size").GetInt32(),
                root.GetProperty("host").GetString()!,
                root.GetProperty("pid").GetInt32(),
                DateTime.Parse(root.GetProperty("failed_utc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return new FailureMarker(shardBaseName, $"a failure marker that cannot be read ({path})", -1, 0, string.Empty, 0, File.GetLastWriteTimeUtc(path));
        }
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("format", "riverbed-failure/1");
            writer.WriteString("shard", Shard);
            writer.WriteString("reason", Reason);
            writer.WriteNumber("rank", Rank);
            writer.WriteNumber("world_size", WorldSize);
            writer.WriteString("host", Host);
            writer.WriteNumber("pid", ProcessId);
            writer.WriteString("failed_utc", FailedUtc.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
