using System.Globalization;
using System.Security.Cryptography;

namespace Riverbed.Inference.Models;

/// <summary>How to open a model folder.</summary>
public sealed class ModelFolderOptions
{
    /// <summary>The role to check the folder as; null infers it from config.json's architectures.</summary>
    public ModelRole? Role { get; init; }

    /// <summary>
    /// The size of the tokenizer's vocabulary (largest id + 1), from whatever read tokenizer.json; the model must
    /// be able to embed and (for an MLM) predict every one of those ids. Null skips the comparison.
    /// </summary>
    public int? TokenizerVocabularySize { get; init; }

    public SessionOptions Session { get; init; } = SessionOptions.Default;
}

/// <summary>
/// A model folder — <c>model.onnx</c>, <c>tokenizer.json</c>, <c>config.json</c> — opened and checked against
/// Riverbed's contract: inputs <c>input_ids</c>, <c>attention_mask</c> and optionally <c>token_type_ids</c> (int64 or
/// int32, [batch, sequence]); logits shaped for the role; labels that resolve; a vocabulary that covers the
/// tokenizer's. The check ends with a real probe Run on a 2×4 batch, so symbolic shapes are checked by what the model
/// does, not only by what it declares.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    public const string ModelFileName = "model.onnx";
    public const string TokenizerFileName = "tokenizer.json";
    public const string ConfigFileName = "config.json";

    private static readonly string[] ContractInputs = ["input_ids", "attention_mask", "token_type_ids"];

    private ModelFolder(string path, ModelRole role, string roleReason, ModelConfig config, InferenceSession session,
        ModelContract contract, IReadOnlyList<string> notes)
    {
        Path = path;
        Role = role;
        RoleReason = roleReason;
        Config = config;
        Session = session;
        Contract = contract;
        Notes = notes;
    }

    public string Path { get; }

    public string ModelPath => System.IO.Path.Combine(Path, ModelFileName);

    public string TokenizerPath => System.IO.Path.Combine(Path, TokenizerFileName);

    public string ConfigPath => System.IO.Path.Combine(Path, ConfigFileName);

    public ModelRole Role { get; }

    /// <summary>Why the folder has this role: asked for, or which architecture in config.json implied it.</summary>
    public string RoleReason { get; }

    public ModelConfig Config { get; }

    public InferenceSession Session { get; }

    public ModelContract Contract { get; }

    /// <summary>Things worth knowing that do not break the contract (e.g. more logits than tokenizer ids).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Opens the folder's session and checks the whole contract.</summary>
    /// <exception cref="ModelContractException">Every problem found, each with its own message.</exception>
    public static ModelFolder Open(InferenceEnvironment environment, string path, ModelFolderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        options ??= new ModelFolderOptions();
        var folder = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(folder))
        {
            throw new ModelContractException(folder, [File.Exists(folder)
                ? $"'{folder}' is a file; a model is a folder holding {ModelFileName}, {TokenizerFileName} and {ConfigFileName}"
                : $"model folder not found: '{folder}'"]);
        }

        var check = new Check(folder, options);
        foreach (var file in new[] { ModelFileName, TokenizerFileName, ConfigFileName })
        {
            if (!File.Exists(System.IO.Path.Combine(folder, file)))
            {
                check.Problems.Add($"missing {file} (a model folder holds {ModelFileName}, {TokenizerFileName} and {ConfigFileName})");
            }
        }
        var configPath = System.IO.Path.Combine(folder, ConfigFileName);
        var config = File.Exists(configPath) ? ModelConfig.Load(configPath, check.Problems) : null;
        var (role, roleReason) = check.ResolveRole(config);

        InferenceSession? session = null;
        var modelPath = System.IO.Path.Combine(folder, ModelFileName);
        if (File.Exists(modelPath))
        {
            try
            {
                session = InferenceSession.Create(environment, modelPath, options.Session);
            }
            catch (RiverbedException error)
            {
                check.Problems.Add(error.Message);
            }
        }

        ModelContract? contract = null;
        if (session is not null)
        {
            contract = check.Validate(session, role, config);
        }
        if (check.Problems.Count > 0 || session is null || contract is null || config is null || role is null)
        {
            session?.Dispose();
            throw new ModelContractException(folder, check.Problems);
        }
        return new ModelFolder(folder, role.Value, roleReason, config, session, contract, check.Notes);
    }

    /// <summary>Size and SHA-256 of every file the model reads: model.onnx, its external data, tokenizer.json, config.json.</summary>
    public IReadOnlyList<ModelFileDigest> ComputeFileDigests()
    {
        var names = new List<string> { ModelFileName };
        names.AddRange(Session.Model.ExternalData.Select(e => e.Location).Distinct(StringComparer.Ordinal));
        names.Add(TokenizerFileName);
        names.Add(ConfigFileName);
        return [.. names.Select(name =>
        {
            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, name));
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            return new ModelFileDigest(name, full, stream.Length, hash);
        })];
    }

    public void Dispose() => Session.Dispose();

    /// <summary>The state of one check: the problems and notes found so far.</summary>
    private sealed class Check(string folder, ModelFolderOptions options)
    {
        public List<string> Problems { get; } = [];

        public List<string> Notes { get; } = [];

        public (ModelRole? Role, string Reason) ResolveRole(ModelConfig? config)
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
            if (options.Role is { } asked)
            {
                if (implied is not null && implied != asked)
                {
                    Notes.Add($"{ConfigFileName} names {architecture} (a {implied.Value.Name()} model); checked as {asked.Name()} as asked");
                }
                return (asked, "as asked");
            }
            if (implied is not null)
            {
                return (implied, $"inferred from {ConfigFileName} architectures: {architecture}");
            }
            if (config is not null)
            {
                var named = config.Architectures.Count == 0
                    ? $"{ConfigFileName} names no architectures"
                    : $"{ConfigFileName} architectures ({string.Join(", ", config.Architectures)}) name no {Heads()} head";
                Problems.Add($"cannot tell the model's role: {named}; state it explicitly ({Either(ModelRoles.Names)}, e.g. --role nli)");
            }
            return (null, string.Empty);
        }

        public ModelContract? Validate(InferenceSession session, ModelRole? role, ModelConfig? config)
        {
            var inputs = CheckInputs(session);
            var logits = SelectLogits(session);
            var labels = role is { } r ? CheckLabels(r, config) : null;
            if (inputs is null || logits is null || role is null || config is null || !CheckDeclaredShape(logits, role.Value, labels))
            {
                return null;
            }
            return Probe(session, inputs.Value, logits, role.Value, config, labels ?? [], labelsKnown: labels is not null);
        }

        private (TensorElementType Ids, TensorElementType Mask, TensorElementType? Types)? CheckInputs(InferenceSession session)
        {
            var found = session.Inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
            var before = Problems.Count;
            var names = string.Join(", ", session.Inputs.Select(i => $"'{i.Name}'"));
            foreach (var required in ContractInputs.Take(2))
            {
                if (!found.ContainsKey(required))
                {
                    Problems.Add($"{ModelFileName} has no input '{required}' (its inputs are {names}); the contract's inputs are " +
                        "input_ids, attention_mask and optionally token_type_ids: export the model with those input names");
                }
            }
            foreach (var input in session.Inputs)
            {
                if (!ContractInputs.Contains(input.Name))
                {
                    if (Problems.Count > before)
                    {
                        continue; // the missing-input message already lists every input the model has
                    }
                    Problems.Add($"{ModelFileName} has an input '{input.Name}' outside the contract; its inputs must be input_ids, attention_mask and optionally token_type_ids");
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
            return (found["input_ids"].ElementType, found["attention_mask"].ElementType,
                found.TryGetValue("token_type_ids", out var types) ? types.ElementType : null);
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
                Problems.Add($"{ModelFileName} has outputs {string.Join(", ", session.Outputs.Select(o => $"'{o.Name}'"))} and none is named 'logits'; " +
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
            var rule = role.Contract().Labels;
            if (rule == LabelRule.None || config is null)
            {
                return [];
            }
            if (config.Labels is null)
            {
                Problems.Add(rule == LabelRule.Nli
                    ? $"{ConfigFileName} has no id2label; an nli model needs the labels entailment, neutral and contradiction (in any order and case)"
                    : $"{ConfigFileName} has no id2label; a ner model needs BIO labels (O, B-…, I-…)");
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
                    Problems.Add($"{ConfigFileName} id2label ({shown}) {string.Join(" and ", wrong)}; " +
                        "an nli model's labels are entailment, neutral and contradiction (in any order and case)");
                }
                else if (duplicated.Count > 0)
                {
                    Problems.Add($"{ConfigFileName} id2label ({shown}) names {string.Join(", ", duplicated)} more than once");
                }
                return unknown.Count + missing.Count + duplicated.Count > 0 ? null : labels;
            }
            var notBio = labels.Where(l => l != "O" && !(l.Length > 2 && (l.StartsWith("B-", StringComparison.Ordinal) || l.StartsWith("I-", StringComparison.Ordinal)))).ToList();
            if (notBio.Count > 0)
            {
                Problems.Add($"{ConfigFileName} id2label has label{(notBio.Count > 1 ? "s" : "")} {string.Join(", ", notBio.Select(l => $"'{l}'"))} that are not BIO tags; a ner model's labels are O, B-TYPE and I-TYPE");
                return null;
            }
            if (!labels.Contains("O"))
            {
                Problems.Add($"{ConfigFileName} id2label ({shown}) has no 'O' label; a ner model needs O for tokens outside entities");
                return null;
            }
            var orphans = labels.Where(l => l.StartsWith("I-", StringComparison.Ordinal) && !labels.Contains("B-" + l[2..])).ToList();
            if (orphans.Count > 0)
            {
                Problems.Add($"{ConfigFileName} id2label has {string.Join(", ", orphans)} without the matching B- label");
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

        private ModelContract? Probe(InferenceSession session, (TensorElementType Ids, TensorElementType Mask, TensorElementType? Types) inputs,
            TensorInfo logits, ModelRole role, ModelConfig config, List<string> labels, bool labelsKnown)
        {
            var tokenizer = options.TokenizerVocabularySize;
            var contract = role.Contract();
            long? declaredVocabulary = contract.VocabularyLogits && !logits.Dimensions[^1].IsDynamic ? logits.Dimensions[^1].Size : config.VocabSize;
            if (tokenizer is { } t && declaredVocabulary is { } v && v < t)
            {
                Problems.Add(VocabularyTooSmall(v, t, contract.VocabularyLogits && !logits.Dimensions[^1].IsDynamic ? "its logits cover" : $"{ConfigFileName} vocab_size is"));
            }

            // Feed the tokenizer's largest id (capped by what the model says it can embed): a table too small for the
            // tokenizer fails here rather than in the middle of a dataset.
            var largest = (tokenizer ?? declaredVocabulary ?? 2) - 1;
            if (declaredVocabulary is { } known)
            {
                largest = Math.Min(largest, known - 1);
            }
            largest = Math.Max(largest, 0);
            var length = config.MaxPositionEmbeddings is { } positions ? (int)Math.Clamp(positions - 2, 1, 4) : 4;
            long[] shape = [2, length];
            var ids = new long[2 * length];
            var mask = new long[2 * length];
            for (var i = 0; i < ids.Length; i++)
            {
                // Row 0 counts down from the largest id, row 1 up from 0; the last token of row 1 is padding.
                var (row, column) = Math.DivRem(i, length);
                ids[i] = Math.Clamp(row == 0 ? largest - column : column, 0, largest);
                mask[i] = row == 1 && column == length - 1 && length > 1 ? 0 : 1;
            }
            using var idsTensor = IdTensor(inputs.Ids, shape, ids);
            using var maskTensor = IdTensor(inputs.Mask, shape, mask);
            using var typesTensor = inputs.Types is { } typesType ? IdTensor(typesType, shape, new long[ids.Length]) : null;
            List<NamedTensor> feed = [new("input_ids", idsTensor), new("attention_mask", maskTensor)];
            if (typesTensor is not null)
            {
                feed.Add(new NamedTensor("token_type_ids", typesTensor));
            }

            RunResult result;
            try
            {
                result = session.Run([.. feed], [logits.Name]);
            }
            catch (OrtException error)
            {
                var hint = error.RuntimeMessage.Contains("out of", StringComparison.OrdinalIgnoreCase) &&
                    error.RuntimeMessage.Contains("bound", StringComparison.OrdinalIgnoreCase)
                    ? $" Token id {largest} (the tokenizer's largest) may be beyond the model's embedding table: the model's vocabulary is smaller than the tokenizer's."
                    : string.Empty;
                Problems.Add($"a probe run on a batch of {shape[0]}×{shape[1]} tokens failed: {error.Message}{hint}");
                return null;
            }
            using (result)
            {
                var output = result[0];
                var actual = output.Shape.ToArray();
                var shown = $"[{string.Join(", ", actual)}]";
                var prefixOk = contract.LogitsRanks.Contains(actual.Length) && actual[0] == shape[0] &&
                    (!contract.PerToken || actual[1] == shape[1]) &&
                    (contract.FixedClasses is not { } fixedSize || actual.Length < contract.LogitsRanks.Max() || actual[^1] == fixedSize || !contract.PerToken);
                if (!prefixOk)
                {
                    Problems.Add($"a probe run with inputs [{shape[0]}, {shape[1]}] produced logits of shape {shown}; a {contract.Name} model's logits are {contract.LogitsShape}");
                    return null;
                }
                var classes = actual[^1];
                long? modelVocabulary = config.VocabSize;
                var expectedClasses = contract.PerToken ? (contract.Labels == LabelRule.Bio && labelsKnown ? labels.Count : -1) : ExpectedClasses(contract, actual.Length, labels);
                if (contract.VocabularyLogits)
                {
                        modelVocabulary = classes;
                        if (tokenizer is { } t2 && classes < t2 && !(declaredVocabulary is { } d && d < t2))
                        {
                            Problems.Add(VocabularyTooSmall(classes, t2, "its logits cover"));
                        }
                        else if (tokenizer is { } t3 && classes > t3)
                        {
                            Notes.Add($"the logits cover {classes} ids, {classes - t3} more than the tokenizer's {t3} (a padded embedding table); the extra logits are never predicted");
                        }
                        if (config.VocabSize is { } configured && configured != classes)
                        {
                            Notes.Add($"{ConfigFileName} vocab_size is {configured} but the logits cover {classes} ids");
                        }
                }
                else if (expectedClasses >= 0 && classes != expectedClasses)
                {
                    Problems.Add($"a probe run produced logits of shape {shown}: {classes} classes, but {Because(contract, expectedClasses)}");
                    return null;
                }
                if (!AllFinite(output))
                {
                    Problems.Add($"a probe run produced logits that are not finite (NaN or infinity): the weights are probably corrupt");
                    return null;
                }
                if (!contract.VocabularyLogits && config.VocabSize is null && tokenizer is not null)
                {
                    Notes.Add($"{ConfigFileName} has no vocab_size; the probe run embedded the tokenizer's largest id {largest} without error");
                }
                return new ModelContract
                {
                    InputIdsType = inputs.Ids,
                    AttentionMaskType = inputs.Mask,
                    TokenTypeIdsType = inputs.Types,
                    LogitsName = logits.Name,
                    LogitsType = output.ElementType,
                    ModelVocabularySize = modelVocabulary,
                    TokenizerVocabularySize = tokenizer,
                    Labels = labels,
                    NliLabels = contract.Labels == LabelRule.Nli ? ResolveNli(labels) : null,
                    LogitsHaveTrailingAxis = contract.FixedClasses == 1 && actual.Length == contract.LogitsRanks.Max(),
                    ProbeInputShape = shape,
                    ProbeLogitsShape = actual,
                };
            }
        }

        private static string VocabularyTooSmall(long model, int tokenizer, string what) =>
            $"the model's vocabulary is smaller than the tokenizer's: {what} {model} ids but {TokenizerFileName} has {tokenizer}; " +
            $"token ids {model} to {tokenizer - 1} cannot be embedded{(what.StartsWith("its logits", StringComparison.Ordinal) ? " or predicted" : string.Empty)} " +
            "(is this the tokenizer the model was trained with?)";

        private static bool AllFinite(OutputTensor output)
        {
            if (output.ElementType == TensorElementType.Float16)
            {
                foreach (var value in output.GetData<Half>())
                {
                    if (!Half.IsFinite(value))
                    {
                        return false;
                    }
                }
                return true;
            }
            foreach (var value in output.GetData<float>())
            {
                if (!float.IsFinite(value))
                {
                    return false;
                }
            }
            return true;
        }

        private static OrtTensor IdTensor(TensorElementType type, long[] shape, long[] values) => type == TensorElementType.Int32
            ? OrtTensor.Create(shape, values.Select(v => (int)v).ToArray())
            : OrtTensor.Create(shape, values);

        private static readonly string[] NliNames = ["entailment", "neutral", "contradiction"];

        private static int NliIndex(string label) => Array.IndexOf(NliNames, label.Trim().ToLowerInvariant());

        private static NliLabelIndices ResolveNli(List<string> labels) => new(
            labels.FindIndex(l => NliIndex(l) == 0), labels.FindIndex(l => NliIndex(l) == 1), labels.FindIndex(l => NliIndex(l) == 2));

        // The size the last axis must have at this rank: a fixed size applies where the logits carry a class axis
        // (nli's [batch, 3]; rtd's optional trailing [.., 1]); BIO models have one class per label; -1: not fixed.
        private static int ExpectedClasses(RoleContract contract, int rank, List<string>? labels) =>
            contract.FixedClasses is { } fixedSize && rank == contract.LogitsRanks.Max()
                ? fixedSize
                : contract.Labels == LabelRule.Bio ? labels?.Count ?? -1 : -1;

        private static string Because(RoleContract contract, int classes) => contract.FixedClassesReason ??
            string.Create(CultureInfo.InvariantCulture, $"{ConfigFileName} id2label has {classes} labels");

        private static string Heads() => Either(ModelRoles.Table.Select(c => c.ArchitectureSuffixes[0]).ToList());

        private static string Either(IReadOnlyList<string> names) =>
            names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";

        public override string ToString() => folder;
    }
}
