using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Riverbed.Runner.Tests.Slurm;

/// <summary>
/// A real single-node Slurm cluster (slurmctld, slurmd, munged from Debian's packages) started once for the Slurm test
/// collection by <c>tests/slurm/cluster.sh</c> and stopped when the collection ends, whether its tests passed or not.
/// Where <c>cluster.sh check</c> says this machine cannot run one (no root, no apt), <see cref="SkipReason"/> says why
/// and the tests skip themselves with it; a cluster that should start but does not is a failure, not a skip.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    /// <summary>Seconds after release that a held requeue may start (see <see cref="ReleaseHeldRequeues"/>).</summary>
    private const int RequeueDelaySeconds = 3;

    private readonly string? _state;
    private readonly string? _startError;
    private readonly Dictionary<string, DateTime> _released = [];

    public SlurmCluster()
    {
        var check = RunScript("check");
        if (check.ExitCode != 0)
        {
            SkipReason = $"Slurm tests need a machine that can run a one-node cluster: {check.Output.Trim()}";
            return;
        }
        _state = Path.Combine(Path.GetTempPath(), "riverbed-slurm", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_state);
        var start = RunScript("start", _state);
        var line = start.Output.Split('\n').FirstOrDefault(l => l.StartsWith("export SLURM_CONF=", StringComparison.Ordinal));
        if (start.ExitCode != 0 || line is null)
        {
            _startError = $"tests/slurm/cluster.sh start failed (exit {start.ExitCode}):\n{start.Output}";
            return;
        }
        SlurmConf = line["export SLURM_CONF=".Length..].Trim();
    }

    /// <summary>Why the tests cannot run here, or null when they can.</summary>
    public string? SkipReason { get; }

    public string? SlurmConf { get; }

    public string StateFolder => _state ?? throw new InvalidOperationException("no cluster");

    /// <summary>Skips the calling test where no cluster can run; fails it when the cluster should have started but did not.</summary>
    public void Require()
    {
        Skip.If(SkipReason is not null, SkipReason);
        Assert.True(_startError is null, _startError);
    }

    /// <summary>Runs a Slurm client command (sbatch, squeue, scontrol, scancel) against this cluster.</summary>
    public (int ExitCode, string Output) Client(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["SLURM_CONF"] = SlurmConf;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not return");
        }
        return (process.ExitCode, output.Result + error.Result);
    }

    /// <summary>Submits a batch script from <paramref name="workingDirectory"/>; returns the job id.</summary>
    public string Submit(string script, string workingDirectory, params string[] extra)
    {
        var info = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        info.ArgumentList.Add("--parsable");
        foreach (var argument in extra)
        {
            info.ArgumentList.Add(argument);
        }
        info.ArgumentList.Add(script);
        info.Environment["SLURM_CONF"] = SlurmConf;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"sbatch failed: {output}{error}");
        return output.Trim().Split(';')[0];
    }

    /// <summary>Every job still known to squeue (pending or running), e.g. "7_1 RUNNING".</summary>
    public IReadOnlyList<(string Id, string State)> Queue()
    {
        var (code, output) = Client("squeue", "-h", "-o", "%i %T");
        Assert.True(code == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .Select(parts => (parts[0], parts.Length > 1 ? parts[1].Trim() : string.Empty))
            .ToList();
    }

    /// <summary>Waits until no job of this cluster is pending or running, releasing requeued tasks held by Slurm's requeue delay.</summary>
    public void WaitUntilIdle(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var queue = Queue();
            if (queue.Count == 0)
            {
                return;
            }
            ReleaseHeldRequeues();
            Thread.Sleep(500);
        }
        throw new TimeoutException($"Slurm jobs still queued after {timeout.TotalSeconds:0} s:\n{string.Join('\n', Queue())}\n{Logs()}");
    }

    /// <summary>
    /// A requeued job waits about two minutes (its BeginTime) before it may start again; tests cannot afford that, so
    /// held requeues are made eligible a few seconds later. Not at once: slurmd refuses to launch a job in the same
    /// second its old credential was revoked ("Job credential revoked", the task then fails with exit 1), which is what
    /// Slurm's own delay protects against. Nothing else about the requeue changes.
    /// </summary>
    public void ReleaseHeldRequeues()
    {
        var (_, output) = Client("squeue", "-h", "-t", "PENDING", "-o", "%i %r");
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[1].Trim() == "BeginTime" && !RecentlyReleased(parts[0]))
            {
                Client("scontrol", "update", $"JobId={parts[0]}", $"StartTime=now+{RequeueDelaySeconds}");
                _released[parts[0]] = DateTime.UtcNow;
            }
        }
    }

    /// <summary>Released and still within its short delay: releasing it again would only push its start back.</summary>
    private bool RecentlyReleased(string job) =>
        _released.TryGetValue(job, out var when) && DateTime.UtcNow - when < TimeSpan.FromSeconds(RequeueDelaySeconds + 5);

    /// <summary>scontrol's view of a job (state, exit code, restarts); finished jobs stay known for MinJobAge (300 s).</summary>
    public string Show(string jobId) => Client("scontrol", "show", "job", jobId).Output;

    /// <summary>The daemons' logs, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        if (_state is not null)
        {
            foreach (var log in Directory.EnumerateFiles(Path.Combine(_state, "log")))
            {
                var lines = File.ReadAllLines(log);
                text.Append(CultureInfo.InvariantCulture, $"--- {log} (last 20 lines)\n");
                foreach (var line in lines.TakeLast(20))
                {
                    text.Append(line).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    public void Dispose()
    {
        if (_state is null)
        {
            return;
        }
        if (SlurmConf is not null)
        {
            // Jobs of a failed test must not outlive the cluster (their processes would keep running).
            Client("scancel", "--full", "--user=" + Environment.UserName);
        }
        var stop = RunScript("stop", _state);
        if (stop.ExitCode != 0)
        {
            Console.Error.WriteLine($"tests/slurm/cluster.sh stop failed: {stop.Output}");
            return; // keep the state folder: its pid files and logs are what is needed to clean up by hand
        }
        // The daemons' logs already went into any failure message; a stopped cluster's folder is only litter.
        Directory.Delete(_state, recursive: true);
    }

    private static (int ExitCode, string Output) RunScript(params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "tests", "slurm", "cluster.sh"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "cluster.sh did not finish within 5 minutes");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}

[CollectionDefinition(Name)]
public sealed class SlurmCollection : ICollectionFixture<SlurmCluster>
{
    public const string Name = "Slurm cluster";
}
