namespace Riverbed.Inference.Hub;

/// <summary>Where the Hub is, who is asking, and where downloads are kept.</summary>
public sealed class HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The Hub's base URL; <c>HF_ENDPOINT</c> points it at a mirror.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Sent as <c>Authorization: Bearer</c> to the endpoint's own host only (never to a CDN it redirects to).</summary>
    public string? Token { get; init; }

    /// <summary>The shared download cache (one per user by default, shared by every pull).</summary>
    public required string CacheFolder { get; init; }

    /// <summary>Use only what the cache holds; never touch the network.</summary>
    public bool Offline { get; init; }

    /// <summary>How many times one file's transfer is tried (each retry resumes where the last one stopped).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The pause before the first retry; it doubles on each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a transfer may receive nothing before it counts as broken off (and is resumed).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A custom HTTP stack (tests); null uses one that does not follow redirects on its own.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>
    /// The options the environment asks for: <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HUB_OFFLINE</c>, and the cache in
    /// <c>RIVERBED_HUB_CACHE</c>, else <c>$XDG_CACHE_HOME/riverbed/hub</c>, else <c>~/.cache/riverbed/hub</c>.
    /// </summary>
    public static HubOptions FromEnvironment(string? cacheFolder = null, bool offline = false)
    {
        var endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        var token = Environment.GetEnvironmentVariable("HF_TOKEN");
        return new HubOptions
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim(),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
            CacheFolder = cacheFolder ?? DefaultCacheFolder(),
            // HF_HUB_OFFLINE=1 is how a HuggingFace user already says "no network"; honour it here too.
            Offline = offline || Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "True",
        };
    }

    public static string DefaultCacheFolder()
    {
        var configured = Environment.GetEnvironmentVariable("RIVERBED_HUB_CACHE");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrWhiteSpace(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.GetFullPath(Path.Combine(root, "riverbed", "hub"));
    }
}

/// <summary>One step of a file's transfer, for progress lines.</summary>
/// <param name="Received">Bytes on disk so far (a resumed transfer starts above zero).</param>
/// <param name="Total">The file's size when the Hub said it.</param>
/// <param name="Finished">The file is complete and verified.</param>
/// <param name="FromCache">It was already in the cache: nothing was transferred.</param>
/// <param name="Verified">How it was checked: "sha256", "git sha1", or null when the server gave nothing to check.</param>
public sealed record HubProgress(string Repository, string Path, long Received, long? Total, bool Finished, bool FromCache,
    string? Verified);

/// <summary>A file of a Hub repository, complete in the cache.</summary>
/// <param name="Commit">The commit the revision resolved to: what a run records.</param>
/// <param name="Sha256">The file's SHA-256 (computed locally; checked against the Hub's LFS metadata for large files).</param>
public sealed record HubFile(string Repository, string Revision, string Commit, string Path, string LocalPath, long Length,
    string Sha256);

/// <summary>A Hub failure a user can act on: not found, refused, corrupted, or not in the cache when offline.</summary>
public class HubException : RiverbedException
{
    public HubException()
    {
    }

    public HubException(string message)
        : base(message)
    {
    }

    public HubException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Offline, and the cache does not hold what was asked for.</summary>
public sealed class HubNotCachedException : HubException
{
    public HubNotCachedException()
    {
    }

    public HubNotCachedException(string message)
        : base(message)
    {
    }

    public HubNotCachedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What is missing, e.g. "Xenova/roberta-base@main onnx/model.onnx".</summary>
    public string Missing { get; init; } = string.Empty;
}
