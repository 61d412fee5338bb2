using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Riverbed.Inference.Hub;

/// <summary>
/// Downloads files of HuggingFace Hub repositories into a shared cache, the way the Hub serves them:
/// <c>{endpoint}/{repo}/resolve/{revision}/{path}</c>; <c>X-Repo-Commit</c> names the commit a revision resolved to;
/// large (LFS) files answer with a redirect to a CDN and carry their SHA-256 in <c>X-Linked-Etag</c> and their size in
/// <c>X-Linked-Size</c>, small files carry their git blob id in <c>ETag</c>. Every download lands in a partial file
/// first, resumes with <c>Range</c> after an interruption, is checked against the hash the Hub announced, and only then
/// is moved into place, so the cache never holds a half file under a final name.
/// </summary>
/// <remarks>
/// Cache layout, per repository (<c>owner--name</c>): <c>refs/{revision}</c> holds the commit the revision last
/// resolved to; <c>files/{commit}/{path}</c> the complete files with <c>meta/{commit}/{path}.json</c> beside them;
/// <c>partial/{commit}/{path}</c> interrupted transfers; <c>ranges/{commit}/{path}/{offset}-{length}</c> byte ranges
/// read on their own (safetensors headers and head tensors).
/// </remarks>
public sealed partial class HubClient : IDisposable
{
    private const int CopyBufferBytes = 1 << 20;
    private const int MaxRedirects = 10;

