using Riverbed.IO;
using Riverbed.Pipeline;

namespace Riverbed.Runner.Report;

/// <summary>One committed shard of a scored run, by its manifest, and whether its files still match it.</summary>
internal sealed record ShardEntry(string Name, string ManifestPath, ShardManifest? Manifest, IReadOnlyList<string> DataFiles, string? Problem)
{
    public bool IsUsable => Manifest is not null && Problem is null;
}

/// <summary>
/// A scored run's output folder as the report reads it: run.json, stats.json (or the shard stats it merges), and the
/// manifests, which say which data, rejects and failures files are committed. Only files a manifest vouches for are
/// sampled; their sizes are checked against it (hashes are not recomputed: the report reads samples, not every byte).
/// </summary>
internal sealed class ScoredRun
{
    public required string Folder { get; init; }

    public RunRecord? Run { get; init; }

    public required ScoreStatistics Statistics { get; init; }

    /// <summary>Where the statistics came from, e.g. "stats.json".</summary>
    public required string StatisticsSource { get; init; }

    public required IReadOnlyList<ShardEntry> Shards { get; init; }

    /// <summary>Data files with no manifest (shards in progress or abandoned): not part of the report.</summary>
    public required IReadOnlyList<string> UncommittedFiles { get; init; }

    /// <summary>Things a reader should know: a missing run.json, merged stats, shards that no longer match.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    public IEnumerable<string> DataFiles => Shards.Where(shard => shard.IsUsable).SelectMany(shard => shard.DataFiles);

    /// <summary>Committed rejects files, then failures files, as absolute paths.</summary>
    public IEnumerable<string> RejectFiles => Shards.Where(shard => shard.IsUsable && shard.Manifest!.Rejects is not null)
        .Select(shard => Resolve(shard.Manifest!.Rejects!.Path));

    public IEnumerable<string> FailureFiles => Shards.Where(shard => shard.IsUsable && shard.Manifest!.Failures is not null)
        .Select(shard => Resolve(shard.Manifest!.Failures!.Path));

    public string Resolve(string relative) => Path.GetFullPath(Path.Combine(Folder, relative));

    public string Relative(string path) => Path.GetRelativePath(Folder, path).Replace('\\', '/');

    public static ScoredRun Open(string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (!Directory.Exists(root))
        {
            throw new RiverbedException(File.Exists(root)
                ? $"{folder} is a file; give the output folder of `riverbed score` (the folder holding stats.json and the shards)"
                : $"{folder} does not exist; give the output folder of `riverbed score`");
        }
        var notes = new List<string>();
        var files = VisibleFiles(root).ToList();

        var shards = new List<ShardEntry>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var manifestPath in files.Where(file => file.EndsWith(".manifest.json", StringComparison.Ordinal)))
        {
            var shard = LoadShard(root, manifestPath);
            shards.Add(shard);
            if (shard.Manifest is not null)
            {
                foreach (var file in shard.Manifest.Files)
                {
                    referenced.Add(Path.GetFullPath(Path.Combine(root, file.Path)));
                }
            }
        }
        var unusable = shards.Where(shard => !shard.IsUsable).ToList();
        if (unusable.Count > 0)
        {
            notes.Add($"{unusable.Count} shard(s) left out because their files no longer match their manifests (first: {unusable[0].Name}: {unusable[0].Problem}).");
        }
        var uncommitted = files
            .Where(file => (file.EndsWith(".parquet", StringComparison.Ordinal) || file.EndsWith(".jsonl", StringComparison.Ordinal))
                && !file.EndsWith(".rejects.jsonl", StringComparison.Ordinal) && !file.EndsWith(".failures.jsonl", StringComparison.Ordinal)
                && !referenced.Contains(file))
            .ToList();
        if (uncommitted.Count > 0)
        {
            notes.Add($"{uncommitted.Count} data file(s) have no manifest (a shard in progress or interrupted) and are not sampled, e.g. {Path.GetRelativePath(root, uncommitted[0])}.");
        }

