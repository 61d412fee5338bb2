using System.Diagnostics;
using System.Text;

namespace Riverbed.Runner.Tests;

/// <summary>The result of one <c>riverbed</c> process.</summary>
internal sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string AllOutput => StandardOutput + StandardError;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>
/// Runs the real <c>riverbed</c> CLI as a child process (the build copies riverbed.dll beside the tests), so tests see
/// exactly what a user sees: arguments, exit codes, stdout and stderr.
/// </summary>
internal static class Cli
{
    public static string RiverbedDll => Path.Combine(AppContext.BaseDirectory, "riverbed.dll");

    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? TestPaths.RepositoryRoot,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(RiverbedDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // Plain, predictable output: no colours, no live progress bars.
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        return info;
    }

    public static CliResult Run(params string[] arguments) => Run(arguments, standardInput: null);

    public static CliResult Run(IEnumerable<string> arguments, string? standardInput = null, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(arguments, workingDirectory, environment))
            ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"riverbed {string.Join(' ', arguments)} did not finish in time");
        }
        return new CliResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
