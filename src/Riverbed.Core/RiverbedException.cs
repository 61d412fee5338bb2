namespace Riverbed;

/// <summary>
/// Base of every error Riverbed reports to a user on purpose: bad input, a model that breaks its contract, a missing
/// library. The message is complete on its own (it names the file, line or field), so the CLI prints it without a
/// stack trace. Anything else that escapes is a bug and is printed in full.
/// </summary>
public class RiverbedException : Exception
{
    public RiverbedException()
    {
    }

    public RiverbedException(string message)
        : base(message)
    {
    }

    public RiverbedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
