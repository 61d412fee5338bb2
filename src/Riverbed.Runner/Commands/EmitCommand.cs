using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed emit slurm|k8s [options] -- SCORE ARGS…</c>: writes a scheduler job that runs <c>riverbed score SCORE ARGS</c>
/// as one rank per array task (Slurm) or pod index (Kubernetes Indexed Job). When the output folder already holds part
/// of the job, the spec covers only the incomplete shards, through a pinned shard list under the folder's control area.
/// </summary>
internal static class EmitCommand
{
    public static Command Create()
    {
        var emit = new Command("emit", "Write a Slurm array script or a Kubernetes Indexed Job that runs `riverbed score` over ranks, covering only the work left.");
        emit.Subcommands.Add(CreateSlurm());
        emit.Subcommands.Add(CreateKubernetes());
        return emit;
    }

    private sealed class Common
    {
        public Argument<string[]> ScoreArgs { get; } = new("score-args")
        {
            Description = "After '--': the `riverbed score` arguments (inputs, --models, --output, …) every rank runs",
            Arity = ArgumentArity.OneOrMore,
        };

        public Option<int?> Tasks { get; } = new("--tasks")
        {
            Description = "Ranks (array tasks or pod indexes), at most one per shard left; default: the world size recorded in the output folder",
        };

        public Option<int> Gpus { get; } = new("--gpus")
        {
            Description = "GPUs per rank (0: CPU). Each rank sees its GPU as device 0, so the worker gets --device cuda:0",
            DefaultValueFactory = _ => 0,
        };

        public Option<bool> ForceReassign { get; } = new("--force-reassign")
        {
            Description = "Pass --force-reassign to the workers (replaces the output folder's recorded assignment; only when no old worker runs)",
        };

        public void AddTo(Command command)
        {
            command.Arguments.Add(ScoreArgs);
            command.Options.Add(Tasks);
            command.Options.Add(Gpus);
            command.Options.Add(ForceReassign);
        }

        /// <summary>The score arguments, the plan of the work left, and the worker's full command line.</summary>
        public (ScoreArguments Score, WorkPlan? Plan, IReadOnlyList<string> Worker, IReadOnlyList<string> Merge) Prepare(
            ParseResult parse, IReadOnlyList<string> riverbed)
        {
            var dash = parse.Tokens.ToList().FindIndex(token => token.Type == TokenType.DoubleDash);
            if (dash < 0)
            {
                throw new RiverbedException("put the `riverbed score` arguments after '--', e.g. riverbed emit slurm --tasks 4 -- data/ --models models/ --output out/");
            }
            var given = parse.GetValue(ScoreArgs) ?? [];
            var beforeDash = given.Length - (parse.Tokens.Count - dash - 1);
            if (beforeDash > 0)
            {
                throw new UsageException(
                    $"'{string.Join(' ', given.Take(beforeDash))}' is not an option of `riverbed emit {parse.CommandResult.Command.Name}`; " +
                    "the `riverbed score` arguments go after '--'");
            }
            var score = ScoreArguments.Parse(given);
            CheckParses(score);
            var gpus = parse.GetValue(Gpus);
            if (gpus > 1)
            {
                throw new RiverbedException("a rank drives one GPU; to use more GPUs, run more ranks (--tasks) with --gpus 1");
            }
            if (gpus < 0)
            {
                throw new RiverbedException("--gpus cannot be negative");
            }
            var workingDirectory = Directory.GetCurrentDirectory();
            var tasks = parse.GetValue(Tasks);
            if (tasks is null)
            {
                var output = Path.GetFullPath(score.Output);
                tasks = (Directory.Exists(output) ? JobRecord.TryLoad(output)?.WorldSize : null)
                    ?? throw new RiverbedException($"--tasks is required: {score.Output} has no recorded world size to default to");
            }
            if (tasks < 1)
            {
                throw new RiverbedException("--tasks must be at least 1");
            }
            var plan = WorkPlanner.Plan(score.Output, workingDirectory, tasks.Value);
            if (plan is { TotalShards: 0 } fresh && MostUnits(score) is { } most && most < fresh.WorldSize)
            {
                // A fresh job: no more ranks than the inputs can have work units (a rank beyond them would find nothing to do).
                plan = fresh with { WorldSize = Math.Max(1, most) };
            }
            var worker = new List<string>(riverbed) { "score" };
            worker.AddRange(score.Tokens);
            if (plan is not null)
            {
                worker.Add("--world-size");
                worker.Add(plan.WorldSize.ToString(CultureInfo.InvariantCulture));
                if (plan.ShardListArgument is { } list)
                {
                    worker.Add("--shard-list");
                    worker.Add(list);
                }
            }
            if (gpus > 0 && score.Device is null)
            {
                worker.Add("--device");
                worker.Add("cuda:0");
            }
            if (parse.GetValue(ForceReassign))
            {
                worker.Add("--force-reassign");
            }
            var merge = new List<string>(riverbed) { "merge-stats", score.Output };
            return (score, plan, worker, merge);
        }
    }

