using System.Text.Json.Serialization;

namespace Riverbed.IO;

/// <summary>
/// Which schema maps records to turns, and the fields some schemas need. Serialized as it is (properties in declaration
/// order) into run.json's "schema" block and the configuration hash.
/// </summary>
public sealed record SchemaOptions
{
    public const string Auto = "auto";

    /// <summary>The schemas <see cref="Schema"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "oig", "alpaca", "sharegpt", "messages", "dolly", "oasst", "preference", "generic"];

    /// <summary><see cref="OasstBranches"/>: follow the best-ranked reply at each level (one conversation per tree).</summary>
    public const string OasstBest = "best";

    /// <summary><see cref="OasstBranches"/>: every reply of the tree, each branch scored with its own path as context.</summary>
    public const string OasstAll = "all";

    /// <summary>OIG bot labels recognised at the start of a line besides <c>&lt;bot&gt;:</c> (the OIG joke set uses "Rosey:").</summary>
    public static IReadOnlyList<string> DefaultBotLabels { get; } = ["Rosey"];

    /// <summary>One of <see cref="Names"/>; "auto" detects it from the first valid record of each file.</summary>
    [JsonRequired]
    public string Schema { get; init; } = Auto;

    /// <summary>generic: the field holding the user's turn.</summary>
    [JsonRequired]
    public string? PromptField { get; init; }

    /// <summary>generic: the field holding the assistant's turn.</summary>
    [JsonRequired]
    public string? ResponseField { get; init; }

    /// <summary>generic: an optional field holding a system prompt.</summary>
    [JsonRequired]
    public string? SystemField { get; init; }

    /// <summary>
    /// The field that holds each record's id. When unset, the schema's usual id field is used if present (id, ID,
    /// message_tree_id, …) and the id is derived from the shard name and row otherwise. When set, a record without it
    /// is rejected.
    /// </summary>
    [JsonRequired]
    public string? IdField { get; init; }

    /// <summary>OIG: labels (without the colon) that start a bot turn when they begin a line.</summary>
    [JsonRequired]
    public IReadOnlyList<string> BotLabels { get; init; } = DefaultBotLabels;

    /// <summary>oasst trees: <see cref="OasstBest"/> (default) or <see cref="OasstAll"/>. (Absent from run.json files written before
    /// branches could be chosen: those followed the best.)</summary>
    public string OasstBranches { get; init; } = OasstBest;

    /// <summary>Throws when the options contradict each other (e.g. generic without its fields).</summary>
    public void Validate()
    {
        if (OasstBranches is not (OasstBest or OasstAll))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.OasstBranches)} must be {OasstBest} or {OasstAll}; got '{OasstBranches}'");
        }
        if (!Names.Contains(Schema, StringComparer.Ordinal))
        {
            throw new RiverbedException($"unknown schema '{Schema}'; choose one of: {string.Join(", ", Names)}");
        }
        if (Schema == "generic" && (string.IsNullOrEmpty(PromptField) || string.IsNullOrEmpty(ResponseField)))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Schema)} generic needs {SettingNames.Of(Setting.PromptField)} and {SettingNames.Of(Setting.ResponseField)} naming the columns to read");
        }
        if ((PromptField is null) != (ResponseField is null))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.PromptField)} and {SettingNames.Of(Setting.ResponseField)} go together; name both");
        }
        if (PromptField is not null && Schema is not ("generic" or Auto))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.PromptField)}/{SettingNames.Of(Setting.ResponseField)} only apply to {SettingNames.Of(Setting.Schema)} generic, not {Schema}");
        }
        foreach (var label in BotLabels)
        {
            if (string.IsNullOrWhiteSpace(label) || label.Contains(':', StringComparison.Ordinal) || label.Contains('\n', StringComparison.Ordinal))
            {
                throw new RiverbedException($"bot label '{label}' must be a non-empty name without ':' or newlines");
            }
        }
    }
}

/// <summary>The schema a shard is read with, and why: "forced" or the fields that decided it.</summary>
public sealed record SchemaDetection(string Schema, string Reason, bool Forced);
