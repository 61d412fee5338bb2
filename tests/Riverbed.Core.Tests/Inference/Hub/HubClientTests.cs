using System.Security.Cryptography;
using System.Text;
using Riverbed.Inference.Hub;

namespace Riverbed.Core.Tests.Inference.Hub;

public sealed class HubClientTests : IDisposable
{
    private const string Repo = "acme/tiny-model";

    private readonly FakeHub _hub = new();
    private readonly ScratchFolder _scratch = new("hub");
    private readonly byte[] _large = RandomBytes(300_000, seed: 5);
    private readonly byte[] _config = Encoding.UTF8.GetBytes("{\"model_type\": \"bert\"}");
    private readonly string _commit;

    public HubClientTests()
    {
        _commit = _hub.Publish(Repo, "main", new Dictionary<string, byte[]>
        {
            ["onnx/model.onnx"] = _large,
            ["config.json"] = _config,
        });
    }

    public void Dispose()
    {
        _hub.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task A_small_file_is_fetched_from_the_exact_commit_and_checked_against_its_git_blob_id()
    {
        using var client = Client();
        var progress = new List<HubProgress>();
        client.Progress += progress.Add;

        var file = await client.DownloadAsync(Repo, "main", "config.json");

        Assert.Equal(_commit, file.Commit);
        Assert.Equal(_config, File.ReadAllBytes(file.LocalPath));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(_config)), file.Sha256);
        Assert.Equal("git sha1", Assert.Single(progress, p => p.Finished).Verified);
        Assert.Contains(_hub.Requests, r => r.Method == "GET" && r.Target == $"/{Repo}/resolve/{_commit}/config.json");
    }

    [Fact]
    public async Task A_large_file_follows_the_redirect_and_the_token_does_not_travel_to_the_other_host()
    {
        using var client = Client(token: FakeHub.Token);
        var progress = new List<HubProgress>();
        client.Progress += progress.Add;

        var file = await client.DownloadAsync(Repo, "main", "onnx/model.onnx");

        Assert.Equal(_large, File.ReadAllBytes(file.LocalPath));
        Assert.Equal("sha256", progress.Last().Verified);
        Assert.All(_hub.Requests.Where(r => r.Server == "hub"), r => Assert.Equal("Bearer " + FakeHub.Token, r.Authorization));
        var cdn = Assert.Single(_hub.Requests, r => r.Server == "cdn");
        Assert.Null(cdn.Authorization);
    }

    [Fact]
    public async Task An_interrupted_transfer_resumes_from_where_it_stopped()
    {
        _hub.CutAfter["onnx/model.onnx"] = 100_000;
        using var client = Client();

        var file = await client.DownloadAsync(Repo, "main", "onnx/model.onnx");

        Assert.Equal(_large, File.ReadAllBytes(file.LocalPath));
        var gets = _hub.Requests.Where(r => r.Server == "cdn").ToList();
        Assert.Equal(2, gets.Count);
        Assert.Null(gets[0].Range);
        Assert.Equal("bytes=100000-", gets[1].Range);
    }

    [Fact]
    public async Task A_transfer_that_stalls_counts_as_broken_off_and_resumes()
    {
        _hub.StallAfter["onnx/model.onnx"] = 50_000;
        // The stall is real (the fake hub sends nothing more until it stops), so only the clock can detect it; the
        // timeout is long enough that a live loopback transfer on a loaded machine never goes that long without bytes,
        // and the check asks only that the download resumed where the stall cut it (a slow spell elsewhere may add a
        // resume of its own, which the promise allows).
        using var client = new HubClient(new HubOptions
        {
            Endpoint = _hub.Endpoint,
            CacheFolder = _scratch.File("cache"),
            RetryDelay = TimeSpan.FromMilliseconds(10),
            StallTimeout = TimeSpan.FromSeconds(3),
        });

        var file = await client.DownloadAsync(Repo, "main", "onnx/model.onnx");

        Assert.Equal(_large, File.ReadAllBytes(file.LocalPath));
        Assert.Contains(_hub.Requests, r => r.Server == "cdn" && r.Range == "bytes=50000-");
    }

    [Theory]
    [InlineData("..")]
    [InlineData("refs/../x")]
    [InlineData("")]
    public async Task A_revision_that_would_name_a_folder_of_the_cache_is_refused(string revision)
    {
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(Repo, revision, "config.json"));

        Assert.Contains("is not a revision", error.Message, StringComparison.Ordinal);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task A_partial_file_left_by_a_killed_pull_is_resumed_by_the_next_one()
    {
        _hub.CutAfter["onnx/model.onnx"] = 120_000;
        using (var first = Client(maxAttempts: 1))
        {
            var error = await Assert.ThrowsAsync<HubException>(() => first.DownloadAsync(Repo, "main", "onnx/model.onnx"));
            Assert.Contains("resumes it", error.Message, StringComparison.Ordinal);
        }

        using var second = Client();
        var file = await second.DownloadAsync(Repo, "main", "onnx/model.onnx");

        Assert.Equal(_large, File.ReadAllBytes(file.LocalPath));
        Assert.Equal("bytes=120000-", _hub.Requests.Last(r => r.Server == "cdn").Range);
    }

    [Fact]
    public async Task A_file_whose_sha256_does_not_match_is_refused_and_not_kept()
    {
        _hub.WrongSha256["onnx/model.onnx"] = true;
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(Repo, "main", "onnx/model.onnx"));

        Assert.Contains("sha256 mismatch", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_scratch.Path, "model.onnx", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_small_file_whose_git_blob_id_does_not_match_is_refused()
    {
        _hub.WrongSha256["config.json"] = true;
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(Repo, "main", "config.json"));

        Assert.Contains("git blob id mismatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gated_repository_without_a_token_says_to_set_HF_TOKEN_and_opens_with_one()
    {
        _hub.Gate(Repo);
        using (var anonymous = Client())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => anonymous.DownloadAsync(Repo, "main", "config.json"));
            Assert.Contains("401", error.Message, StringComparison.Ordinal);
            Assert.Contains("gated", error.Message, StringComparison.Ordinal);
            Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
        }
        using (var wrong = Client(token: "hf_wrong"))
        {
            var error = await Assert.ThrowsAsync<HubException>(() => wrong.DownloadAsync(Repo, "main", "config.json"));
            Assert.Contains("refused the token in HF_TOKEN", error.Message, StringComparison.Ordinal);
        }
        using var authorized = Client(token: FakeHub.Token);
        Assert.Equal(_config, File.ReadAllBytes((await authorized.DownloadAsync(Repo, "main", "config.json")).LocalPath));
    }

    [Fact]
    public async Task A_missing_file_a_missing_revision_and_a_missing_repository_each_say_which()
    {
        using var client = Client();

        var file = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(Repo, "main", "onnx/model_fp16.onnx"));
        var revision = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync(Repo, "v9", "config.json"));
        var repository = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("acme/nothing", "main", "config.json"));

        Assert.Equal($"{Repo} at 'main' has no file 'onnx/model_fp16.onnx' (404); check the repository's file list at {_hub.Endpoint}/{Repo}/tree/main", file.Message);
        Assert.Equal($"{Repo} has no revision 'v9' (404)", revision.Message);
        Assert.Contains("'acme/nothing' was not found", repository.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_a_cold_cache_names_what_is_missing_and_a_warm_one_answers_without_the_network()
    {
        using (var cold = Client(offline: true))
        {
            var error = await Assert.ThrowsAsync<HubNotCachedException>(() => cold.DownloadAsync(Repo, "main", "config.json"));
            Assert.Equal($"{Repo}@main config.json", error.Missing);
        }
        Assert.Empty(_hub.Requests);

        using (var online = Client())
        {
            await online.DownloadAsync(Repo, "main", "config.json");
        }
        var before = _hub.Requests.Count;
        using var warm = Client(offline: true);
        var file = await warm.DownloadAsync(Repo, "main", "config.json");

        Assert.Equal(_commit, file.Commit);
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public async Task A_second_download_of_the_same_commit_comes_from_the_cache()
    {
        using var client = Client();
        await client.DownloadAsync(Repo, "main", "onnx/model.onnx");
        var progress = new List<HubProgress>();
        client.Progress += progress.Add;

        await client.DownloadAsync(Repo, "main", "onnx/model.onnx");

        Assert.True(Assert.Single(progress).FromCache);
        Assert.Single(_hub.Requests, r => r.Server == "cdn");
    }

    [Fact]
    public async Task A_byte_range_is_read_with_one_range_request_and_kept_for_offline_use()
    {
        using (var client = Client())
        {
            var (bytes, length, commit) = await client.ReadRangeAsync(Repo, "main", "onnx/model.onnx", 1000, 64);
            Assert.Equal(_large.AsSpan(1000, 64).ToArray(), bytes);
            Assert.Equal(_large.Length, length);
            Assert.Equal(_commit, commit);
            Assert.Equal("bytes=1000-1063", Assert.Single(_hub.Requests, r => r.Server == "cdn").Range);
        }
        using var offline = Client(offline: true);
        var (again, _, _) = await offline.ReadRangeAsync(Repo, "main", "onnx/model.onnx", 1000, 64);
        Assert.Equal(_large.AsSpan(1000, 64).ToArray(), again);
    }

    [Fact]
    public async Task A_server_that_ignores_ranges_is_refused_rather_than_downloading_the_whole_checkpoint()
    {
        _hub.IgnoreRanges = true;
        using var client = Client();

        var error = await Assert.ThrowsAsync<HubException>(() => client.ReadRangeAsync(Repo, "main", "onnx/model.onnx", 0, 8));

        Assert.Contains("ignored the byte-range request", error.Message, StringComparison.Ordinal);
    }

    private HubClient Client(string? token = null, bool offline = false, int maxAttempts = 5) => new(new HubOptions
    {
        Endpoint = _hub.Endpoint,
        Token = token,
        CacheFolder = _scratch.File("cache"),
        Offline = offline,
        MaxAttempts = maxAttempts,
        RetryDelay = TimeSpan.FromMilliseconds(10),
    });

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
