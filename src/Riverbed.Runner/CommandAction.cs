using System.CommandLine;

namespace Riverbed.Runner;

/// <summary>
/// The one place command actions turn outcomes into exit codes: a <see cref="RiverbedException"/> is a clean,
/// user-facing error; cancellation is an interruption; anything else is a bug, printed with its stack trace.
/// </summary>
internal static class CommandAction
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("riverbed: interrupted").ConfigureAwait(false);
                return ExitCodes.Interrupted;
            }
            catch (RiverbedException error)
            {
                await Console.Error.WriteLineAsync($"riverbed: error: {error.Message}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
#pragma warning disable CA1031 // The last line of defence: report the bug and exit non-zero rather than crash.
            catch (Exception error)
#pragma warning restore CA1031
            {
                await Console.Error.WriteLineAsync($"riverbed: internal error: {error}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        });

    public static void Set(Command command, Func<ParseResult, int> action) =>
        Set(command, (parseResult, _) => Task.FromResult(action(parseResult)));
}
