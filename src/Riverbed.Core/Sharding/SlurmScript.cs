using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Riverbed.Sharding;

/// <summary>What a Slurm array job for a Riverbed run looks like.</summary>
public sealed partial class SlurmJobOptions
{
    /// <summary>
    /// The worker's command line (program and arguments, including <c>--world-size</c> and any <c>--shard-list</c>, but no
    /// rank: each task takes it from SLURM_ARRAY_TASK_ID).
    /// </summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The merge-stats command line run by the dependent job once every array task has ended.</summary>
    public required IReadOnlyList<string> MergeCommand { get; init; }

    /// <summary>Array tasks, one per rank (0 … Tasks-1).</summary>
    public required int Tasks { get; init; }

    /// <summary>The output folder, absolute: the merge job's guard and the logs live under its control folder.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Where the tasks run (<c>#SBATCH --chdir</c>); relative paths in the commands are relative to it.</summary>
    public required string WorkingDirectory { get; init; }

    public string JobName { get; init; } = "riverbed";

    /// <summary>GPUs per task (<c>--gres=gpu:N</c>); 0 runs on CPUs.</summary>
    public int GpusPerTask { get; init; }

    /// <summary>The GPU type for <c>--gres=gpu:TYPE:N</c>, when the cluster names them (e.g. a100).</summary>
    public string? GpuType { get; init; }

    public int? CpusPerTask { get; init; }

    /// <summary>Memory per task, as Slurm writes it (e.g. 32G).</summary>
    public string? Memory { get; init; }

    /// <summary>Time limit per task, as Slurm writes it ([D-]HH:MM:SS or minutes).</summary>
    public string? TimeLimit { get; init; }

    public string? Partition { get; init; }

    public string? Account { get; init; }

    public string? Qos { get; init; }

    /// <summary>Seconds the worker has to stop after SIGTERM (its <c>--grace</c>); the time-limit signal comes this much earlier, plus a margin.</summary>
    public int GraceSeconds { get; init; } = 30;

    /// <summary>How often a task that was interrupted (exit code <see cref="InterruptedExitCode"/>) requeues itself.</summary>
    public int MaxRequeues { get; init; } = 3;

    /// <summary>The worker's exit code for "stopped by a signal, rerun to finish".</summary>
    public int InterruptedExitCode { get; init; } = 130;

    /// <summary>Extra lines for the header, each becoming <c>#SBATCH {line}</c> (e.g. <c>--constraint=ib</c>).</summary>
    public IReadOnlyList<string> ExtraDirectives { get; init; } = [];

    /// <summary>A comment line describing what the job covers (shown at the top of the script).</summary>
    public string? Summary { get; init; }

    public void Validate()
    {
        if (Tasks < 1)
        {
            throw new RiverbedException("a Slurm job needs at least one array task");
        }
        if (GpusPerTask < 0)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Gpus)} cannot be negative");
        }
        if (TimeLimit is { } time && !SlurmTime().IsMatch(time))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.TimeLimit)} '{time}' is not a Slurm time limit (MM, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)");
        }
        if (GraceSeconds < 0)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Grace)} cannot be negative");
        }
        foreach (var (name, value) in new[] { (Setting.SlurmJobName, JobName), (Setting.Partition, Partition), (Setting.Account, Account), (Setting.Qos, Qos), (Setting.Memory, Memory), (Setting.GpuType, GpuType) })
        {
            if (value is not null && (value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '\'' or '"' or '#')))
            {
                throw new RiverbedException($"{SettingNames.Of(name)} '{value}' cannot go on an #SBATCH line (empty, or spaces, quotes or '#')");
            }
        }
        foreach (var line in ExtraDirectives)
        {
            if (!line.StartsWith('-') || line.Any(char.IsControl))
            {
                throw new RiverbedException($"{SettingNames.Of(Setting.Sbatch)} '{line}' is not an sbatch option (it must start with '-' and be on one line)");
            }
        }
    }

    [GeneratedRegex(@"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$", RegexOptions.CultureInvariant)]
    private static partial Regex SlurmTime();
}

/// <summary>
/// Writes an sbatch script for a Slurm job array: one task per rank, the resources asked for, <c>--requeue</c>, a
/// time-limit signal to the batch shell early enough for the worker's grace period, and a merge-stats job that
/// depends on the whole array (<c>afterany</c>). The batch shell runs the worker in the background and forwards
/// SIGTERM to it (a shell running a foreground command would hold the signal until the command ends); a worker that
/// stops because of the signal exits with the interrupted code, and the task requeues itself, a bounded number of
/// times, so the rerun picks up where the committed shards end. Only a task Slurm still calls RUNNING requeues
/// itself: plain <c>scancel</c> also sends SIGTERM (the worker then exits with the interrupted code too), but by then
/// the task is COMPLETING, and requeueing it would undo the curator's cancel (seen on Slurm 22.05). For the same reason
/// the shell forwards a signal only while the task is RUNNING: when Slurm cancels or requeues it, Slurm has signalled
/// the worker itself, and a forwarded copy would count as the worker's "second signal: stop at once".
/// </summary>
public static class SlurmScript
{
    /// <summary>Seconds between the time-limit signal and the start of the worker's grace period.</summary>
    public const int SignalMarginSeconds = 30;

