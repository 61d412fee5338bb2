using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Riverbed.Runner.Tests.Report.Browser;

/// <summary>
/// Debian's chromium for browser tests: found on PATH, else installed with apt-get when the tests run as root (as CI
/// does), else unavailable with the reason, which the tests report as a skip.
/// </summary>
internal static partial class Chromium
{
    private static readonly Lazy<(string? Path, string Reason)> Located = new(Locate);

    /// <summary>The chromium executable, or null with <see cref="Unavailable"/> saying why.</summary>
    public static string? Path => Located.Value.Path;

    public static string Unavailable => Located.Value.Reason;

    /// <summary>
    /// Starts a headless chromium with DevTools on a free port and everything that could make a request of its own
    /// switched off (background networking, component updates, extensions, sync, first-run pages), and every host
    /// name resolving to nothing, so even a page that tries to load something cannot reach a network.
    /// </summary>
    public static BrowserProcess Start(string userDataFolder)
    {
        var info = new ProcessStartInfo(Path ?? throw new InvalidOperationException(Unavailable))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])
        [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-extensions", "--disable-sync",
            "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
            "--no-first-run", "--no-default-browser-check", "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--remote-debugging-port=0", "--remote-allow-origins=*",
            "--user-data-dir=" + userDataFolder,
            "about:blank",
        ])
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("chromium did not start");
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                endpoint.TrySetException(new InvalidOperationException("chromium exited before DevTools listened:\n" + log));
                return;
            }
            lock (log)
            {
                log.AppendLine(line.Data);
            }
            var match = DevToolsPattern().Match(line.Data);
            if (match.Success)
            {
                endpoint.TrySetResult(match.Groups[1].Value);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!endpoint.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not open DevTools within 60 s:\n" + log);
        }
        return new BrowserProcess(process, endpoint.Task.Result);
    }

    private static (string? Path, string Reason) Locate()
    {
        if (Find() is { } found)
        {
            return (found, string.Empty);
        }
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || Find("apt-get") is null)
        {
            return (null, "chromium is not installed and cannot be installed here (installing needs root and apt-get: apt-get install -y chromium)");
        }
        var attempts = new System.Text.StringBuilder();
        foreach (var arguments in new[] { "install -y chromium", "update", "install -y chromium" })
        {
            var (exit, output) = RunApt(arguments);
            attempts.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"apt-get {arguments}: exit {exit}").AppendLine(output.Length > 1500 ? output[^1500..] : output);
            if (arguments.StartsWith("install", StringComparison.Ordinal) && exit == 0 && Find() is { } installed)
            {
                return (installed, string.Empty);
            }
        }
        return (null, "chromium is not installed and apt-get could not install it:\n" + attempts);
    }

    private static (int Exit, string Output) RunApt(string arguments)
    {
        var info = new ProcessStartInfo("apt-get", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 10 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? Find(string name = "chromium")
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(System.IO.Path.PathSeparator))
        {
            var candidate = System.IO.Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsPattern();
}

/// <summary>A running chromium and its browser-level DevTools endpoint; disposing ends it.</summary>
internal sealed class BrowserProcess(Process process, string endpoint) : IDisposable
{
    public string Endpoint { get; } = endpoint;

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }
}
