using System.Globalization;

namespace Riverbed.Inference.ModelFolders;

/// <summary>What a model declares, checked against its role's contract: the input types, the logits output and the labels.</summary>
internal sealed record DeclaredContract(ModelRole Role, ModelConfig Config, ContractInputTypes Inputs, TensorInfo Logits,
    IReadOnlyList<string> Labels, bool LabelsKnown);

/// <summary>
/// The contract check: which role a folder has (asked for, or implied by config.json's architectures), and whether
/// what its session and config.json declare — inputs, the logits output and its declared shape, id2label — keep that
/// role's entry in <see cref="ModelRoles.Table"/>. It runs nothing; <see cref="ContractProbe"/> does.
/// </summary>
internal sealed class ContractCheck(ContractFindings findings)
{
    private static readonly string[] NliNames = ["entailment", "neutral", "contradiction"];

    private List<string> Problems => findings.Problems;

    private List<string> Notes => findings.Notes;

    public (ModelRole? Role, string Reason) ResolveRole(ModelConfig? config, ModelRole? asked)
    {
        string? architecture = null;
        ModelRole? implied = null;
        foreach (var candidate in config?.Architectures ?? [])
        {
            implied = ModelRoles.FromArchitecture(candidate, config?.ModelType);
            if (implied is not null)
            {
                architecture = candidate;
                break;
            }
        }
        if (asked is { } role)
        {
            if (implied is not null && implied != role)
            {
                Notes.Add($"{ModelFolder.ConfigFileName} names {architecture} (a {implied.Value.Name()} model); checked as {role.Name()} as asked");
            }
            return (role, "as asked");
        }
        if (implied is not null)
        {
            return (implied, $"inferred from {ModelFolder.ConfigFileName} architectures: {architecture}");
        }
        if (config is not null)
        {
            var named = config.Architectures.Count == 0
                ? $"{ModelFolder.ConfigFileName} names no architectures"
                : $"{ModelFolder.ConfigFileName} architectures ({string.Join(", ", config.Architectures)}) name no {Heads()} head";
            Problems.Add($"cannot tell the model's role: {named}; state it explicitly ({Either(ModelRoles.Names)}, e.g. {SettingNames.Of(Setting.Role)} nli)");
        }
        return (null, string.Empty);
    }

    /// <summary>What the model declares, when it keeps the contract so far (otherwise null, with the problems added).</summary>
    public DeclaredContract? Check(InferenceSession session, ModelRole? role, ModelConfig? config)
    {
        var inputs = CheckInputs(session);
        var logits = SelectLogits(session);
        var labels = role is { } r ? CheckLabels(r, config) : null;
        if (inputs is null || logits is null || role is null || config is null || !CheckDeclaredShape(logits, role.Value, labels))
        {
            return null;
        }
        return new DeclaredContract(role.Value, config, inputs.Value, logits, labels ?? [], LabelsKnown: labels is not null);
    }

    /// <summary>Where each NLI class sits among the labels (which the check has found to be exactly the three).</summary>
    public static NliLabelIndices ResolveNli(IReadOnlyList<string> labels)
    {
        var list = labels.ToList();
        return new(list.FindIndex(l => NliIndex(l) == 0), list.FindIndex(l => NliIndex(l) == 1), list.FindIndex(l => NliIndex(l) == 2));
    }

    // The size the last axis must have at this rank: a fixed size applies where the logits carry a class axis
    // (nli's [batch, 3]; rtd's optional trailing [.., 1]); BIO models have one class per label; -1: not fixed.
    public static int ExpectedClasses(RoleContract contract, int rank, IReadOnlyList<string>? labels) =>
        contract.FixedClasses is { } fixedSize && rank == contract.LogitsRanks.Max()
            ? fixedSize
            : contract.Labels == LabelRule.Bio ? labels?.Count ?? -1 : -1;

    public static string Because(RoleContract contract, int classes) => contract.FixedClassesReason ??
        string.Create(CultureInfo.InvariantCulture, $"{ModelFolder.ConfigFileName} id2label has {classes} labels");

    private ContractInputTypes? CheckInputs(InferenceSession session)
    {
        var found = session.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var before = Problems.Count;
        var names = string.Join(", ", session.Inputs.Select(i => $"'{i.Name}'"));
        foreach (var required in ModelInputBatch.InputNames.Take(2))
        {
            if (!found.ContainsKey(required))
            {
                Problems.Add($"{ModelFolder.ModelFileName} has no input '{required}' (its inputs are {names}); the contract's inputs are " +
                    "input_ids, attention_mask and optionally token_type_ids: export the model with those input names");
            }
        }
        foreach (var input in session.Inputs)
        {
            if (!ModelInputBatch.InputNames.Contains(input.Name))
            {
                if (Problems.Count > before)
                {
                    continue; // the missing-input message already lists every input the model has
                }
                Problems.Add($"{ModelFolder.ModelFileName} has an input '{input.Name}' outside the contract; its inputs must be input_ids, attention_mask and optionally token_type_ids");
                continue;
            }
            if (input.ElementType is not (TensorElementType.Int64 or TensorElementType.Int32))
            {
                Problems.Add($"input '{input.Name}' is {(input.IsTensor ? input.ElementType.DisplayName() : "not a tensor")}; it must be int64 or int32");
            }
            if (input.Rank != 2)
            {
                Problems.Add($"input {input} has rank {input.Rank}; it must be [batch, sequence]");
            }
            else if (input.Dimensions.Any(d => !d.IsDynamic))
            {
                Problems.Add($"input {input} has a fixed batch or sequence size; Riverbed sends batches of varying size and length, " +
                    "so export with dynamic batch and sequence axes");
            }
        }
        if (Problems.Count > before)
        {
            return null;
        }
        return new ContractInputTypes(found[ModelInputBatch.InputIds].ElementType, found[ModelInputBatch.AttentionMask].ElementType,
            found.TryGetValue(ModelInputBatch.TokenTypeIds, out var types) ? types.ElementType : null);
    }