    private readonly HubOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    public HubClient(HubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (!Uri.TryCreate(options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) ||
            endpoint.Scheme is not ("http" or "https"))
        {
            throw new HubException($"the Hub endpoint '{options.Endpoint}' (HF_ENDPOINT) is not an http or https URL");
        }
        _endpoint = endpoint;
        // Redirects are followed by hand: the token must not travel to another host, and the LFS metadata sits on the
        // redirect response itself.
        var handler = options.Handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler, disposeHandler: options.Handler is null) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("riverbed", "1"));
    }

    /// <summary>Reported as transfers progress and as each file completes.</summary>
    public event Action<HubProgress>? Progress;

    public bool Offline => _options.Offline;

    /// <summary>The Hub's base URL, as files' sources record it.</summary>
    public string Endpoint => _endpoint.ToString().TrimEnd('/');

    public string CacheFolder => _options.CacheFolder;

    /// <summary>Fetches one file (or finds it in the cache) and returns where it lies, complete and verified.</summary>
    public async Task<HubFile> DownloadAsync(string repository, string revision, string path, CancellationToken cancellationToken = default)
    {
        var repo = RepositoryFolder(repository);
        CheckPath(path);
        CheckRevision(revision);
        if (_options.Offline)
        {
            var commit = CachedCommit(repo, repository, revision, path);
            return CachedFile(repo, repository, revision, commit, path)
                ?? throw NotCached(repository, revision, path);
        }

        var metadata = await HeadAsync(repository, revision, path, cancellationToken).ConfigureAwait(false);
        WriteRef(repo, revision, metadata.Commit);
        if (CachedFile(repo, repository, revision, metadata.Commit, path) is { } cached &&
            (metadata.Etag is null || ReadMeta(repo, metadata.Commit, path)?.Etag == metadata.Etag))
        {
            Progress?.Invoke(new HubProgress(repository, path, cached.Length, cached.Length, Finished: true, FromCache: true, "cache"));
            return cached;
        }

        var partial = Combine(repo, "partial", metadata.Commit, path);
        var final = Combine(repo, "files", metadata.Commit, path);
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        // A partial file from a transfer of different content (the etag changed) cannot be resumed.
        var partialMeta = partial + ".etag";
        if (File.Exists(partial) && (!File.Exists(partialMeta) || File.ReadAllText(partialMeta) != (metadata.Etag ?? string.Empty)))
        {
            File.Delete(partial);
        }
        File.WriteAllText(partialMeta, metadata.Etag ?? string.Empty);

        await TransferAsync(repository, path, metadata, partial, cancellationToken).ConfigureAwait(false);

        var length = new FileInfo(partial).Length;
        if (metadata.Size is { } size && length != size)
        {
            File.Delete(partial);
            throw new HubException(string.Create(CultureInfo.InvariantCulture,
                $"{repository} {path}: received {length} bytes but the Hub announced {size}; the download was discarded, run the pull again"));
        }
        var (sha256, verified) = Verify(repository, path, partial, metadata.Etag, length);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        WriteMeta(repo, metadata.Commit, path, new CacheMeta(metadata.Etag, sha256, length));
        File.Move(partial, final, overwrite: true);
        File.Delete(partialMeta);
        Progress?.Invoke(new HubProgress(repository, path, length, length, Finished: true, FromCache: false, verified));
        return new HubFile(repository, revision, metadata.Commit, path, final, length, sha256);
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="offset"/> of a file with one HTTP range request (or
    /// from the cache), and the file's total size and commit; for reading a few tensors of a large checkpoint.
    /// </summary>
    public async Task<(byte[] Bytes, long FileLength, string Commit)> ReadRangeAsync(string repository, string revision, string path,
        long offset, int length, CancellationToken cancellationToken = default)
    {
        var repo = RepositoryFolder(repository);
        CheckPath(path);
        CheckRevision(revision);
        if (offset < 0 || length < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "offset and length must not be negative");
        }
        string commit;
        long? fileLength;
        if (_options.Offline)
        {
            commit = CachedCommit(repo, repository, revision, path);
            fileLength = ReadCachedLength(repo, commit, path);
        }
        else
        {
            var metadata = await HeadAsync(repository, revision, path, cancellationToken).ConfigureAwait(false);
            commit = metadata.Commit;
            fileLength = metadata.Size;
            WriteRef(repo, revision, commit);
        }
        var rangeFile = Combine(repo, "ranges", commit, path, string.Create(CultureInfo.InvariantCulture, $"{offset}-{length}"));
        var lengthFile = Combine(repo, "ranges", commit, path, "length");
        if (File.Exists(rangeFile) && fileLength is not null)
        {
            var cached = await File.ReadAllBytesAsync(rangeFile, cancellationToken).ConfigureAwait(false);
            if (cached.Length == length)
            {
                return (cached, fileLength.Value, commit);
            }
        }
        if (_options.Offline || fileLength is null)
        {
            throw _options.Offline
                ? NotCached(repository, revision, string.Create(CultureInfo.InvariantCulture, $"{path} (bytes {offset}–{offset + length})"))
                : new HubException($"{repository} {path}: the Hub did not say the file's size, so a part of it cannot be read safely");
        }
        if (offset + length > fileLength)
        {
            throw new HubException(string.Create(CultureInfo.InvariantCulture,
                $"{repository} {path}: bytes {offset}–{offset + length} lie beyond the end of the file ({fileLength} bytes)"));
        }

        byte[] bytes;
        try
        {
            bytes = length == 0 ? [] : await FetchRangeAsync(repository, revision, commit, path, offset, length, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            throw new HubException($"{repository} {path}: reading bytes {offset}–{offset + length} failed ({error.Message}); run the pull again", error);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(rangeFile)!);
        WriteAtomically(lengthFile, Encoding.ASCII.GetBytes(fileLength.Value.ToString(CultureInfo.InvariantCulture)));
        WriteAtomically(rangeFile, bytes);
        return (bytes, fileLength.Value, commit);
    }

    public void Dispose() => _http.Dispose();

    // ---- metadata ----------------------------------------------------------------------------------------------

    private sealed record FileMetadata(string Commit, string? Etag, long? Size, Uri Download);

    private async Task<FileMetadata> HeadAsync(string repository, string revision, string path, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(repository, revision, path);
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var request = NewRequest(HttpMethod.Head, url);
            using var response = await SendAsync(request, repository, path, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var location = Location(response, url, repository, path);
                if (SameOrigin(location, _endpoint))
                {
                    // A renamed repository or a moved file: the Hub answers on its own host; follow it for the metadata.
                    url = location;
                    continue;
                }
                // A redirect to the CDN: the LFS metadata is on this response, and the CDN gets no token.
                return Metadata(response, repository, revision, path, location);
            }
            if (response.IsSuccessStatusCode)
            {
                return Metadata(response, repository, revision, path, url);
            }
            throw Failure(response, repository, revision, path);
        }
        throw new HubException($"{repository} {path}: more than {MaxRedirects} redirects");
    }

    private FileMetadata Metadata(HttpResponseMessage response, string repository, string revision, string path, Uri download)
    {
        var commit = Header(response, "X-Repo-Commit");
        if (commit is null && IsCommit(revision))
        {
            commit = revision;
        }
        if (commit is null || !IsCommit(commit))
        {
            throw new HubException($"{repository} {path}: the server at {_endpoint} did not name the commit (X-Repo-Commit) " +
                $"that revision '{revision}' resolves to; is HF_ENDPOINT a HuggingFace Hub or a mirror of one?");
        }
        var etag = NormalizeEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"));
        var sizeText = Header(response, "X-Linked-Size");
        long? size = long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var linked) ? linked
            : (int)response.StatusCode is >= 200 and < 300 ? response.Content.Headers.ContentLength : null;
        // A small file is fetched from the exact commit, so every file of one pull comes from the same snapshot.
        var url = (int)response.StatusCode is >= 300 and < 400 ? download : ResolveUrl(repository, commit.ToLowerInvariant(), path);
        return new FileMetadata(commit.ToLowerInvariant(), etag, size, url);
    }

    // ---- transfers -----------------------------------------------------------------------------------------------

    private async Task TransferAsync(string repository, string path, FileMetadata metadata, string partial, CancellationToken cancellationToken)
    {
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await TransferOnceAsync(repository, path, metadata, partial, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception error) when (error is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= _options.MaxAttempts)
                {
                    throw new HubException($"{repository} {path}: the transfer broke off {attempt} times ({error.Message}); " +
                        "the part received is kept in the cache and the next pull resumes it", error);
                }
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private async Task TransferOnceAsync(string repository, string path, FileMetadata metadata, string partial, CancellationToken cancellationToken)
    {
        var url = metadata.Download;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (metadata.Size is { } size && have == size)
            {
                return;
            }
            using var request = NewRequest(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
            }
            using var response = await SendAsync(request, repository, path, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                url = Location(response, url, repository, path);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The server has nothing past what we hold: start over rather than trust a partial file of unknown size.
                File.Delete(partial);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw Failure(response, repository, metadata.Commit, path);
            }
            var append = false;
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                var range = response.Content.Headers.ContentRange;
                if (range?.From != have)
                {
                    throw new HubException($"{repository} {path}: asked to resume at byte {have}, the server answered {range}");
                }
                append = true;
            }
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, CopyBufferBytes);
            var expected = response.Content.Headers.ContentLength;
            var received = append ? have : 0;
            var buffer = new byte[CopyBufferBytes];
            long copied = 0;
            var lastReport = Environment.TickCount64;
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            while (true)
            {
                // A connection that stays open but sends nothing would otherwise hang the pull forever.
                stall.CancelAfter(_options.StallTimeout);
                int read;
                try
                {
                    read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new IOException(string.Create(CultureInfo.InvariantCulture, $"no data arrived for {_options.StallTimeout.TotalSeconds:F0} s"));
                }
                if (read == 0)
                {
                    break;
                }
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                copied += read;
                received += read;
                if (Environment.TickCount64 - lastReport >= 250)
                {
                    lastReport = Environment.TickCount64;
                    Progress?.Invoke(new HubProgress(repository, path, received, metadata.Size, Finished: false, FromCache: false, null));
                }
            }
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (expected is { } announced && copied < announced)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the response ended after {copied} of {announced} bytes"));
            }
            return;
        }
        throw new HubException($"{repository} {path}: more than {MaxRedirects} redirects");
    }

    private async Task<byte[]> FetchRangeAsync(string repository, string revision, string commit, string path, long offset, int length,
        CancellationToken cancellationToken)
    {
        var metadata = await HeadAsync(repository, commit, path, cancellationToken).ConfigureAwait(false);
        var url = metadata.Download;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var request = NewRequest(HttpMethod.Get, url);
            request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
            using var response = await SendAsync(request, repository, path, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                url = Location(response, url, repository, path);
                continue;
            }
            if (response.StatusCode != HttpStatusCode.PartialContent)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw Failure(response, repository, revision, path);
                }
                throw new HubException($"{repository} {path}: the server ignored the byte-range request (HTTP {(int)response.StatusCode}); " +
                    "reading the head would mean downloading the whole checkpoint, so the pull stops");
            }
            if (response.Content.Headers.ContentRange?.From != offset)
            {
                throw new HubException($"{repository} {path}: asked for bytes from {offset}, the server answered {response.Content.Headers.ContentRange}");
            }
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length != length)
            {
                throw new HubException(string.Create(CultureInfo.InvariantCulture,
                    $"{repository} {path}: asked for {length} bytes at {offset}, received {bytes.Length}"));
            }
            return bytes;
        }
        throw new HubException($"{repository} {path}: more than {MaxRedirects} redirects");
    }

    private HttpRequestMessage NewRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        // Sizes and hashes are of the stored bytes: ask for them as stored.
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (_options.Token is { } token && SameOrigin(url, _endpoint))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string repository, string path,
        CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error) when (request.Method == HttpMethod.Head)
        {
            throw new HubException($"{repository} {path}: cannot reach {request.RequestUri?.GetLeftPart(UriPartial.Authority)} " +
                $"({error.Message}); check the network or HF_ENDPOINT, or pass {SettingNames.Of(Setting.Offline)} to use only the cache", error);
        }
    }

    private HubException Failure(HttpResponseMessage response, string repository, string revision, string path)
    {
        var code = (int)response.StatusCode;
        var errorCode = Header(response, "X-Error-Code");
        var page = $"{_endpoint}{repository}";
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when _options.Token is null => new HubException(
                $"{repository}: the Hub answered 401 Unauthorized for {path}: the repository is gated or private (or does not exist). " +
                $"Set HF_TOKEN to an access token of an account that may read it (for a gated model, accept its conditions at {page})"),
            HttpStatusCode.Unauthorized => new HubException(
                $"{repository}: the Hub refused the token in HF_TOKEN (401 Unauthorized) for {path}; check that the token is valid and may read {page}"),
            HttpStatusCode.Forbidden => new HubException(
                $"{repository}: access to {path} is forbidden (403): the repository is gated; accept its conditions at {page} " +
                "with the account whose token is in HF_TOKEN"),
            HttpStatusCode.NotFound when errorCode == "RevisionNotFound" => new HubException($"{repository} has no revision '{revision}' (404)"),
            HttpStatusCode.NotFound when errorCode == "RepoNotFound" => new HubException($"repository '{repository}' was not found on {_endpoint} (404)"),
            HttpStatusCode.NotFound => new HubException($"{repository} at '{revision}' has no file '{path}' (404); check the repository's file list at {page}/tree/{revision}"),
            _ => new HubException($"{repository} {path}: the server answered HTTP {code} {response.ReasonPhrase}"),
        };
    }

    private static Uri Location(HttpResponseMessage response, Uri current, string repository, string path)
    {
        var location = response.Headers.Location ?? throw new HubException($"{repository} {path}: a redirect without a Location");
        var target = location.IsAbsoluteUri ? location : new Uri(current, location);
        if (target.Scheme is not ("http" or "https"))
        {
            throw new HubException($"{repository} {path}: redirected to '{target}', which is not http or https");
        }
        return target;
    }

    // ---- verification ----------------------------------------------------------------------------------------------

    private static (string Sha256, string? Verified) Verify(string repository, string path, string file, string? etag, long length)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferBytes, FileOptions.SequentialScan);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A small file's ETag is its git blob id: sha1("blob {length}\0" + content).
