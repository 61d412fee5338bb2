using System.Text;
using Riverbed.Inference.ModelFolders;
using Riverbed.IO;
using Riverbed.Pipeline;
using Riverbed.Scoring;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Pipeline;

/// <summary>
/// Every persisted format is written byte for byte as the hand-written writers before the source-generated contexts
/// wrote it (expected texts captured from them), so existing output folders, their hashes and their readers stay valid.
/// </summary>
public sealed class PersistedFormatTests
{
    private static readonly DateTime When = new(2026, 12, 5, 18, 25, 4, DateTimeKind.Utc);

    internal static ShardManifest Manifest() => new()
    {
        Shard = "données/part-1",
        InputPath = "/data/données/part-1.jsonl",
        InputResolvedPath = "/mnt/real/part-1.jsonl",
        InputBytes = 12345,
        InputLastWriteUtc = When.AddTicks(1234567),
        ConfigHash = "abc123",
        Decisions = "any(fill_compare_min<0, contradiction_max>0.5)",
        Format = "jsonl",
        Schema = new SchemaDetection("oig", "fields <human> & <bot>", Forced: false),
        RowsIn = 10,
        RowsOut = 7,
        RowsRejected = 2,
        RowsFailed = 1,
        BlankLines = 3,
        RejectsByKind = new Dictionary<string, long> { ["too_deep"] = 1, ["invalid_json"] = 1 },
        Outputs = [("kept", new ManifestFile("kept/part-1.jsonl", 5, 900, "aa")), ("removed/fill_compare_min", new ManifestFile("removed/fill_compare_min/part-1.jsonl", 2, 300, "bb"))],
        Rejects = new ManifestFile("rejects/part-1.jsonl", 2, 100, "cc"),
        Failures = null,
        Attachments = [new ManifestFile("part-1.stats.json", 0, 50, "dd")],
        CommittedUtc = When,
    };

    internal static ScoreStatistics Statistics()
    {
        var statistics = new ScoreStatistics { Shards = 1 };
        double?[] fills = [0.1, 0.2, -0.7, null, 1.0 / 3];
        for (var i = 0; i < fills.Length; i++)
        {
            var scores = new Dictionary<string, double?> { [ScoreNames.FillCompareMin] = fills[i], [ScoreNames.All[^1]] = i * 0.1 };
            var decision = i % 2 == 0 ? new Decision(true, []) : new Decision(false, ["fill_compare_min<0"]);
            statistics.AddRow(new ExampleFacts(decision, scores, 1, 3, i, 2, 1, new ModelTokenCounts(10, 20, 30, 40)));
        }
        statistics.AddReject("invalid_json");
        statistics.AddFailed();
        statistics.AttributeTo("part-1.jsonl");
        return statistics;
    }

    internal static JobRecord Job() => new()
    {
        WorldSize = 2,
        ShardListSha256 = "ff00",
        ConfigHash = "abc123",
        UnitSize = 1 << 20,
        CreatedUtc = When,
        Shards =
        [
            new RecordedShard("a.jsonl", "a", "/data/a.jsonl") { Bytes = 10, Rank = 0 },
            new RecordedShard("b.jsonl#u1", "b.u1", "/data/b.jsonl")
            {
                SourceName = "b.jsonl",
                Unit = new UnitRange(UnitKind.Lines, 1, 2, 100, 200, 7, 8, 100),
                Bytes = 100,
                Rank = null,
            },
        ],
    };