    /// <summary>
    /// The most work units the score arguments' inputs can make, from file sizes alone (planning itself reads every file,
    /// which the machine that writes the spec need not do): a file no larger than the unit size, a compressed one, or any
    /// under --limit is one unit, a bigger one at most size / unit size + 1. Null when the inputs cannot be listed here
    /// (they may exist only where the job runs).
    /// </summary>
    private static int? MostUnits(ScoreArguments score)
    {
        var parse = new RootCommand { ScoreCommand.Create() }.Parse(["score", .. score.Tokens]);
        var unitSize = parse.GetValue<string?>("--unit-size") is { } text && UnitPlanner.TryParseSize(text, out var bytes) ? bytes : UnitPlanner.DefaultUnitSize;
        var limited = parse.GetValue<long?>("--limit") is not null;
        IReadOnlyList<ShardInput> files;
        try
        {
            files = InputResolver.Resolve(parse.GetValue<string[]>("inputs") ?? []);
        }
        catch (RiverbedException)
        {
            return null;
        }
        var most = files.Sum(file => limited || file.Compression != InputCompression.None || file.Size <= unitSize ? 1L : file.Size / unitSize + 1);
        return (int)Math.Min(int.MaxValue, most);
    }

    /// <summary>
    /// Parses the score arguments with <c>riverbed score</c>'s own parser, as every rank will: a typo here would otherwise
    /// become a job whose every task, and every retry, fails at once.
    /// </summary>
    private static void CheckParses(ScoreArguments score)
    {
        var problems = CommandLineProblems.Of(new RootCommand { ScoreCommand.Create() }.Parse(["score", .. score.Tokens]));
        if (problems.Count > 0)
        {
            throw new UsageException(
                $"the `riverbed score` arguments after '--' do not parse, so every rank would fail: {string.Join("; ", problems)}");
        }
    }

