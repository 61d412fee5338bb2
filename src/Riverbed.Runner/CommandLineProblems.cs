using System.CommandLine;

namespace Riverbed.Runner;

/// <summary>
/// Everything wrong with a parsed command line: the parser's errors, plus option-like words the parser took as
/// positional values. System.CommandLine hands an unknown `--flag` to a command's positional argument when it has one
/// (inputs, folders), so `riverbed inspect --no-such-flag` would look for a file of that name and fail with exit 1,
/// and a typo in the score arguments of `emit` would slip into the job. A word starting with '-' before '--' is an
/// unknown option; a file whose name starts with '-' can still be named after '--'.
/// </summary>
internal static class CommandLineProblems
{
    public static IReadOnlyList<string> Of(ParseResult parse)
    {
        var problems = new List<string>();
        var tokens = parse.Tokens;
        var dash = tokens.Count;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Type == System.CommandLine.Parsing.TokenType.DoubleDash)
            {
                dash = i;
                break;
            }
        }
        foreach (var argument in parse.CommandResult.Command.Arguments)
        {
            foreach (var token in parse.GetResult(argument)?.Tokens ?? [])
            {
                var at = IndexOf(tokens, token);
                if (token.Value.Length > 1 && token.Value[0] == '-' && at >= 0 && at < dash)
                {
                    problems.Add($"Unrecognized option '{token.Value}' for '{parse.CommandResult.Command.Name}' (arguments that start with '-' go after '--')");
                }
            }
        }
        problems.AddRange(parse.Errors.Select(error => error.Message));
        return problems;
    }

    private static int IndexOf(IReadOnlyList<System.CommandLine.Parsing.Token> tokens, System.CommandLine.Parsing.Token token)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (ReferenceEquals(tokens[i], token))
            {
                return i;
            }
        }
        return -1;
    }
}