    internal static RunConfiguration Configuration() => new()
    {
        Reader = new ReaderOptions { Schema = new SchemaOptions { Schema = "oig", PromptField = "q" } },
        Format = OutputFormat.JsonLines,
        Split = true,
        Limit = 120,
        Scoring = new ScoringOptions { Seed = 7, MaskRate = 0.1, Stopwords = ["The", "a", "é"] },
        Policy = DecisionPolicy.Create([ScoreThreshold.Parse("fill_compare_min<0"), ScoreThreshold.Parse("contradiction_max>0.5")]),
        ModelsFolder = "/models/données",
        Models = [new ModelRoleDigests("mlm", "/models/données/mlm", [new ModelFileDigest("model.onnx", "/models/données/mlm/model.onnx", 99, "0123")])],
        Execution = new ExecutionSettings("cpu", 2, ExecutionSettings.BudgetThreads, 4096, 64),
    };

    internal static RunRecord Run() => new()
    {
        StartedUtc = When,
        FinishedUtc = When.AddSeconds(12.5),
        CommandLine = ["score", "in/données", "--threshold", "fill_compare_min<0"],
        Inputs = ["/data/a.jsonl"],
        Output = "/out",
        Configuration = Configuration(),
        Source = "/scored",
        Rank = 1,
        WorldSize = 2,
        Examples = 77,
        WallSeconds = 12.3456789,
        Batching = [new RoleBatchStatistics("mlm", 2, 4096, 10, 77, 5000, 6000, 3.14159265) { FailedRuns = 1, Splits = 2 }],
        ShardsCommitted = 3,
        ShardsSkipped = 1,
        ShardsFailed = 0,
    };