        var (statistics, source) = LoadStatistics(root, files, notes);
        if (statistics.Shards != shards.Count(shard => shard.IsUsable))
        {
            notes.Add($"{source} counts {statistics.Shards} shard(s), the folder holds {shards.Count(shard => shard.IsUsable)} committed one(s): the run may still be going, or stats were not merged after the last run.");
        }

        RunRecord? run = null;
        var runPath = Path.Combine(root, "run.json");
        if (File.Exists(runPath))
        {
            run = RunRecord.Load(runPath);
        }
        else
        {
            var rankFiles = files.Where(file => Path.GetDirectoryName(file) == root && Path.GetFileName(file).StartsWith("run.rank-", StringComparison.Ordinal)
                && file.EndsWith(".json", StringComparison.Ordinal)).ToList();
            if (rankFiles.Count > 0)
            {
                run = RunRecord.Load(rankFiles[0]);
                notes.Add($"No run.json; provenance is taken from {Path.GetFileName(rankFiles[0])} ({rankFiles.Count} rank file(s) in all).");
            }
            else
            {
                notes.Add("No run.json: models, configuration and throughput are unknown.");
            }
        }

        return new ScoredRun
        {
            Folder = root,
            Run = run,
            Statistics = statistics,
            StatisticsSource = source,
            Shards = shards,
            UncommittedFiles = uncommitted,
            Notes = notes,
        };
    }

    private static ShardEntry LoadShard(string root, string manifestPath)
    {
        var relative = Path.GetRelativePath(root, manifestPath).Replace('\\', '/');
        var name = relative[..^".manifest.json".Length];
        var manifest = ShardManifest.TryLoad(manifestPath);
        if (manifest is null)
        {
            return new ShardEntry(name, manifestPath, null, [], "the manifest cannot be read");
        }
        foreach (var file in manifest.Files)
        {
            var full = Path.GetFullPath(Path.Combine(root, file.Path));
            if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return new ShardEntry(name, manifestPath, manifest, [], $"it lists '{file.Path}', outside the folder");
            }
            var info = new FileInfo(full);
            if (!info.Exists)
            {
                return new ShardEntry(name, manifestPath, manifest, [], $"{file.Path} is missing");
            }
            if (info.Length != file.Bytes)
            {
                return new ShardEntry(name, manifestPath, manifest, [], $"{file.Path} is {info.Length:N0} bytes, the manifest says {file.Bytes:N0}");
            }
        }
        // Only shard data is sampled; a side file a later format lists among the outputs (a stats file, say) is not.
        var data = manifest.Outputs
            .Where(output => output.File.Path.EndsWith(".parquet", StringComparison.Ordinal) || output.File.Path.EndsWith(".jsonl", StringComparison.Ordinal))
            .Select(output => Path.GetFullPath(Path.Combine(root, output.File.Path)))
            .ToList();
        return new ShardEntry(name, manifestPath, manifest, data, null);
    }

    private static (ScoreStatistics Statistics, string Source) LoadStatistics(string root, List<string> files, List<string> notes)
    {
        var statsPath = Path.Combine(root, "stats.json");
        if (File.Exists(statsPath))
        {
            return (ScoreStatistics.Load(statsPath), "stats.json");
        }
        var shardStats = files.Where(file => file.EndsWith(".stats.json", StringComparison.Ordinal)).ToList();
        if (shardStats.Count == 0)
        {
            throw new RiverbedException(
                $"{root} has no stats.json and no shard stats (*.stats.json): is it the output folder of `riverbed score`? (`riverbed convert` output has no scores)");
        }
        notes.Add($"No stats.json; the totals are merged from {shardStats.Count} shard stats file(s).");
        // Shard stats merge exactly (counters and bins add), so the totals are what stats.json would have said.
        var merged = new ScoreStatistics();
        foreach (var file in shardStats)
        {
            merged.Merge(ScoreStatistics.Load(file));
        }
        return (merged, $"{shardStats.Count} shard stats files");
    }

    /// <summary>Every file under the folder except hidden ones (temporaries, locks) and those under hidden folders, in ordinal order.</summary>
    private static IEnumerable<string> VisibleFiles(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        return Directory.EnumerateFiles(root, "*", options)
            .Where(file => !Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal);
    }
}
