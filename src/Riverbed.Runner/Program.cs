using System.CommandLine;
using Riverbed;
using Riverbed.Runner;

// The core names settings by identity; users of this CLI read them as the flags they type.
SettingNames.Use(SettingFlags.Flag);

var root = new RootCommand(
    "Riverbed: quality-filters instruction and chat datasets with masked-LM fills, NLI and replaced-token detection.");
foreach (var command in CommandCatalog.All())
{
    root.Add(command);
}

var parsed = root.Parse(args);
var problems = CommandLineProblems.Of(parsed);
if (problems.Count > 0)
{
    // Scripts must tell "you called it wrong" from "it ran and failed", so parse errors get their own exit code.
    foreach (var problem in problems)
    {
        await Console.Error.WriteLineAsync($"riverbed: {problem}").ConfigureAwait(false);
    }
    await Console.Error.WriteLineAsync("Run 'riverbed --help' for usage.").ConfigureAwait(false);
    return ExitCodes.Usage;
}

// CommandAction handles SIGINT and SIGTERM itself: System.CommandLine's handler would end the process two seconds
// after the signal, possibly in the middle of a clean shutdown, and with 143 rather than our Interrupted code.
return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null })
    .ConfigureAwait(false);