    private TensorInfo? SelectLogits(InferenceSession session)
    {
        var logits = session.Outputs.FirstOrDefault(o => o.Name == "logits");
        if (logits is null && session.Outputs.Count == 1)
        {
            logits = session.Outputs[0];
            Notes.Add($"the only output, '{logits.Name}', is taken as the logits");
        }
        if (logits is null)
        {
            Problems.Add($"{ModelFolder.ModelFileName} has outputs {string.Join(", ", session.Outputs.Select(o => $"'{o.Name}'"))} and none is named 'logits'; " +
                "name the logits output 'logits' when exporting");
            return null;
        }
        if (logits.ElementType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            Problems.Add($"output {logits} must hold float32 or float16 logits");
            return null;
        }
        return logits;
    }

    private List<string>? CheckLabels(ModelRole role, ModelConfig? config)
    {
        var configName = ModelFolder.ConfigFileName;
        var rule = role.Contract().Labels;
        if (rule == LabelRule.None || config is null)
        {
            return [];
        }
        if (config.Labels is null)
        {
            Problems.Add(rule == LabelRule.Nli
                ? $"{configName} has no id2label; an nli model needs the labels entailment, neutral and contradiction (in any order and case)"
                : $"{configName} has no id2label; a ner model needs BIO labels (O, B-…, I-…)");
            return null;
        }
        var labels = config.Labels.ToList();
        var shown = string.Join(", ", labels);
        if (rule == LabelRule.Nli)
        {
            var unknown = labels.Where(l => NliIndex(l) < 0).ToList();
            var missing = NliNames.Where(n => !labels.Any(l => NliIndex(l) == Array.IndexOf(NliNames, n))).ToList();
            var duplicated = labels.GroupBy(l => l.Trim().ToLowerInvariant()).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (unknown.Count > 0 || missing.Count > 0)
            {
                var wrong = new List<string>();
                if (unknown.Count > 0)
                {
                    wrong.Add($"has {(unknown.Count > 1 ? "labels" : "label")} {string.Join(", ", unknown.Select(l => $"'{l}'"))} that an nli model does not have");
                }
                if (missing.Count > 0)
                {
                    wrong.Add($"lacks {string.Join(" and ", missing)}");
                }
                Problems.Add($"{configName} id2label ({shown}) {string.Join(" and ", wrong)}; " +
                    "an nli model's labels are entailment, neutral and contradiction (in any order and case)");
            }
            else if (duplicated.Count > 0)
            {
                Problems.Add($"{configName} id2label ({shown}) names {string.Join(", ", duplicated)} more than once");
            }
            return unknown.Count + missing.Count + duplicated.Count > 0 ? null : labels;
        }
        var notBio = labels.Where(l => l != "O" && !(l.Length > 2 && (l.StartsWith("B-", StringComparison.Ordinal) || l.StartsWith("I-", StringComparison.Ordinal)))).ToList();
        if (notBio.Count > 0)
        {
            Problems.Add($"{configName} id2label has label{(notBio.Count > 1 ? "s" : "")} {string.Join(", ", notBio.Select(l => $"'{l}'"))} that are not BIO tags; a ner model's labels are O, B-TYPE and I-TYPE");
            return null;
        }
        if (!labels.Contains("O"))
        {
            Problems.Add($"{configName} id2label ({shown}) has no 'O' label; a ner model needs O for tokens outside entities");
            return null;
        }
        var orphans = labels.Where(l => l.StartsWith("I-", StringComparison.Ordinal) && !labels.Contains("B-" + l[2..])).ToList();
        if (orphans.Count > 0)
        {
            Problems.Add($"{configName} id2label has {string.Join(", ", orphans)} without the matching B- label");
            return null;
        }
        return labels;
    }

    private bool CheckDeclaredShape(TensorInfo logits, ModelRole role, List<string>? labels)
    {
        var contract = role.Contract();
        if (!contract.LogitsRanks.Contains(logits.Rank))
        {
            Problems.Add($"output {logits} has rank {logits.Rank}; a {contract.Name} model's logits are {contract.LogitsShape}");
            return false;
        }
        var last = logits.Dimensions[^1];
        if (last.IsDynamic)
        {
            return true;
        }
        var classes = ExpectedClasses(contract, logits.Rank, labels);
        if (classes >= 0 && last.Size != classes)
        {
            Problems.Add($"output {logits} has {last.Size} classes on its last axis; {Because(contract, classes)}");
            return false;
        }
        return true;
    }

    private static int NliIndex(string label) => Array.IndexOf(NliNames, label.Trim().ToLowerInvariant());

    private static string Heads() => Either(ModelRoles.Table.Select(c => c.ArchitectureSuffixes[0]).ToList());

    private static string Either(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";
}
