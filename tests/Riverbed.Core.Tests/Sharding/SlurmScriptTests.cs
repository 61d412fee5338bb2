using System.Diagnostics;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>
/// The sbatch script: its header is checked line by line, and the script itself is run by bash as an array task would
/// be (Slurm's variables set, sbatch and scontrol replaced by recorders, the worker by a script that records its
/// arguments), so the merge submission, the signal forwarding and the requeue are exercised, not just read.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlurmScriptTests : IDisposable
{
    private readonly ScratchFolder _scratch = new("slurm-script");

    public void Dispose() => _scratch.Dispose();

    private string Output => _scratch.File("out");

    private SlurmJobOptions Options(IReadOnlyList<string> command, int tasks = 3) => new()
    {
        Command = command,
        MergeCommand = ["/opt/riverbed/riverbed", "merge-stats", Output],
        Tasks = tasks,
        OutputFolder = Output,
        WorkingDirectory = _scratch.Path,
        GpusPerTask = 1,
        CpusPerTask = 8,
        Memory = "32G",
        TimeLimit = "04:00:00",
        Partition = "gpu",
        GraceSeconds = 45,
        MaxRequeues = 2,
        ExtraDirectives = ["--constraint=ib"],
        Summary = "6 shards over 3 ranks",
    };

    [Fact]
    public void The_header_asks_for_one_task_per_rank_the_resources_requeue_and_an_early_signal()
    {
        var script = SlurmScript.Render(Options(["riverbed", "score", "in/", "--output", "out", "--world-size", "3"]));
        var directives = script.Split('\n').Where(line => line.StartsWith("#SBATCH ", StringComparison.Ordinal)).Select(line => line[8..]).ToList();
        Assert.Equal(
            [
                "--job-name=riverbed", "--array=0-2", "--ntasks=1", "--cpus-per-task=8", "--mem=32G", "--gres=gpu:1", "--time=04:00:00",
                "--partition=gpu", "--requeue", "--signal=B:TERM@75", "--open-mode=append", $"--chdir={_scratch.Path}",
                $"--output={Path.Combine(Output, ".riverbed", "logs", "slurm-%A_%a.out")}", "--constraint=ib",
            ],
            directives);
        // sbatch stops reading directives at the first command, so they must all come before it.
        var lines = script.Split('\n');
        var lastDirective = Array.FindLastIndex(lines, line => line.StartsWith("#SBATCH", StringComparison.Ordinal));
        var firstCommand = Array.FindIndex(lines, line => line.Length > 0 && !line.StartsWith('#'));
        Assert.True(lastDirective < firstCommand);
        Assert.Equal(0, Bash(["-n", WriteScript(script)], new Dictionary<string, string>()).ExitCode);
    }

    [Fact]
    public void A_task_submits_the_merge_job_once_runs_the_worker_with_its_arguments_intact_and_exits_with_its_code()
    {
        var worker = FakeWorker();
        var awkward = "it's a \"quoted\" $HOME `arg` with spaces";
        var script = WriteScript(SlurmScript.Render(Options([worker, "score", awkward, "--output", Output, "--world-size", "3"])));

        var first = Bash([script], Slurm(taskId: 0, exitCode: 0));
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(["score", awkward, "--output", Output, "--world-size", "3"], File.ReadAllLines(_scratch.File("worker-args-0")));
        var submissions = File.ReadAllLines(_scratch.File("sbatch.log"));
        var merge = Assert.Single(submissions);
        Assert.Contains("--dependency=afterany:777", merge, StringComparison.Ordinal);
        Assert.Contains($"--wrap=/opt/riverbed/riverbed merge-stats {Output}", merge, StringComparison.Ordinal);
        Assert.Contains("--partition=gpu", merge, StringComparison.Ordinal);
        Assert.Equal("4242", File.ReadAllText(Path.Combine(Output, ".riverbed", "merge-jobs", "777", "job-id")).Trim());

        var second = Bash([script], Slurm(taskId: 1, exitCode: 3));
        Assert.Equal(3, second.ExitCode);
        Assert.Single(File.ReadAllLines(_scratch.File("sbatch.log")));
        Assert.False(File.Exists(_scratch.File("scontrol.log")));
    }

    [Fact]
    public void An_interrupted_worker_makes_the_task_requeue_itself_a_bounded_number_of_times()
    {
        var script = WriteScript(SlurmScript.Render(Options([FakeWorker(), "score"])));
        Assert.Equal(130, Bash([script], Slurm(taskId: 2, exitCode: 130)).ExitCode);
        Assert.Equal(["requeue 777_2"], File.ReadAllLines(_scratch.File("scontrol.log")));

        var exhausted = Slurm(taskId: 2, exitCode: 130);
        exhausted["SLURM_RESTART_COUNT"] = "2";
        Assert.Equal(130, Bash([script], exhausted).ExitCode);
        Assert.Single(File.ReadAllLines(_scratch.File("scontrol.log")));
    }

    [Theory]
    [InlineData("COMPLETING")]
    [InlineData("CANCELLED")]
    [InlineData("")]
    public void A_task_the_curator_cancelled_is_not_requeued_even_though_its_worker_was_interrupted(string state)
    {
        // Plain scancel sends SIGTERM too, so the worker exits 130 as after a time-limit warning; only Slurm's state
        // tells them apart (an empty answer: squeue no longer knows the task, or cannot reach the controller).
        var script = WriteScript(SlurmScript.Render(Options([FakeWorker(), "score"])));
        var cancelled = Slurm(taskId: 1, exitCode: 130);
        cancelled["FAKE_JOB_STATE"] = state;
        var run = Bash([script], cancelled);
        Assert.Equal(130, run.ExitCode);
        Assert.False(File.Exists(_scratch.File("scontrol.log")), run.Output);
        Assert.Contains("not requeueing", run.Output, StringComparison.Ordinal);
        Assert.Equal(["-h", "-j", "777_1", "-o", "%T"], File.ReadAllText(_scratch.File("squeue.log")).Trim().Split(' '));
    }

    [Fact]
    public void Sigterm_to_the_batch_shell_reaches_the_worker_and_its_exit_code_comes_back()
    {
        var script = WriteScript(SlurmScript.Render(Options([FakeWorker(), "score"])));
        var environment = Slurm(taskId: 0, exitCode: 0);
        environment["FAKE_WORKER_WAIT"] = "1";
        using var process = Process.Start(BashInfo([script], environment))!;
        var started = _scratch.File("worker-started-0");
        // The waits below are hang guards only: the worker waits for its signal as long as it takes to come, and the
        // batch shell passes on a signal that arrives before it has noted the worker's pid, so nothing here is a race.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(started) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.True(File.Exists(started), "the worker did not start");
        Assert.Equal(0, Kill(process.Id, "TERM"));
        Assert.True(process.WaitForExit(120_000));
        Assert.Equal(130, process.ExitCode);
        Assert.Equal(["TERM"], File.ReadAllLines(_scratch.File("worker-got-term-0")));
        Assert.Equal(["requeue 777_0"], File.ReadAllLines(_scratch.File("scontrol.log")));
    }

    [Fact]
    public void When_slurm_signals_the_worker_itself_the_shell_adds_no_second_sigterm_and_does_not_requeue()
    {
        // scancel and scontrol requeue signal every process of the task; a forwarded copy would be the worker's
        // "second signal" (abandon the shard at once), and requeueing would undo the cancel.
        var script = WriteScript(SlurmScript.Render(Options([FakeWorker(), "score"])));
        var environment = Slurm(taskId: 0, exitCode: 0);
        environment["FAKE_WORKER_WAIT"] = "1";
        environment["FAKE_JOB_STATE"] = "COMPLETING";
        using var process = Process.Start(BashInfo([script], environment))!;
        var started = _scratch.File("worker-started-0");
        // Hang guards only (see above); the started file appears with the worker's pid already in it.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(started) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        var worker = int.Parse(File.ReadAllText(started).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, Kill(worker, "TERM"));
        Assert.Equal(0, Kill(process.Id, "TERM"));
        Assert.True(process.WaitForExit(120_000));
        Assert.Equal(130, process.ExitCode);
        Assert.Equal(["TERM"], File.ReadAllLines(_scratch.File("worker-got-term-0")));
        Assert.False(File.Exists(_scratch.File("scontrol.log")));
    }

    [Theory]
    [InlineData("4:00")]
    [InlineData("2-00:00:00")]
    [InlineData("90")]
    public void Slurm_time_formats_are_accepted(string time) =>
        Assert.Contains($"#SBATCH --time={time}\n", SlurmScript.Render(Options(["x"]).With(time)), StringComparison.Ordinal);

    [Fact]
    public void Bad_values_are_refused_before_they_reach_the_header()
    {
        Assert.Throws<RiverbedException>(() => SlurmScript.Render(Options(["x"]).With("four hours")));
        Assert.Throws<RiverbedException>(() => SlurmScript.Render(new SlurmJobOptions
        {
            Command = ["x"], MergeCommand = ["y"], Tasks = 1, OutputFolder = Output, WorkingDirectory = _scratch.Path, Partition = "gpu #2",
        }));
        Assert.Throws<RiverbedException>(() => SlurmScript.Render(new SlurmJobOptions
        {
            Command = ["x"], MergeCommand = ["y"], Tasks = 0, OutputFolder = Output, WorkingDirectory = _scratch.Path,
        }));
    }

    private string WriteScript(string text)
    {
        var path = _scratch.File("job.sbatch");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A worker that records its arguments and exits with FAKE_EXIT, or waits for SIGTERM and exits 130.</summary>
    private string FakeWorker()
    {
        var path = _scratch.File("worker.sh");
        File.WriteAllText(path, $$"""
            #!/bin/bash
            dir={{ShellQuote.Word(_scratch.Path)}}
            printf '%s\n' "$@" > "$dir/worker-args-$SLURM_ARRAY_TASK_ID"
            if [ -n "${FAKE_WORKER_WAIT:-}" ]; then
              # Counts every SIGTERM it gets (one line each), and exits 130 a second after the first. It waits up to
              # five minutes for one (a hang guard, not a deadline a loaded machine could miss); the started file
              # appears, pid and all (renamed into place), only once the trap is set.
              got=
              trap 'echo TERM >> "$dir/worker-got-term-$SLURM_ARRAY_TASK_ID"; got=1' TERM
              echo $$ > "$dir/.worker-started-$SLURM_ARRAY_TASK_ID"
              mv "$dir/.worker-started-$SLURM_ARRAY_TASK_ID" "$dir/worker-started-$SLURM_ARRAY_TASK_ID"
              for i in $(seq 6000); do
                sleep 0.05
                if [ -n "$got" ]; then sleep 1; exit 130; fi
              done
              exit 0
            fi
            exit "$FAKE_EXIT"
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var bin = _scratch.File("bin");
        Directory.CreateDirectory(bin);
        // squeue answers the task's state as Slurm would: RUNNING unless the test says it was cancelled.
        foreach (var (tool, reply) in new[] { ("sbatch", "echo 4242"), ("scontrol", "true"), ("squeue", "echo \"${FAKE_JOB_STATE-RUNNING}\"") })
        {
            var fake = Path.Combine(bin, tool);
            File.WriteAllText(fake, $"#!/bin/bash\necho \"$*\" >> {ShellQuote.Word(_scratch.File(tool + ".log"))}\n{reply}\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    private Dictionary<string, string> Slurm(int taskId, int exitCode) => new()
    {
        ["SLURM_ARRAY_JOB_ID"] = "777",
        ["SLURM_ARRAY_TASK_ID"] = taskId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SLURM_ARRAY_TASK_COUNT"] = "3",
        ["FAKE_EXIT"] = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PATH"] = _scratch.File("bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
    };

    private ProcessStartInfo BashInfo(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _scratch.Path };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        return info;
    }

    private (int ExitCode, string Output) Bash(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        using var process = Process.Start(BashInfo(arguments, environment))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "the script did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }

    private static int Kill(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        return kill.ExitCode;
    }
}

internal static class SlurmJobOptionsExtensions
{
    public static SlurmJobOptions With(this SlurmJobOptions options, string time) => new()
    {
        Command = options.Command,
        MergeCommand = options.MergeCommand,
        Tasks = options.Tasks,
        OutputFolder = options.OutputFolder,
        WorkingDirectory = options.WorkingDirectory,
        TimeLimit = time,
    };
}
