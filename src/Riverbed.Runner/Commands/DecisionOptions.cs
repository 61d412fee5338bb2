using System.CommandLine;
using Riverbed.Scoring;

namespace Riverbed.Runner.Commands;

/// <summary>
/// The decision options every command that decides accepts (score, filter, report, evaluate): <c>--threshold</c>
/// (repeatable, one per score, <c>name=off</c> switches a score's threshold off) and <c>--combine</c> (any, all, or
/// either over an explicit subset: <c>any:fill_compare_min,contradiction_max</c>). Parsed the same way everywhere.
/// </summary>
internal sealed class DecisionOptions
{
    public DecisionOptions(string combineDescription)
    {
        Thresholds = new Option<string[]>("--threshold")
        {
            Description = "A decision threshold: name=value (the score's natural direction), name<value, name>value, or name=off to switch " +
                $"that score's threshold off; repeatable, once per score. Scores: {string.Join(", ", ScoreNames.All)}. Defaults: {DecisionPolicy.Default}",
        };
        Combine = new Option<string?>("--combine")
        {
            Description = combineDescription + ". any: remove when any threshold triggers; all: only when every one does; " +
                "any:a,b or all:a,b: over the thresholds of scores a and b only (the others are off)",
        };
        // A setting the command could not use is a usage error (exit 2), found while parsing, like any other bad value.
        Thresholds.ParsesWith(values => ThresholdSetting.ParseAll(values ?? []));
        Combine.ParsesWith(text =>
        {
            if (text is not null)
            {
                CombineRule.Parse(text);
            }
        });
    }

    public Option<string[]> Thresholds { get; }

    public Option<string?> Combine { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Thresholds);
        command.Options.Add(Combine);
    }

    /// <summary>The settings given on the command line .</summary>
    public IReadOnlyList<ThresholdSetting> Settings(ParseResult parse) => ThresholdSetting.ParseAll(parse.GetValue(Thresholds) ?? []);

    /// <summary>The combine rule given, or null when none was.</summary>
    public CombineRule? Rule(ParseResult parse) => parse.GetValue(Combine) is { } text ? CombineRule.Parse(text) : null;

    /// <summary><paramref name="basePolicy"/> with the command line's thresholds and combine rule applied.</summary>
    public DecisionPolicy Apply(ParseResult parse, DecisionPolicy basePolicy)
    {
        ArgumentNullException.ThrowIfNull(basePolicy);
        return basePolicy.With(Settings(parse), Rule(parse));
    }
}
