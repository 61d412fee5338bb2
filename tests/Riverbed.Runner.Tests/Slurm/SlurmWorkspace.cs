using System.Globalization;
using System.Text.Json;
using Riverbed.Runner.Tests.Pipeline;

namespace Riverbed.Runner.Tests.Slurm;

/// <summary>
/// A curator's folder for one Slurm job: <c>in/</c> with OIG shards cut from the joke fixture (every row a distinct
/// record, so its id <c>part-N.jsonl#row</c> names it once), <c>out/</c> for the job, and the `riverbed` commands a
/// curator types there: <c>emit slurm … -- score in --models … --output out</c>, <c>status out</c>, and a single-process
/// <c>score</c> of the same inputs as the reference. Relative paths on purpose: the script must carry the working folder.
/// </summary>
internal sealed class SlurmWorkspace : IDisposable
{
    private readonly ScratchFolder _scratch = new("slurm-job");
    private readonly string[] _scoreOptions;

    /// <param name="shards">Input shards part-0.jsonl …</param>
    /// <param name="rowsPerShard">Records per shard (consecutive fixture lines, never repeated).</param>
    /// <param name="scoreOptions">Extra `riverbed score` options every worker runs with (e.g. --grace 0).</param>
    public SlurmWorkspace(int shards, int rowsPerShard, params string[] scoreOptions)
    {
        _scoreOptions = scoreOptions;
        Directory.CreateDirectory(Inputs);
        var records = File.ReadLines(PipelineModels.Jokes).Take(shards * rowsPerShard).ToList();
        Assert.Equal(shards * rowsPerShard, records.Count);
        for (var shard = 0; shard < shards; shard++)
        {
            File.WriteAllLines(InputShard(shard), records.Skip(shard * rowsPerShard).Take(rowsPerShard));
        }
        ExpectedIds = [.. Enumerable.Range(0, shards).SelectMany(shard => Enumerable.Range(0, rowsPerShard).Select(row => Id(shard, row)))];
        Shards = shards;
    }

    public string Folder => _scratch.Path;

    public string Inputs => _scratch.File("in");

    public string Output => _scratch.File("out");

    public string Logs => Path.Combine(Output, ".riverbed", "logs");

    public int Shards { get; }

    /// <summary>Every record id of the inputs, each once.</summary>
    public IReadOnlyList<string> ExpectedIds { get; }

    public string InputShard(int shard) => Path.Combine(Inputs, Name(shard));

    public static string Name(int shard) => string.Create(CultureInfo.InvariantCulture, $"part-{shard}.jsonl");

    public static string Id(int shard, int row) => string.Create(CultureInfo.InvariantCulture, $"part-{shard}.jsonl#{row}");

    /// <summary>The `riverbed score` arguments after `--`, as a curator writes them.</summary>
    public string[] ScoreArguments(string output = "out") =>
        ["in", "--models", PipelineModels.Demo, "--output", output, "--format", "jsonl", .. _scoreOptions];

    /// <summary><c>riverbed emit slurm EMIT… --script NAME -- SCORE…</c> in the workspace; returns the script's path.</summary>
    public string Emit(string scriptName, params string[] emitOptions)
    {
        var result = EmitResult(scriptName, emitOptions);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var script = Path.Combine(Folder, scriptName);
        Assert.True(File.Exists(script), result.ToString());
        return script;
    }

    public CliResult EmitResult(string scriptName, params string[] emitOptions) =>
        Cli.Run(["emit", "slurm", .. emitOptions, "--script", scriptName, "--", .. ScoreArguments()], workingDirectory: Folder);

    public CliResult Status(bool json = false) => Cli.Run(json ? ["status", "out", "--json"] : ["status", "out"], workingDirectory: Folder);

    /// <summary>The same job as one process, into <paramref name="output"/> (relative to the workspace).</summary>
    public void ScoreInOneProcess(string output)
    {
        var result = Cli.Run(["score", .. ScoreArguments(output)], workingDirectory: Folder, timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
    }

    /// <summary>Every row id in the scored shards of <paramref name="output"/>, in file then row order.</summary>
    public List<string> ScoredIds(string output = "out") =>
        [.. ScoredShards(output).SelectMany(file => File.ReadLines(file))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("riverbed_id").GetString()!)];

    public IEnumerable<string> ScoredShards(string output = "out") =>
        Enumerable.Range(0, Shards).Select(shard => Path.Combine(Folder, output, $"part-{shard.ToString(CultureInfo.InvariantCulture)}.jsonl"));

    /// <summary>The array job's merge-stats job id, as the first task to start recorded it.</summary>
    public string MergeJobOf(string arrayJob)
    {
        var file = Path.Combine(Output, ".riverbed", "merge-jobs", arrayJob, "job-id");
        Assert.True(File.Exists(file), $"no task of array job {arrayJob} submitted the merge-stats job ({file} is missing)\n{AllLogs()}");
        return File.ReadAllText(file).Trim();
    }

    /// <summary>Every Slurm log of the job, for failure messages.</summary>
    public string AllLogs() => Directory.Exists(Logs)
        ? string.Join('\n', Directory.EnumerateFiles(Logs).Order(StringComparer.Ordinal).Select(log => $"--- {log}\n{File.ReadAllText(log)}"))
        : $"(no {Logs})";

    public void Dispose() => _scratch.Dispose();
}
