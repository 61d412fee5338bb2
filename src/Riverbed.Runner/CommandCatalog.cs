using System.CommandLine;

namespace Riverbed.Runner;

/// <summary>Every top-level <c>riverbed</c> command, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return Commands.ModelsCommand.Create();
        yield return Commands.InspectCommand.Create();
        yield return Commands.ConvertCommand.Create();
        yield return Commands.TokenizeCommand.Create();
        yield return Commands.ScoreCommand.Create();
        yield return Commands.FilterCommand.Create();
        yield return Commands.EvaluateCommand.Create();
        yield return Commands.DemoCommand.Create();
        yield return Commands.ReportCommand.Create();
        yield return Commands.BenchCommand.Create();
        yield return Commands.StatusCommand.Create();
        yield return Commands.EmitCommand.Create();
        yield return Commands.MergeStatsCommand.Create();
    }
}