    public static string Render(SlurmJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var control = Path.Combine(options.OutputFolder, ControlFiles.FolderName);
        var logs = Path.Combine(control, "logs");
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("# Riverbed job array, written by `riverbed emit slurm`.\n");
        if (options.Summary is { } summary)
        {
            s.Append("# ").Append(summary.ReplaceLineEndings(" ")).Append('\n');
        }
        s.Append("# Submit with `sbatch THIS_FILE`; the first task to start submits the merge-stats job (afterany on the array).\n");
        s.Append("# Progress: `riverbed status ").Append(ShellQuote.Word(options.OutputFolder)).Append("` (exit 0 when every shard is complete).\n");
        Directive(s, $"--job-name={options.JobName}");
        Directive(s, Invariant($"--array=0-{options.Tasks - 1}"));
        Directive(s, "--ntasks=1");
        if (options.CpusPerTask is { } cpus)
        {
            Directive(s, Invariant($"--cpus-per-task={cpus}"));
        }
        if (options.Memory is { } memory)
        {
            Directive(s, $"--mem={memory}");
        }
        if (options.GpusPerTask > 0)
        {
            Directive(s, options.GpuType is { } type ? Invariant($"--gres=gpu:{type}:{options.GpusPerTask}") : Invariant($"--gres=gpu:{options.GpusPerTask}"));
        }
        if (options.TimeLimit is { } time)
        {
            Directive(s, $"--time={time}");
        }
        if (options.Partition is { } partition)
        {
            Directive(s, $"--partition={partition}");
        }
        if (options.Account is { } account)
        {
            Directive(s, $"--account={account}");
        }
        if (options.Qos is { } qos)
        {
            Directive(s, $"--qos={qos}");
        }
        Directive(s, "--requeue");
        Directive(s, Invariant($"--signal=B:TERM@{options.GraceSeconds + SignalMarginSeconds}"));
        Directive(s, "--open-mode=append");
        Directive(s, $"--chdir={DirectivePath(options.WorkingDirectory)}");
        Directive(s, $"--output={DirectivePath(Path.Combine(logs, "slurm-%A_%a.out"))}");
        foreach (var extra in options.ExtraDirectives)
        {
            Directive(s, extra);
        }
        s.Append('\n');
        s.Append("set -u\n");
        s.Append("control=").Append(ShellQuote.Word(control)).Append('\n');
        s.Append("echo \"riverbed: array task ${SLURM_ARRAY_TASK_ID} of ${SLURM_ARRAY_TASK_COUNT} (job ${SLURM_ARRAY_JOB_ID}), restart ${SLURM_RESTART_COUNT:-0}, host $(hostname), CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-none}\"\n");
        s.Append('\n');
        s.Append("# The merge-stats job, once per array job: whichever task starts first submits it (mkdir is atomic).\n");
        s.Append("mkdir -p \"$control/merge-jobs\"\n");
        s.Append("if mkdir \"$control/merge-jobs/${SLURM_ARRAY_JOB_ID}\" 2>/dev/null; then\n");
        var merge = new List<string>
        {
            "sbatch", "--parsable", $"--job-name={options.JobName}-merge-stats",
            "--dependency=afterany:${SLURM_ARRAY_JOB_ID}", "--kill-on-invalid-dep=yes", "--ntasks=1",
            $"--chdir={options.WorkingDirectory}", $"--output={Path.Combine(logs, "slurm-%j-merge-stats.out")}",
        };
        if (options.TimeLimit is not null)
        {
            merge.Add("--time=00:30:00");
        }
        if (options.Partition is { } mergePartition)
        {
            merge.Add($"--partition={mergePartition}");
        }
        if (options.Account is { } mergeAccount)
        {
            merge.Add($"--account={mergeAccount}");
        }
        if (options.Qos is { } mergeQos)
        {
            merge.Add($"--qos={mergeQos}");
        }
        s.Append("  sbatch --parsable");
        foreach (var argument in merge.Skip(2))
        {
            s.Append(" \\\n    ").Append(argument.Contains("${SLURM_ARRAY_JOB_ID}", StringComparison.Ordinal)
                ? "\"" + argument + "\""
                : ShellQuote.Word(argument));
        }
        s.Append(" \\\n    --wrap=").Append(ShellQuote.Word(ShellQuote.Line(options.MergeCommand)));
        s.Append(" \\\n    > \"$control/merge-jobs/${SLURM_ARRAY_JOB_ID}/job-id\" \\\n");
        s.Append("    || echo \"riverbed: could not submit the merge-stats job; run it yourself: \"").Append(ShellQuote.Word(ShellQuote.Line(options.MergeCommand))).Append(" >&2\n");
        s.Append("fi\n");
        s.Append('\n');
        if (options.GpusPerTask > 0)
        {
            s.Append("# Slurm restricts CUDA_VISIBLE_DEVICES to the task's GPUs, which CUDA then numbers from 0 (hence --device cuda:0).\n");
        }
        s.Append("# Slurm's view of this task: RUNNING, or COMPLETING/CANCELLED/REQUEUED once Slurm itself is ending it.\n");
        s.Append("task_state() { squeue -h -j \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\" -o %T 2>/dev/null; }\n");
        s.Append("# A warning SIGTERM (the time limit's --signal, `scancel --batch --signal=TERM`) reaches only this shell: pass it on.\n");
        s.Append("# When Slurm cancels or requeues the task it signals every process itself, the worker included; a second SIGTERM\n");
        s.Append("# from here would make the worker abandon its shard at once instead of using its grace period.\n");
        s.Append(Invariant($"# The worker stops taking shards, finishes or abandons the one in flight within {options.GraceSeconds} s, and exits {options.InterruptedExitCode}.\n"));
        s.Append("worker=\n");
        s.Append("signalled=\n");
        s.Append("forward() {\n");
        s.Append("  signalled=1\n");
        s.Append("  [ -n \"$worker\" ] || return 0\n");
        s.Append("  case \"$(task_state)\" in\n");
        s.Append("    RUNNING|'') kill -TERM \"$worker\" 2>/dev/null ;;\n");
        s.Append("  esac\n");
        s.Append("}\n");
        s.Append("trap forward TERM INT USR1\n");
        s.Append(ShellQuote.Line(options.Command)).Append(" &\n");
        s.Append("worker=$!\n");
        s.Append("# A signal that came before the worker's pid was known is passed on now.\n");
        s.Append("if [ -n \"$signalled\" ]; then forward; fi\n");
        s.Append("# `wait` returns early when a trapped signal arrives; wait again until the worker itself has ended.\n");
        s.Append("status=127\n");
        s.Append("while :; do\n");
        s.Append("  signalled=\n");
        s.Append("  wait \"$worker\"; code=$?\n");
        s.Append("  [ \"$code\" -ne 127 ] && status=$code\n");
        s.Append("  [ -z \"$signalled\" ] && break\n");
        s.Append("done\n");
        s.Append("echo \"riverbed: worker exited with $status\"\n");
        s.Append(Invariant($"if [ \"$status\" -eq {options.InterruptedExitCode} ]; then\n"));
        s.Append("  # After a warning the task is still RUNNING: requeue it. A task Slurm is ending was cancelled (it must stay\n");
        s.Append("  # cancelled) or is being requeued by Slurm already; an unknown state is left alone too.\n");
        s.Append("  state=$(task_state)\n");
        s.Append("  if [ \"$state\" != RUNNING ]; then\n");
        s.Append("    echo \"riverbed: not requeueing: Slurm has this task as ${state:-gone} (cancelled, or requeued by Slurm itself)\"\n");
        s.Append(Invariant($"  elif [ \"${{SLURM_RESTART_COUNT:-0}}\" -ge {options.MaxRequeues} ]; then\n"));
        s.Append(Invariant($"    echo \"riverbed: not requeueing: already restarted {options.MaxRequeues} time(s); rerun with riverbed emit slurm\"\n"));
        s.Append("  else\n");
        s.Append("    # Interrupted: committed shards are kept; requeue this task so the rest is done.\n");
        s.Append("    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n");
        s.Append("  fi\n");
        s.Append("fi\n");
        s.Append("exit \"$status\"\n");
        return s.ToString();
    }

    private static void Directive(StringBuilder s, string option) => s.Append("#SBATCH ").Append(option).Append('\n');

    /// <summary>#SBATCH values are not shell-parsed: a path with spaces or '%' would be misread, so it is refused.</summary>
    private static string DirectivePath(string path)
    {
        if (path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '\'' or '"'))
        {
            throw new RiverbedException($"the path '{path}' cannot go on an #SBATCH line (spaces or quotes); use a folder without them");
        }
        return path;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>POSIX shell quoting: every word in single quotes unless it is plainly safe.</summary>
public static class ShellQuote
{
    public static string Word(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or ',' or '+' or '@' or '%'))
        {
            return word;
        }
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    public static string Line(IEnumerable<string> words) => string.Join(' ', words.Select(Word));
}
