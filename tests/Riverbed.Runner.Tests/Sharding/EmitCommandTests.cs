using System.Diagnostics;
using System.Globalization;

namespace Riverbed.Runner.Tests.Sharding;

/// <summary><c>riverbed emit slurm|k8s</c>: what they write is parsed (bash -n, #SBATCH lines, YAML structure) and checked.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EmitCommandTests
{
    private static List<string> Directives(string script) =>
        script.Split('\n').Where(line => line.StartsWith("#SBATCH ", StringComparison.Ordinal)).Select(line => line[8..]).ToList();

    private static int BashCheck(string script)
    {
        using var scratch = new ScratchFolder("bash-n");
        File.WriteAllText(scratch.File("job.sbatch"), script);
        using var bash = Process.Start("bash", ["-n", scratch.File("job.sbatch")])!;
        bash.WaitForExit();
        return bash.ExitCode;
    }

    /// <summary>The line of the script that starts the worker, split back into words the way bash would.</summary>
    private static string WorkerLine(string script) =>
        Assert.Single(script.Split('\n'), line => line.EndsWith(" &", StringComparison.Ordinal) && line.Contains(" score ", StringComparison.Ordinal));

    [Fact]
    public void A_fresh_job_gets_no_more_array_tasks_than_its_inputs_can_have_work_units()
    {
        using var job = new ShardedJob(2);
        job.WriteShard("big.jsonl", 3000);
        var bigBytes = new FileInfo(Path.Combine(job.InputFolder, "big.jsonl")).Length;

        var small = Cli.Run(["emit", "slurm", "--tasks", "8", "--", "in", "--models", "models/demo", "--output", "out", "--limit", "5"], workingDirectory: job.Root);
        var split = Cli.Run(["emit", "slurm", "--tasks", "64", "--", "in", "--models", "models/demo", "--output", "out", "--unit-size", "16KB"], workingDirectory: job.Root);

        Assert.True(small.ExitCode == ExitCodes.Success, small.ToString());
        Assert.Contains("--array=0-2", Directives(small.StandardOutput));
        Assert.Contains("every input shard over 3 rank(s)", small.StandardError, StringComparison.Ordinal);
        Assert.True(split.ExitCode == ExitCodes.Success, split.ToString());
        var most = 2 + (bigBytes / (16 << 10)) + 1;
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"--array=0-{most - 1}"), Directives(split.StandardOutput));
    }

    [Fact]
    public void A_fresh_job_gets_one_array_task_per_rank_with_the_gpu_and_the_score_arguments()
    {
        using var job = new ShardedJob(6);
        var result = Cli.Run(["emit", "slurm", "--tasks", "3", "--gpus", "1", "--time", "02:00:00", "--partition", "gpu", "--",
            "in", "--models", "models/demo", "--output", "out", "--grace", "20"], workingDirectory: job.Root);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var script = result.StandardOutput;
        Assert.Equal(0, BashCheck(script));
        var directives = Directives(script);
        Assert.Contains("--array=0-2", directives);
        Assert.Contains("--gres=gpu:1", directives);
        Assert.Contains("--time=02:00:00", directives);
        Assert.Contains("--partition=gpu", directives);
        Assert.Contains("--requeue", directives);
        Assert.Contains("--signal=B:TERM@50", directives);
        Assert.Contains($"--chdir={job.Root}", directives);
        Assert.Contains($"--output={Path.Combine(job.OutputFolder, ".riverbed", "logs", "slurm-%A_%a.out")}", directives);
        Assert.True(Directory.Exists(Path.Combine(job.OutputFolder, ".riverbed", "logs")), "Slurm needs the log folder to exist");
        var worker = WorkerLine(script);
        Assert.EndsWith(" score in --models models/demo --output out --grace 20 --world-size 3 --device cuda:0 &", worker, StringComparison.Ordinal);
        Assert.Contains("riverbed.dll", worker, StringComparison.Ordinal);
        Assert.Contains("--dependency=afterany:${SLURM_ARRAY_JOB_ID}", script, StringComparison.Ordinal);
        Assert.Contains("merge-stats out'", script, StringComparison.Ordinal);
        Assert.Contains("every input shard over 3 rank(s)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_partly_done_job_covers_only_the_incomplete_shards_through_a_pinned_list()
    {
        using var job = new ShardedJob(6);
        job.Record(3);
        await job.CommitAsync(0, 1, 3, 4);
        var scriptFile = Path.Combine(job.Root, "rest.sbatch");
        var result = Cli.Run(["emit", "slurm", "--script", scriptFile, "--riverbed", "/opt/riverbed/riverbed", "--", "in", "--output", "out"], workingDirectory: job.Root);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("2 of 6 shard(s) over 2 rank(s); 4 already complete", result.StandardError, StringComparison.Ordinal);
        var script = File.ReadAllText(scriptFile);
        Assert.True((File.GetUnixFileMode(scriptFile) & UnixFileMode.UserExecute) != 0);
        Assert.Equal(0, BashCheck(script));
        Assert.Contains("--array=0-1", Directives(script));
        var worker = WorkerLine(script);
        Assert.StartsWith("/opt/riverbed/riverbed score in --output out --world-size 2 --shard-list out/.riverbed/lists/", worker, StringComparison.Ordinal);
        var list = worker.Split(' ')[^2];
        Assert.Equal(["part-02.jsonl", "part-05.jsonl"],
            File.ReadAllLines(Path.Combine(job.Root, list)).Where(line => !line.StartsWith('#')));
        Assert.DoesNotContain("--device", worker, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_finished_job_needs_no_script()
    {
        using var job = new ShardedJob(2);
        job.Record(2);
        await job.CommitAsync(0, 1);
        var result = Cli.Run(["emit", "slurm", "--", "in", "--output", "out"], workingDirectory: job.Root);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Equal(string.Empty, result.StandardOutput);
        Assert.Contains("every shard of out is complete; nothing to submit", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "emit", "slurm", "--tasks", "2", "in" }, "after '--'")]
    [InlineData(new[] { "emit", "slurm", "--tasks", "2", "--", "in", "--models", "m" }, "no --output folder")]
    [InlineData(new[] { "emit", "slurm", "--tasks", "2", "--", "in", "--output", "out", "--rank", "1" }, "'--rank' is set by the job spec")]
    [InlineData(new[] { "emit", "slurm", "--", "in", "--output", "out" }, "--tasks is required")]
    [InlineData(new[] { "emit", "slurm", "--tasks", "2", "--gpus", "2", "--", "in", "--output", "out" }, "run more ranks")]
    [InlineData(new[] { "emit", "slurm", "--tasks", "2", "--time", "soon", "--", "in", "--output", "out" }, "is not a Slurm time limit")]
    public void Misuse_is_refused_with_what_to_do(string[] arguments, string message)
    {
        using var scratch = new ScratchFolder("emit");
        var result = Cli.Run(arguments, workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Failure, result.ToString());
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("slurm", new[] { "in", "--output", "out", "--modles", "models/demo" }, "'--modles'")]
    [InlineData("slurm", new[] { "in", "--output", "out", "--threshold", "fluency=3" }, "unknown score 'fluency'")]
    [InlineData("k8s", new[] { "in", "--output", "out", "--format", "csv" }, "'csv'")]
    [InlineData("k8s", new[] { "in", "--output", "out", "--batch-tokens", "many" }, "'many'")]
    public void Score_arguments_that_score_itself_would_refuse_are_a_usage_error_and_no_job_is_written(string scheduler, string[] scoreArguments, string message)
    {
        using var scratch = new ScratchFolder("emit");
        string[] schedulerOptions = scheduler == "k8s" ? ["--image", "registry.example/riverbed:1"] : [];
        var result = Cli.Run(["emit", scheduler, "--tasks", "2", .. schedulerOptions, "--", .. scoreArguments], workingDirectory: scratch.Path);
        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains("the `riverbed score` arguments after '--' do not parse", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
        Assert.False(Directory.Exists(Path.Combine(scratch.Path, "out")));
    }

    [Fact]
    public async Task The_kubernetes_job_runs_the_same_command_over_indexes_with_grace_matched()
    {
        using var job = new ShardedJob(5);
        job.Record(5);
        await job.CommitAsync(0);
        var manifestFile = Path.Combine(job.Root, "job.yaml");
        var result = Cli.Run(["emit", "k8s", "--tasks", "2", "--image", "registry.example/riverbed:1", "--gpus", "1", "--volume", "datasets:/data",
            "--manifest", manifestFile, "--", "in", "--output", "out", "--grace", "90"], workingDirectory: job.Root);
        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var root = Assert.IsType<Dictionary<string, object?>>(MiniYaml.Parse(File.ReadAllText(manifestFile)));
        var spec = Assert.IsType<Dictionary<string, object?>>(root["spec"]);
        Assert.Equal(("Indexed", 2L, 2L), (spec["completionMode"], spec["completions"], spec["parallelism"]));
        var pod = Assert.IsType<Dictionary<string, object?>>(Assert.IsType<Dictionary<string, object?>>(spec["template"])["spec"]);
        Assert.Equal(105L, pod["terminationGracePeriodSeconds"]);
        var container = Assert.IsType<Dictionary<string, object?>>(Assert.Single(Assert.IsType<List<object?>>(pod["containers"])));
        var command = Assert.IsType<List<object?>>(container["command"]).Cast<string>().ToList();
        Assert.Equal(["riverbed", "score", "in", "--output", "out", "--grace", "90", "--world-size", "2", "--shard-list"], command.Take(10));
        Assert.Equal(["--device", "cuda:0"], command.Skip(11));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(job.Root, command[10])).Count(line => !line.StartsWith('#')));
        var limits = Assert.IsType<Dictionary<string, object?>>(Assert.IsType<Dictionary<string, object?>>(container["resources"])["limits"]);
        Assert.Equal(1L, limits["nvidia.com/gpu"]);
        Assert.Contains("merge-stats out", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void The_kubernetes_job_needs_an_image()
    {
        using var scratch = new ScratchFolder("emit");
        var result = Cli.Run(["emit", "k8s", "--tasks", "2", "--", "in", "--output", "out"], workingDirectory: scratch.Path);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--image", result.StandardError, StringComparison.Ordinal);
    }
}
