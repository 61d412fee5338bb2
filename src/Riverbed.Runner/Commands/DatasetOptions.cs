using System.CommandLine;
using Riverbed.IO;

namespace Riverbed.Runner.Commands;

/// <summary>The reading options shared by <c>inspect</c> and <c>convert</c>: schema, fields and limits.</summary>
internal sealed class DatasetOptions
{
    private static readonly ReaderLimits Defaults = new();

    public Argument<string[]> Inputs { get; } = new("inputs")
    {
        Description = "Dataset files (.jsonl, .json, each also .gz, .zst or .xz; .parquet), folders (searched recursively) or globs (*, ?, **)",
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string> Schema { get; } = new("--schema")
    {
        Description = "Dataset schema; 'auto' detects it per file from the first valid record",
        DefaultValueFactory = _ => SchemaOptions.Auto,
    };

    public Option<string?> PromptField { get; } = new("--prompt-field") { Description = "generic schema: the field holding the user turn" };

    public Option<string?> ResponseField { get; } = new("--response-field") { Description = "generic schema: the field holding the assistant turn" };

    public Option<string?> SystemField { get; } = new("--system-field") { Description = "generic schema: an optional system-prompt field" };

    public Option<string?> IdField { get; } = new("--id-field") { Description = "Field holding each record's id (default: the schema's usual id field, else file#row)" };

    public Option<string[]> BotLabels { get; } = new("--bot-label")
    {
        Description = "OIG: a label that starts a bot turn at the start of a line, besides <bot>: (repeatable; default: Rosey)",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string> OasstBranches { get; } = new("--oasst-branches")
    {
        Description = "oasst trees: 'best' follows the best-ranked reply at each level; 'all' scores every branch, each with its own path as context",
        DefaultValueFactory = _ => SchemaOptions.OasstBest,
    };

    public Option<int> MaxLineBytes { get; } = new("--max-line-bytes")
    {
        Description = "Longest record (JSON Lines line or JSON array element) accepted, in bytes",
        DefaultValueFactory = _ => Defaults.MaxLineBytes,
    };

    public Option<int> MaxDepth { get; } = new("--max-depth")
    {
        Description = "Deepest nesting accepted in a record",
        DefaultValueFactory = _ => Defaults.MaxDepth,
    };

    public Option<long> MaxDecompressedBytes { get; } = new("--max-decompressed-bytes")
    {
        Description = "Most bytes a compressed (.gz, .zst, .xz) shard may decompress to (a shard over it fails)",
        DefaultValueFactory = _ => Defaults.MaxDecompressedBytes,
    };

    public void AddTo(Command command)
    {
        Schema.AcceptOnlyFromAmong([.. SchemaOptions.Names]);
        OasstBranches.AcceptOnlyFromAmong(SchemaOptions.OasstBest, SchemaOptions.OasstAll);
        command.Arguments.Add(Inputs);
        foreach (var option in new Option[] { Schema, PromptField, ResponseField, SystemField, IdField, BotLabels, OasstBranches, MaxLineBytes, MaxDepth, MaxDecompressedBytes })
        {
            command.Options.Add(option);
        }
    }

    public ReaderOptions Read(ParseResult parse)
    {
        var labels = parse.GetValue(BotLabels);
        var options = new ReaderOptions
        {
            Schema = new SchemaOptions
            {
                Schema = parse.GetValue(Schema) ?? SchemaOptions.Auto,
                PromptField = parse.GetValue(PromptField),
                ResponseField = parse.GetValue(ResponseField),
                SystemField = parse.GetValue(SystemField),
                IdField = parse.GetValue(IdField),
                BotLabels = labels is { Length: > 0 } ? labels : SchemaOptions.DefaultBotLabels,
                OasstBranches = parse.GetValue(OasstBranches) ?? SchemaOptions.OasstBest,
            },
            Limits = new ReaderLimits
            {
                MaxLineBytes = parse.GetValue(MaxLineBytes),
                MaxDepth = parse.GetValue(MaxDepth),
                MaxDecompressedBytes = parse.GetValue(MaxDecompressedBytes),
            },
        };
        options.Validate();
        return options;
    }

    /// <summary>The shards the inputs name, and the entries skipped under their folders and globs (each command lists them).</summary>
    public ResolvedInputs ResolveInputs(ParseResult parse) => InputResolver.ResolveWithSkipped(parse.GetValue(Inputs) ?? []);
}
