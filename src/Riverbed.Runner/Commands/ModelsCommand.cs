using System.CommandLine;

namespace Riverbed.Runner.Commands;

/// <summary><c>riverbed models …</c>: working with model folders.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var models = new Command("models", "Check, describe, generate and pull model folders (model.onnx, tokenizer.json, config.json).");
        models.Add(ModelsCheckCommand.Create());
        models.Subcommands.Add(ModelsGenerateCommand.Create());
        models.Subcommands.Add(ModelsPullCommand.Create());
        return models;
    }
}