    private static string Expected(string name) =>
        File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "persisted-formats", name), Encoding.UTF8);

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void A_manifest_is_written_as_before_and_reads_back_whole()
    {
        var manifest = Manifest();

        Assert.Equal(Expected("manifest.json"), Text(manifest.ToJson()));
        using var scratch = new ScratchFolder("formats");
        File.WriteAllBytes(scratch.File("m.json"), manifest.ToJson());
        var read = ShardManifest.TryLoad(scratch.File("m.json"));
        Assert.NotNull(read);
        Assert.Equal(Text(manifest.ToJson()), Text(read.ToJson()));
        Assert.Equal(DateTimeKind.Utc, read.CommittedUtc.Kind);
    }

    [Fact]
    public void A_manifest_of_another_version_or_lacking_a_count_is_not_a_manifest()
    {
        using var scratch = new ScratchFolder("formats");
        var text = Expected("manifest.json");
        File.WriteAllText(scratch.File("v2.json"), text.Replace("\"riverbed_manifest\": 1", "\"riverbed_manifest\": 2", StringComparison.Ordinal));
        File.WriteAllText(scratch.File("short.json"), text.Replace("  \"rows_out\": 7,\n", "", StringComparison.Ordinal));

        Assert.Null(ShardManifest.TryLoad(scratch.File("v2.json")));
        Assert.Null(ShardManifest.TryLoad(scratch.File("short.json")));
    }

    [Fact]
    public void Statistics_are_written_as_before_with_exact_sums_and_read_back_whole()
    {
        var statistics = Statistics();

        Assert.Equal(Expected("stats.json"), Text(statistics.ToJson()));
        Assert.Equal(Text(statistics.ToJson()), Text(ScoreStatistics.Parse(statistics.ToJson(), "stats.json").ToJson()));
    }

    [Fact]
    public void A_job_record_and_a_failure_marker_are_written_as_before_and_read_back()
    {
        Assert.Equal(Expected("job.json"), Text(Job().ToJson()));
        var marker = new FailureMarker("données/part-1", "it <broke>", 1, 2, "host", 42, When);
        Assert.Equal(Expected("marker.json"), Text(marker.ToJson()));

        using var scratch = new ScratchFolder("formats");
        Directory.CreateDirectory(Path.GetDirectoryName(JobRecord.PathIn(scratch.Path))!);
        File.WriteAllBytes(JobRecord.PathIn(scratch.Path), Job().ToJson());
        var job = JobRecord.TryLoad(scratch.Path);
        Assert.NotNull(job);
        Assert.Equal(Expected("job.json"), Text(job.ToJson()));
        Directory.CreateDirectory(Path.GetDirectoryName(FailureMarker.PathFor(scratch.Path, "données/part-1"))!);
        File.WriteAllBytes(FailureMarker.PathFor(scratch.Path, "données/part-1"), marker.ToJson());
        Assert.Equal(marker, FailureMarker.TryRead(scratch.Path, "données/part-1"));
    }

    [Fact]
    public void The_configuration_and_its_hash_are_what_they_were_so_existing_folders_still_resume()
    {
        var configuration = Configuration();

        Assert.Equal(Expected("config.json").TrimEnd('\n'), Text(configuration.ToJson(forHash: false)));
        Assert.Equal(Expected("config-hash.json").TrimEnd('\n'), Text(configuration.ToJson(forHash: true)));
        Assert.Equal("9515aedca91bc186c34ef1089fd3ba7204eac45f8679748b9a28d91a09aed86f", configuration.Hash);
        Assert.Equal("ea34cb90eb9e07012fe8ddfaa3d09ae5fe9000226b394bbc69541ab0861f1730", ScoringOptions.Default.Hash);
        Assert.Equal("22e84570989c32a3e200a8b232d382560801d0dffef830b2231f0456a40a9d01", configuration.Scoring.Hash);
    }

    [Fact]
    public void Run_json_is_written_as_before_and_its_configuration_reads_back_with_the_same_hash()
    {
        var run = Run();
        using var scratch = new ScratchFolder("formats");
        File.WriteAllBytes(scratch.File("run.json"), run.ToJson());

        // The versions of Riverbed, ONNX Runtime and .NET are the machine's own.
        static string WithoutVersions(string text) => string.Join('\n', text.Split('\n').Where(line => !line.Contains("_version\": ", StringComparison.Ordinal)));
        Assert.Equal(WithoutVersions(Expected("run.json")), WithoutVersions(Text(run.ToJson())));
        var read = RunConfiguration.Load(scratch.File("run.json"));
        Assert.Equal(run.Configuration.Hash, read.Hash);
        Assert.Equal(Text(run.Configuration.ToJson(forHash: false)), Text(read.ToJson(forHash: false)));
    }

    [Fact]
    public void A_jobs_run_json_sums_its_ranks_records_and_lists_them_after_the_rest()
    {
        var first = RunRecordDocument.Parse(Run().ToJson());
        var second = first with { Rank = 0, StartedUtc = When.AddSeconds(-10), FinishedUtc = When.AddSeconds(5), Shards = new RunShardCounts { Committed = 2, Failed = 1 } };

        var job = RunRecordDocument.ForJob([("rank-1-of-2.json", first), ("rank-0-of-2.json", second)], ["/data/a.jsonl", "/data/b.jsonl"], 2, 6, 5);
        var text = Text(job.ToFile());

        Assert.Equal(When.AddSeconds(-10), job.StartedUtc);
        Assert.Equal(When.AddSeconds(12.5), job.FinishedUtc);
        Assert.Equal(new RunShardCounts { Total = 6, Complete = 5, Committed = 5, Skipped = 1, Failed = 1 }, job.Shards);
        Assert.Equal(new RunThroughput { WallSeconds = 22.5, Examples = 154, ExamplesPerSecond = Math.Round(154 / 22.5, 3) }, job.Throughput);
        Assert.Null(job.Rank);
        Assert.DoesNotContain("\"batching\"", text, StringComparison.Ordinal);
        Assert.True(text.IndexOf("\"throughput\"", StringComparison.Ordinal) < text.IndexOf("\"ranks\"", StringComparison.Ordinal));
        Assert.Equal(["runs/rank-1-of-2.json", "runs/rank-0-of-2.json"], job.Ranks!.Select(rank => rank.Record));
        Assert.Equal(first.Config!.Value.GetRawText(), RunRecordDocument.Parse(job.ToFile()).Config!.Value.GetRawText());
    }
}
