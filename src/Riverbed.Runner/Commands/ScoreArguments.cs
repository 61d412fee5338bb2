using System.Globalization;

namespace Riverbed.Runner.Commands;

/// <summary>
/// The <c>riverbed score</c> arguments a job spec runs, as given after <c>--</c> to <c>riverbed emit</c>: kept verbatim for
/// the worker's command line, and read for what the spec needs to know (the output folder, the grace period, the
/// device). The rank options are the spec's to set, so they are refused here.
/// </summary>
internal sealed record ScoreArguments(IReadOnlyList<string> Tokens, string Output, int GraceSeconds, string? Device)
{
    private static readonly string[] SetByTheSpec = ["--rank", "--world-size", "--shard-list", "--force-reassign"];

    public static ScoreArguments Parse(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count > 0 && tokens[0] == "score")
        {
            tokens = tokens.Skip(1).ToList();
        }
        string? output = null;
        string? device = null;
        var grace = Sharding.WorkerDefaults.GraceSeconds;
        for (var i = 0; i < tokens.Count; i++)
        {
            var (name, inline) = Split(tokens[i]);
            if (SetByTheSpec.Contains(name, StringComparer.Ordinal))
            {
                throw new RiverbedException(
                    $"'{name}' is set by the job spec (ranks come from the scheduler); leave it out of the score arguments (use emit's --tasks and --force-reassign)");
            }
            if (name is "--output" or "-o" or "--grace" or "--device")
            {
                var value = inline ?? (i + 1 < tokens.Count ? tokens[++i] : throw new RiverbedException($"score argument {name} needs a value"));
                switch (name)
                {
                    case "--grace":
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out grace))
                        {
                            throw new RiverbedException($"score argument --grace '{value}' is not a whole number of seconds");
                        }
                        break;
                    case "--device":
                        device = value;
                        break;
                    default:
                        output = value;
                        break;
                }
            }
        }
        if (output is null)
        {
            throw new RiverbedException("the score arguments after '--' name no --output folder; the job spec needs it to find the work left and to place its logs");
        }
        return new ScoreArguments(tokens, output, grace, device);
    }

    private static (string Name, string? Inline) Split(string token)
    {
        if (token.StartsWith("--", StringComparison.Ordinal))
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? (token, null) : (token[..equals], token[(equals + 1)..]);
        }
        return (token, null);
    }
}
