using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Riverbed.Testing;

/// <summary>
/// A HuggingFace-Hub-shaped HTTP server on 127.0.0.1 for the pull tests (the real Hub cannot be reached from the
/// build machines). It answers <c>/{owner}/{name}/resolve/{revision}/{path}</c> like the Hub: <c>X-Repo-Commit</c> on
/// every file; small files with their git blob id as <c>ETag</c>; large (LFS) files with a 302 to a second listener (a
/// different origin, standing for the CDN) carrying <c>X-Linked-Etag</c> (sha256) and <c>X-Linked-Size</c>; byte
/// ranges; 401 for gated repositories without the token; 404 with <c>X-Error-Code</c>. Faults are switched on per
/// file: a transfer cut off after some bytes, a wrong announced sha256. Every request is recorded.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    public const string Token = "hf_riverbed_test_token";

    private readonly TcpListener _hub = new(IPAddress.Loopback, 0);
    private readonly TcpListener _cdn = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _revisions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Repo, string Commit, string Path), HubEntry> _files = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _gated = new(StringComparer.Ordinal);

    public FakeHub()
    {
        _hub.Start();
        _cdn.Start();
        _ = AcceptLoop(_hub, cdn: false);
        _ = AcceptLoop(_cdn, cdn: true);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_hub.LocalEndpoint).Port}";

    public string CdnOrigin => $"http://127.0.0.1:{((IPEndPoint)_cdn.LocalEndpoint).Port}";

    /// <summary>Every request, in arrival order.</summary>
    public ConcurrentQueue<HubRequest> Requests { get; } = new();

    /// <summary>Paths (in any repository) whose next body transfer stops after this many bytes; each fault fires once.</summary>
    public ConcurrentDictionary<string, long> CutAfter { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths whose next body transfer sends this many bytes and then nothing, keeping the connection open.</summary>
    public ConcurrentDictionary<string, long> StallAfter { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths whose announced sha256 is wrong.</summary>
    public ConcurrentDictionary<string, bool> WrongSha256 { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, range requests get the whole file (200), as some servers do.</summary>
    public bool IgnoreRanges { get; set; }

    /// <summary>Publishes files as a commit of <paramref name="repository"/> under <paramref name="revision"/>; returns the commit id.</summary>
    public string Publish(string repository, string revision, IReadOnlyDictionary<string, byte[]> files, IEnumerable<string>? lfs = null)
    {
        var lfsPaths = new HashSet<string>(lfs ?? files.Keys.Where(p => p.EndsWith(".onnx", StringComparison.Ordinal) || p.EndsWith(".safetensors", StringComparison.Ordinal)), StringComparer.Ordinal);
        var seed = Encoding.UTF8.GetBytes(repository + "@" + revision + "#" + string.Join(',', files.Keys.Order(StringComparer.Ordinal)));
#pragma warning disable CA5350 // a commit id is a SHA-1 shape; nothing here is security
        var commit = Convert.ToHexStringLower(SHA1.HashData(seed));
#pragma warning restore CA5350
        _revisions.GetOrAdd(repository, _ => new(StringComparer.Ordinal))[revision] = commit;
        foreach (var (path, content) in files)
        {
            var entry = new HubEntry(content, lfsPaths.Contains(path));
            _files[(repository, commit, path)] = entry;
            _blobs[entry.Sha256] = content;
        }
        return commit;
    }

    /// <summary>Makes <paramref name="repository"/> answer 401 unless the request carries <see cref="Token"/>.</summary>
    public void Gate(string repository) => _gated[repository] = true;

    public void Dispose()
    {
        _stop.Cancel();
        _hub.Stop();
        _cdn.Stop();
        _stop.Dispose();
    }

    private async Task AcceptLoop(TcpListener listener, bool cdn)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await Serve(client.GetStream(), cdn).ConfigureAwait(false);
                    }
                    catch (Exception error) when (error is IOException or SocketException or ObjectDisposedException)
                    {
                        // the client went away; nothing to answer
                    }
                }
            });
        }
    }

    private async Task Serve(NetworkStream stream, bool cdn)
    {
        var head = await ReadHead(stream).ConfigureAwait(false);
        if (head is null)
        {
            return;
        }
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        var method = parts[0];
        var target = parts[1];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1).Where(l => l.Contains(':', StringComparison.Ordinal)))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        headers.TryGetValue("Authorization", out var authorization);
        headers.TryGetValue("Range", out var range);
        Requests.Enqueue(new HubRequest(cdn ? "cdn" : "hub", method, target, authorization, range));
        var response = cdn ? ServeCdn(target) : ServeHub(target, authorization);
        await Write(stream, method, response, range).ConfigureAwait(false);
    }

    private Response ServeHub(string target, string? authorization)
    {
        var segments = target.Split('?')[0].Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length < 6 || segments[3] != "resolve")
        {
            return Response.Error(404, "EntryNotFound");
        }
        var repository = segments[1] + "/" + segments[2];
        var revision = segments[4];
        var path = string.Join('/', segments.Skip(5));
        if (_gated.ContainsKey(repository) && authorization != "Bearer " + Token)
        {
            return Response.Error(401, "GatedRepo");
        }
        if (!_revisions.TryGetValue(repository, out var revisions))
        {
            return Response.Error(404, "RepoNotFound");
        }
        var commit = revisions.TryGetValue(revision, out var resolved) ? resolved
            : revisions.Values.Contains(revision) ? revision : null;
        if (commit is null)
        {
            return Response.Error(404, "RevisionNotFound");
        }
        if (!_files.TryGetValue((repository, commit, path), out var entry))
        {
            return Response.Error(404, "EntryNotFound");
        }
        var headers = new List<(string, string)> { ("X-Repo-Commit", commit) };
        if (entry.Lfs)
        {
            var announced = WrongSha256.ContainsKey(path) ? new string('0', 64) : entry.Sha256;
            headers.Add(("X-Linked-Etag", $"\"{announced}\""));
            headers.Add(("X-Linked-Size", entry.Content.Length.ToString(CultureInfo.InvariantCulture)));
            headers.Add(("ETag", $"\"{entry.GitSha1}\""));
            headers.Add(("Location", $"{CdnOrigin}/blobs/{entry.Sha256}?path={Uri.EscapeDataString(path)}"));
            return new Response(302, headers, null, path);
        }
        headers.Add(("ETag", $"\"{(WrongSha256.ContainsKey(path) ? new string('0', 40) : entry.GitSha1)}\""));
        return new Response(200, headers, entry.Content, path);
    }

    private Response ServeCdn(string target)
    {
        var query = target.Split('?');
        var sha = query[0].Split('/').Last();
        var path = query.Length > 1 ? Uri.UnescapeDataString(query[1]["path=".Length..]) : sha;
        return _blobs.TryGetValue(sha, out var content) ? new Response(200, [], content, path) : Response.Error(404, "EntryNotFound");
    }

    private async Task Write(NetworkStream stream, string method, Response response, string? range)
    {
        var status = response.Status;
        var body = response.Body;
        long from = 0;
        var to = (body?.LongLength ?? 0) - 1;
        var headers = new List<(string, string)>(response.Headers);
        if (body is not null && range is not null && !IgnoreRanges && status == 200)
        {
            var spec = range["bytes=".Length..].Split('-');
            from = long.Parse(spec[0], CultureInfo.InvariantCulture);
            if (spec[1].Length > 0)
            {
                to = Math.Min(to, long.Parse(spec[1], CultureInfo.InvariantCulture));
            }
            if (from > to)
            {
                status = 416;
                headers.Add(("Content-Range", $"bytes */{body.LongLength}"));
                body = null;
            }
            else
            {
                status = 206;
                headers.Add(("Content-Range", $"bytes {from}-{to}/{body.LongLength}"));
            }
        }
        var length = body is null ? 0 : to - from + 1;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {Reason(status)}\r\n");
        foreach (var (name, value) in headers)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"Content-Length: {length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text.ToString())).ConfigureAwait(false);
        if (method == "HEAD" || body is null || length == 0)
        {
            await stream.FlushAsync().ConfigureAwait(false);
            return;
        }
        var send = length;
        if (response.Path is { } path && CutAfter.TryRemove(path, out var cut))
        {
            send = Math.Min(send, cut);
        }
        long stallAt = 0;
        var stall = response.Path is { } stalled && StallAfter.TryRemove(stalled, out stallAt);
        if (stall)
        {
            send = Math.Min(send, stallAt);
        }
        await stream.WriteAsync(body.AsMemory((int)from, (int)send)).ConfigureAwait(false);
        await stream.FlushAsync().ConfigureAwait(false);
        if (stall)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the server is shutting down
            }
        }
    }

    private static async Task<string?> ReadHead(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 65536)
        {
            if (await stream.ReadAsync(one).ConfigureAwait(false) == 0)
            {
                return null;
            }
            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
            {
                return Encoding.ASCII.GetString([.. buffer]);
            }
        }
        return null;
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Status",
    };

    private sealed record Response(int Status, IReadOnlyList<(string, string)> Headers, byte[]? Body, string? Path)
    {
        public static Response Error(int status, string code) => new(status, [("X-Error-Code", code)], null, null);
    }
}

/// <summary>A file as the fake Hub stores it, with the two ids the real Hub announces.</summary>
internal sealed record HubEntry(byte[] Content, bool Lfs)
{
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Content));

#pragma warning disable CA5350 // git names blobs with SHA-1
    public string GitSha1 { get; } = Convert.ToHexStringLower(SHA1.HashData(
        [.. Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {Content.Length}\0")), .. Content]));
#pragma warning restore CA5350
}

/// <summary>One request the fake Hub received.</summary>
internal sealed record HubRequest(string Server, string Method, string Target, string? Authorization, string? Range);
