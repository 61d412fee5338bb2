namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// The probe: one real Run of a 2×4 batch (fewer positions when the model has fewer) fed through
/// <see cref="ModelInputBatch"/> as scoring feeds it, with the tokenizer's largest id in it, padding in the second row,
/// and its logits checked: the shape the role's contract gives, finite values, a vocabulary that covers the
/// tokenizer's. Symbolic shapes are so checked by what the model does, not only by what it declares. It makes the
/// <see cref="ModelContract"/> the rest of Riverbed relies on.
/// </summary>
internal sealed class ContractProbe(ContractFindings findings)
{
    /// <summary>Any id serves as padding: the mask hides it, and 0 is in every vocabulary.</summary>
    private const int ProbePadId = 0;

    private List<string> Problems => findings.Problems;

    private List<string> Notes => findings.Notes;

    /// <summary>The contract the Run confirmed, or null (with the problems added).</summary>
    public ModelContract? Run(InferenceSession session, DeclaredContract declared, int? tokenizerVocabularySize)
    {
        var (role, config, logits, labels) = (declared.Role, declared.Config, declared.Logits, declared.Labels);
        var tokenizer = tokenizerVocabularySize;
        var contract = role.Contract();
        var declaresVocabulary = contract.VocabularyLogits && !logits.Dimensions[^1].IsDynamic;
        long? declaredVocabulary = declaresVocabulary ? logits.Dimensions[^1].Size : config.VocabSize;
        if (tokenizer is { } t && declaredVocabulary is { } v && v < t)
        {
            Problems.Add(VocabularyTooSmall(v, t, declaresVocabulary ? "its logits cover" : $"{ModelFolder.ConfigFileName} vocab_size is"));
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
        using var batch = ModelInputBatch.Create(declared.Inputs, new ProbeRows(ProbeIds((int)largest, length)), ProbePadId);
        long[] shape = [batch.Rows, batch.Length];

        RunResult result;
        try
        {
            result = session.Run(batch.Feeds, [logits.Name]);
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
            var expectedClasses = contract.PerToken
                ? (contract.Labels == LabelRule.Bio && declared.LabelsKnown ? labels.Count : -1)
                : ContractCheck.ExpectedClasses(contract, actual.Length, labels);
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
                    Notes.Add($"{ModelFolder.ConfigFileName} vocab_size is {configured} but the logits cover {classes} ids");
                }
            }
            else if (expectedClasses >= 0 && classes != expectedClasses)
            {
                Problems.Add($"a probe run produced logits of shape {shown}: {classes} classes, but {ContractCheck.Because(contract, expectedClasses)}");
                return null;
            }
            if (!AllFinite(output))
            {
                Problems.Add($"a probe run produced logits that are not finite (NaN or infinity): the weights are probably corrupt");
                return null;
            }
            if (!contract.VocabularyLogits && config.VocabSize is null && tokenizer is not null)
            {
                Notes.Add($"{ModelFolder.ConfigFileName} has no vocab_size; the probe run embedded the tokenizer's largest id {largest} without error");
            }
            return new ModelContract
            {
                InputIdsType = declared.Inputs.Ids,
                AttentionMaskType = declared.Inputs.Mask,
                TokenTypeIdsType = declared.Inputs.TypeIds,
                LogitsName = logits.Name,
                LogitsType = output.ElementType,
                ModelVocabularySize = modelVocabulary,
                TokenizerVocabularySize = tokenizer,
                Labels = labels,
                NliLabels = contract.Labels == LabelRule.Nli ? ContractCheck.ResolveNli(labels) : null,
                LogitsHaveTrailingAxis = contract.FixedClasses == 1 && actual.Length == contract.LogitsRanks.Max(),
                ProbeInputShape = shape,
                ProbeLogitsShape = actual,
            };
        }
    }

    /// <summary>Row 0 counts down from the largest id over the whole length; row 1 counts up from 0 and is one token shorter (padded) when it can be.</summary>
    private static int[][] ProbeIds(int largest, int length)
    {
        var first = new int[length];
        var second = new int[length > 1 ? length - 1 : 1];
        for (var i = 0; i < first.Length; i++)
        {
            first[i] = Math.Clamp(largest - i, 0, largest);
        }
        for (var i = 0; i < second.Length; i++)
        {
            second[i] = Math.Clamp(i, 0, largest);
        }
        return [first, second];
    }

    private static string VocabularyTooSmall(long model, int tokenizer, string what) =>
        $"the model's vocabulary is smaller than the tokenizer's: {what} {model} ids but {ModelFolder.TokenizerFileName} has {tokenizer}; " +
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

    private readonly struct ProbeRows(int[][] rows) : ITokenRows
    {
        public int Count => rows.Length;

        public ReadOnlySpan<int> Ids(int row) => rows[row];

        public ReadOnlySpan<int> TypeIds(int row) => [];
    }
}
