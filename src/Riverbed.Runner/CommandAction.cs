using System.CommandLine;
using System.Runtime.InteropServices;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Runner;

/// <summary>
/// The one place command actions turn outcomes into exit codes: a <see cref="UsageException"/> is a usage error (as
/// a parse error is); any other <see cref="RiverbedException"/> is a clean, user-facing error; cancellation is an
/// interruption; a full disk or a read-only output is named as such; anything else is a bug, named in one line (what
/// failed and where), with its stack trace in a log file rather than on the terminal.
/// SIGINT (Ctrl+C) and SIGTERM cancel the action's token (since .NET 10 the runtime installs no SIGTERM handler, so
/// without this a scheduler's SIGTERM would kill the process mid-write); the action then stops cleanly and exits with
/// <see cref="ExitCodes.Interrupted"/>. A second signal ends the process at once.
/// </summary>
internal static class CommandAction
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Interrupt(context, interrupted));
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Interrupt(context, interrupted));
            return await GuardAsync(() => action(parseResult, interrupted.Token), () => interrupted.IsCancellationRequested).ConfigureAwait(false);
        });

    /// <summary>
    /// For workers (<c>score</c>, <c>demo</c>): the signals go to one <see cref="GracefulStop"/> instead — the first stops
    /// intake and starts the grace period given by <paramref name="grace"/>, after which (or at a second signal) the shard
    /// in flight is abandoned. The action decides what a stop that let it finish returns; an abandoned run's
    /// cancellation becomes <see cref="ExitCodes.Interrupted"/>.
    /// </summary>
    public static void SetGraceful(Command command, Func<ParseResult, TimeSpan> grace, Func<ParseResult, GracefulStop, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var stop = new GracefulStop(grace(parseResult), message => Console.Error.WriteLine($"riverbed: {message}"), outer: cancellationToken)
            {
                ExitWhenStuck = ExitCodes.Interrupted,
            }.Register();
            return await GuardAsync(() => action(parseResult, stop), () => stop.Requested).ConfigureAwait(false);
        });

    private static async Task<int> GuardAsync(Func<Task<int>> action, Func<bool> interrupted)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupted())
        {
            await Console.Error.WriteLineAsync("riverbed: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (UsageException error)
        {
            await Console.Error.WriteLineAsync($"riverbed: {error.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync("Run 'riverbed --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (RiverbedException error)
        {
            await Console.Error.WriteLineAsync($"riverbed: error: {error.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception error) when (WriteErrors.IsDiskFull(error) || WriteErrors.IsReadOnly(error))
        {
            await Console.Error.WriteLineAsync($"riverbed: error: {WriteErrors.Describe(error, "writing the run's files")}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The last line of defence: report the bug and exit non-zero rather than crash.
        catch (Exception error)
#pragma warning restore CA1031
        {
            var where = error.TargetSite is { } site ? $" in {site.DeclaringType?.Name}.{site.Name}" : string.Empty;
            var log = WriteErrorLog(error);
            await Console.Error.WriteLineAsync(
                $"riverbed: internal error: {error.GetType().Name}{where}: {error.Message} ({(log is null ? "the details could not be logged" : $"details in {log}")}); please report it").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// The stack trace of an internal error goes to a log file (never to the terminal): RIVERBED_LOG_DIR when set, else
    /// riverbed/ under the temporary folder. Returns its path, or null when even that cannot be written.
    /// </summary>
    private static string? WriteErrorLog(Exception error)
    {
        try
        {
            var folder = Environment.GetEnvironmentVariable("RIVERBED_LOG_DIR") is { Length: > 0 } configured
                ? configured
                : Path.Combine(Path.GetTempPath(), "riverbed");
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, FormattableString.Invariant($"internal-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log"));
            File.WriteAllText(path, FormattableString.Invariant($"riverbed {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}\n{DateTime.UtcNow:O}\n{error}\n"));
            return path;
        }
        catch (Exception logging) when (logging is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Interrupt(PosixSignalContext context, CancellationTokenSource interrupted)
    {
        if (interrupted.IsCancellationRequested)
        {
            return; // The second signal: let the default action end the process.
        }
        context.Cancel = true;
        Console.Error.WriteLine($"riverbed: {context.Signal} received; stopping cleanly (committed shards are kept; send it again to end at once)");
        interrupted.Cancel();
    }

    public static void Set(Command command, Func<ParseResult, int> action) =>
        Set(command, (parseResult, _) => Task.FromResult(action(parseResult)));
}
