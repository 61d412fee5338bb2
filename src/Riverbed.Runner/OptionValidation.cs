using System.CommandLine;

namespace Riverbed.Runner;

/// <summary>
/// Makes an option's value a matter of parsing: the parser the action would use runs as a validator, so a value it
/// refuses is a usage error (exit 2, before anything runs) rather than a failure in the middle of the command.
/// </summary>
internal static class OptionValidation
{
    public static void ParsesWith<T>(this Option<T> option, Action<T> parse) =>
        option.Validators.Add(result =>
        {
            try
            {
                parse(result.GetValueOrDefault<T>()!);
            }
            catch (RiverbedException error)
            {
                result.AddError(error.Message);
            }
        });
}

/// <summary>
/// A command line that parsed but cannot be run as written (e.g. the <c>riverbed score</c> arguments <c>emit</c> was
/// given); <see cref="CommandAction"/> exits with <see cref="ExitCodes.Usage"/>, like a parse error.
/// </summary>
internal sealed class UsageException : RiverbedException
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