    private static Command CreateSlurm()
    {
        var common = new Common();
        var time = new Option<string?>("--time") { Description = "Time limit per task ([D-]HH:MM:SS); the worker is signalled --grace + 30 s before it" };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition" };
        var account = new Option<string?>("--account") { Description = "Slurm account" };
        var qos = new Option<string?>("--qos") { Description = "Slurm QOS" };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "CPUs per task" };
        var memory = new Option<string?>("--mem") { Description = "Memory per task (e.g. 32G)" };
        var gpuType = new Option<string?>("--gpu-type") { Description = "GPU type for --gres=gpu:TYPE:N (e.g. a100)" };
        var jobName = new Option<string>("--job-name") { Description = "Slurm job name", DefaultValueFactory = _ => "riverbed" };
        var requeues = new Option<int>("--max-requeues")
        {
            Description = "Times an interrupted task (SIGTERM: time limit, scancel, preemption) requeues itself",
            DefaultValueFactory = _ => 3,
        };
        var extra = new Option<string[]>("--sbatch") { Description = "An extra sbatch option for the header (repeatable), e.g. --sbatch=--constraint=ib" };
        var riverbed = new Option<string[]>("--riverbed") { Description = "The riverbed program the tasks run (repeat for several words); default: this riverbed" };
        var script = new Option<string?>("--script") { Description = "Write the script to this file (default: standard output)" };
        var command = new Command("slurm", "Write an sbatch script: a job array with one task per rank, requeue on interruption, and a dependent merge-stats job.");
        common.AddTo(command);
        foreach (var option in new Option[] { time, partition, account, qos, cpus, memory, gpuType, jobName, requeues, extra, riverbed, script })
        {
            command.Options.Add(option);
        }
        CommandAction.Set(command, parse =>
        {
            var launcher = parse.GetValue(riverbed) is { Length: > 0 } given ? given : ThisRiverbed();
            var (score, plan, worker, merge) = common.Prepare(parse, launcher);
            if (plan is null)
            {
                NothingLeft(score);
                return ExitCodes.Success;
            }
            var output = Path.GetFullPath(score.Output);
            var text = SlurmScript.Render(new SlurmJobOptions
            {
                Command = worker,
                MergeCommand = merge,
                Tasks = plan.WorldSize,
                OutputFolder = output,
                WorkingDirectory = Directory.GetCurrentDirectory(),
                JobName = parse.GetValue(jobName)!,
                GpusPerTask = parse.GetValue(common.Gpus),
                GpuType = parse.GetValue(gpuType),
                CpusPerTask = parse.GetValue(cpus),
                Memory = parse.GetValue(memory),
                TimeLimit = parse.GetValue(time),
                Partition = parse.GetValue(partition),
                Account = parse.GetValue(account),
                Qos = parse.GetValue(qos),
                GraceSeconds = score.GraceSeconds,
                MaxRequeues = parse.GetValue(requeues),
                InterruptedExitCode = ExitCodes.Interrupted,
                ExtraDirectives = parse.GetValue(extra) ?? [],
                Summary = plan.Describe(),
            });
            // Slurm does not create the folder of --output; a missing one fails every task before it starts.
            Directory.CreateDirectory(Path.Combine(output, ControlFiles.FolderName, "logs"));
            Write(parse.GetValue(script), text, executable: true);
            Console.Error.WriteLine($"riverbed emit slurm: {plan.Describe()}");
            Console.Error.WriteLine(parse.GetValue(script) is { } file ? $"submit with: sbatch {file}" : "submit with: sbatch FILE (after saving this script)");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateKubernetes()
    {
        var common = new Common();
        var image = new Option<string>("--image") { Description = "Container image with riverbed, its native libraries and the models", Required = true };
        var parallelism = new Option<int?>("--parallelism") { Description = "Pods running at once (default: all ranks)" };
        var cpu = new Option<string?>("--cpu") { Description = "CPU request and limit per pod (e.g. 4)" };
        var memory = new Option<string?>("--memory") { Description = "Memory request and limit per pod (e.g. 32Gi)" };
        var name = new Option<string>("--name") { Description = "Job name", DefaultValueFactory = _ => "riverbed" };
        var ns = new Option<string?>("--namespace") { Description = "Namespace" };
        var volumes = new Option<string[]>("--volume")
        {
            Description = "A PersistentVolumeClaim to mount, CLAIM:/mount/path (repeatable); the output folder must be on a shared (ReadWriteMany) volume",
        };
        var retries = new Option<int>("--retries") { Description = "Failed pods allowed per rank (interruptions and evictions do not count)", DefaultValueFactory = _ => 3 };
        var riverbed = new Option<string[]>("--riverbed") { Description = "The riverbed program inside the image (repeat for several words)", DefaultValueFactory = _ => ["riverbed"] };
        var manifest = new Option<string?>("--manifest") { Description = "Write the manifest to this file (default: standard output)" };
        var command = new Command("k8s", "Write a Kubernetes Indexed Job: completions = ranks, rank from JOB_COMPLETION_INDEX, GPU resources, a grace period matched to --grace.");
        common.AddTo(command);
        foreach (var option in new Option[] { image, parallelism, cpu, memory, name, ns, volumes, retries, riverbed, manifest })
        {
            command.Options.Add(option);
        }
        CommandAction.Set(command, parse =>
        {
            var (score, plan, worker, merge) = common.Prepare(parse, parse.GetValue(riverbed)!);
            if (plan is null)
            {
                NothingLeft(score);
                return ExitCodes.Success;
            }
            var text = KubernetesJob.Render(new KubernetesJobOptions
            {
                Command = worker,
                Completions = plan.WorldSize,
                Parallelism = parse.GetValue(parallelism),
                Image = parse.GetValue(image)!,
                Name = parse.GetValue(name)!,
                Namespace = parse.GetValue(ns),
                GpusPerPod = parse.GetValue(common.Gpus),
                Cpu = parse.GetValue(cpu),
                Memory = parse.GetValue(memory),
                GraceSeconds = score.GraceSeconds,
                RetriesPerIndex = parse.GetValue(retries),
                InterruptedExitCode = ExitCodes.Interrupted,
                UsageExitCode = ExitCodes.Usage,
                Volumes = (parse.GetValue(volumes) ?? []).Select(ParseVolume).ToList(),
                Summary = plan.Describe() + "; when the Job completes, run: " + ShellQuote.Line(merge),
            });
            Write(parse.GetValue(manifest), text, executable: false);
            Console.Error.WriteLine($"riverbed emit k8s: {plan.Describe()}");
            Console.Error.WriteLine($"apply with: kubectl apply -f {parse.GetValue(manifest) ?? "FILE"}; when it completes: {ShellQuote.Line(merge)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static KubernetesVolume ParseVolume(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            throw new RiverbedException($"--volume '{text}' is not CLAIM:/mount/path");
        }
        return new KubernetesVolume(text[..colon], text[(colon + 1)..]);
    }

    private static void NothingLeft(ScoreArguments score) =>
        Console.Error.WriteLine(
            $"riverbed emit: every shard of {score.Output} is complete; nothing to submit (run `riverbed merge-stats {score.Output}` to refresh stats.json)");

    /// <summary>The command that starts this riverbed again: the app host, or dotnet with riverbed.dll.</summary>
    private static string[] ThisRiverbed()
    {
        var process = Environment.ProcessPath ?? "riverbed";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "riverbed.dll")]
            : [process];
    }

    private static void Write(string? file, string text, bool executable)
    {
        if (file is null)
        {
            Console.Out.Write(text);
            return;
        }
        var full = Path.GetFullPath(file);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        if (executable && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(full, File.GetUnixFileMode(full) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        }
    }
}