#pragma warning disable CA5350 // SHA-1 is what git names blobs with; it checks integrity against the Hub's id, not security
        using var gitSha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
#pragma warning restore CA5350
        gitSha1.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0")));
        var buffer = new byte[CopyBufferBytes];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
            gitSha1.AppendData(buffer, 0, read);
        }
        var sha = Convert.ToHexStringLower(sha256.GetHashAndReset());
        var git = Convert.ToHexStringLower(gitSha1.GetHashAndReset());
        stream.Dispose();
        if (etag is not null && Sha256Pattern().IsMatch(etag))
        {
            if (etag != sha)
            {
                File.Delete(file);
                throw new HubException($"{repository} {path}: sha256 mismatch: the Hub says {etag}, the download hashes to {sha}; " +
                    "the file was discarded (nothing was written to the model folder)");
            }
            return (sha, "sha256");
        }
        if (etag is not null && Sha1Pattern().IsMatch(etag))
        {
            if (etag != git)
            {
                File.Delete(file);
                throw new HubException($"{repository} {path}: git blob id mismatch: the Hub says {etag}, the download hashes to {git}; " +
                    "the file was discarded (nothing was written to the model folder)");
            }
            return (sha, "git sha1");
        }
        return (sha, null);
    }

    private static string? NormalizeEtag(string? etag)
    {
        if (etag is null)
        {
            return null;
        }
        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }
        return value.Trim('"').ToLowerInvariant();
    }

    // ---- cache -------------------------------------------------------------------------------------------------

    private sealed record CacheMeta(string? Etag, string Sha256, long Length);

    private string RepositoryFolder(string repository)
    {
        if (!RepositoryPattern().IsMatch(repository) || repository.Contains("..", StringComparison.Ordinal))
        {
            throw new HubException($"'{repository}' is not a Hub repository id (owner/name)");
        }
        return Path.Combine(_options.CacheFolder, "models--" + repository.Replace("/", "--", StringComparison.Ordinal));
    }

    private static void CheckPath(string path)
    {
        var segments = path.Split('/');
        if (path.Length == 0 || segments.Any(s => s.Length == 0 || s is "." or ".." || s.Contains('\\', StringComparison.Ordinal)) ||
            path.Contains(':', StringComparison.Ordinal))
        {
            throw new HubException($"'{path}' is not a file path inside a repository");
        }
    }

    private static void CheckRevision(string revision)
    {
        // Revisions name a file under refs/ (escaped); "." and ".." would name a folder instead.
        if (revision.Length == 0 || revision.Split('/').Any(s => s.Length == 0 || s is "." or "..") || revision.Any(char.IsControl))
        {
            throw new HubException($"'{revision}' is not a revision (a branch, tag, refs/pr/N or commit)");
        }
    }

    private static string Combine(string repo, string area, string commit, string path, string? leaf = null)
    {
        var full = Path.Combine([repo, area, commit, .. path.Split('/')]);
        return leaf is null ? full : Path.Combine(full, leaf);
    }

    private HubFile? CachedFile(string repo, string repository, string revision, string commit, string path)
    {
        var final = Combine(repo, "files", commit, path);
        var meta = ReadMeta(repo, commit, path);
        if (!File.Exists(final) || meta is null || new FileInfo(final).Length != meta.Length)
        {
            return null;
        }
        return new HubFile(repository, revision, commit, path, final, meta.Length, meta.Sha256);
    }

    private string CachedCommit(string repo, string repository, string revision, string path)
    {
        if (IsCommit(revision))
        {
            return revision.ToLowerInvariant();
        }
        var refFile = Path.Combine(repo, "refs", Uri.EscapeDataString(revision));
        return File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : throw NotCached(repository, revision, path);
    }

    private static long? ReadCachedLength(string repo, string commit, string path)
    {
        var file = Combine(repo, "ranges", commit, path, "length");
        return File.Exists(file) && long.TryParse(File.ReadAllText(file), NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : null;
    }

    private static void WriteRef(string repo, string revision, string commit)
    {
        if (IsCommit(revision))
        {
            return;
        }
        var refFile = Path.Combine(repo, "refs", Uri.EscapeDataString(revision));
        Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
        WriteAtomically(refFile, Encoding.ASCII.GetBytes(commit));
    }

    private static CacheMeta? ReadMeta(string repo, string commit, string path)
    {
        var file = Combine(repo, "meta", commit, path) + ".json";
        if (!File.Exists(file))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            var root = document.RootElement;
            var etag = root.GetProperty("etag");
            return new CacheMeta(etag.ValueKind == JsonValueKind.String ? etag.GetString() : null,
                root.GetProperty("sha256").GetString()!, root.GetProperty("length").GetInt64());
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null; // an unreadable record only costs a new download
        }
    }

    private static void WriteMeta(string repo, string commit, string path, CacheMeta meta)
    {
        var file = Combine(repo, "meta", commit, path) + ".json";
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (meta.Etag is null)
            {
                writer.WriteNull("etag");
            }
            else
            {
                writer.WriteString("etag", meta.Etag);
            }
            writer.WriteString("sha256", meta.Sha256);
            writer.WriteNumber("length", meta.Length);
            writer.WriteEndObject();
        }
        WriteAtomically(file, buffer.ToArray());
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = string.Create(CultureInfo.InvariantCulture, $"{path}.tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}");
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private static HubNotCachedException NotCached(string repository, string revision, string path) =>
        new($"offline: the cache has no {repository}@{revision} {path}") { Missing = $"{repository}@{revision} {path}" };

    private Uri ResolveUrl(string repository, string revision, string path) =>
        new(_endpoint, $"{repository}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static bool IsCommit(string revision) => CommitPattern().IsMatch(revision);

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex CommitPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha1Pattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")]
    private static partial Regex RepositoryPattern();
}
