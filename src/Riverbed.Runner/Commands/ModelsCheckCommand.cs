using System.CommandLine;
using System.Globalization;
using System.Text;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;
using Riverbed.Tokenization;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed models check &lt;folder&gt;…</c>: opens each model folder, checks it against the contract and prints
/// what a user needs to trust it — role and why, inputs and outputs, labels, vocabulary sizes, file hashes, opsets,
/// provider. Exit 0 when every folder passes; 1 with one message per problem otherwise.
/// </summary>
internal static class ModelsCheckCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folder")
        {
            Description = "Model folders (each holding model.onnx, tokenizer.json and config.json).",
            Arity = ArgumentArity.OneOrMore,
        };
        var role = new Option<string?>("--role")
        {
            Description = "Check the folders as this role instead of inferring it from config.json architectures.",
        };
        role.AcceptOnlyFromAmong([.. ModelRoles.Names]);
        var device = new Option<string>("--device")
        {
            Description = "Where to open the sessions: cpu, cuda or cuda:N.",
            DefaultValueFactory = _ => "cpu",
        };
        device.Validators.Add(result =>
        {
            if (!ExecutionProvider.TryParse(result.GetValueOrDefault<string>(), out _))
            {
                result.AddError($"--device must be cpu, cuda or cuda:N; got '{result.GetValueOrDefault<string>()}'");
            }
        });

        var command = new Command("check", "Check model folders against Riverbed's model contract and print a report.")
        {
            folders,
            role,
            device,
        };
        CommandAction.Set(command, (parseResult, cancellationToken) =>
        {
            ModelRole? asked = ModelRoles.TryParse(parseResult.GetValue(role), out var parsed) ? parsed : null;
            var provider = ExecutionProvider.TryParse(parseResult.GetValue(device), out var chosen) ? chosen : ExecutionProvider.Cpu;
            return Task.FromResult(Run(parseResult.GetValue(folders) ?? [], asked, provider, cancellationToken));
        });
        return command;
    }

    internal static int Run(string[] folders, ModelRole? role, ExecutionProvider provider, CancellationToken cancellationToken)
    {
        // ORT's own log would repeat, in its format, the errors this command reports in full.
        using var environment = InferenceEnvironment.Create(OrtLogLevel.Fatal);
        var failed = 0;
        foreach (var folder in folders)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var problems = new List<string>();
            var tokenizerPath = Path.Combine(folder, ModelFolder.TokenizerFileName);
            int? vocabulary = null;
            if (File.Exists(tokenizerPath))
            {
                try
                {
                    vocabulary = Tokenizer.FromFile(tokenizerPath).VocabularySize;
                }
                catch (RiverbedException error)
                {
                    problems.Add(error.Message);
                }
            }
            try
            {
                using var model = ModelFolder.Open(environment, folder, new ModelFolderOptions
                {
                    Role = role,
                    TokenizerVocabularySize = vocabulary,
                    Session = new SessionOptions { ExecutionProvider = provider },
                });
                if (problems.Count == 0)
                {
                    Console.Out.Write(Report(model, environment.Runtime));
                    continue;
                }
            }
            catch (ModelContractException error)
            {
                problems.AddRange(error.Problems);
            }
            failed++;
            var full = Path.GetFullPath(folder);
            Console.Error.WriteLine(problems.Count == 1
                ? problems[0].Contains(full, StringComparison.Ordinal)
                    ? $"riverbed: error: {problems[0]}"
                    : $"riverbed: error: model folder '{full}': {problems[0]}"
                : $"riverbed: error: model folder '{full}' has {problems.Count} problems:{string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}"))}");
        }
        if (folders.Length > 1)
        {
            Console.Out.WriteLine(failed == 0
                ? $"all {folders.Length} model folders keep the contract"
                : $"{failed} of {folders.Length} model folders break the contract");
        }
        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static string Report(ModelFolder model, OrtRuntime runtime)
    {
        var session = model.Session;
        var contract = model.Contract;
        var config = model.Config;
        var text = new StringBuilder();
        void Line(string label, string value) => text.Append(CultureInfo.InvariantCulture, $"  {label,-11} {value}").AppendLine();

        text.AppendLine(CultureInfo.InvariantCulture, $"{model.Path}: ok, keeps the {model.Role.Name()} contract");
        Line("role", $"{model.Role.Name()} ({model.RoleReason})");
        var opsets = string.Join(", ", session.Model.Opsets.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"));
        Line("model", $"ONNX IR {session.Model.IrVersion}, opsets {opsets}, {session.Model.Operators.Count} operator types" +
            (session.ProducerName is { } producer ? $", produced by {producer}" : string.Empty));
        Line("provider", $"{session.ProviderDescription}; ONNX Runtime {runtime.Version} ({runtime.LibraryPath})");
        for (var i = 0; i < session.Inputs.Count; i++)
        {
            Line(i == 0 ? "inputs" : string.Empty, session.Inputs[i].ToString());
        }
        for (var i = 0; i < session.Outputs.Count; i++)
        {
            Line(i == 0 ? "outputs" : string.Empty, session.Outputs[i].ToString() + (session.Outputs[i].Name == contract.LogitsName ? "  (logits)" : string.Empty));
        }
        Line("probe", $"inputs [{string.Join(", ", contract.ProbeInputShape)}] gave logits [{string.Join(", ", contract.ProbeLogitsShape)}]" +
            (contract.LogitsHaveTrailingAxis ? " (trailing axis of 1)" : string.Empty));
        if (contract.NliLabels is { } nli)
        {
            Line("labels", $"entailment = {nli.Entailment} ({contract.Labels[nli.Entailment]}), neutral = {nli.Neutral} ({contract.Labels[nli.Neutral]}), " +
                $"contradiction = {nli.Contradiction} ({contract.Labels[nli.Contradiction]})");
        }
        else if (contract.Labels.Count > 0)
        {
            Line("labels", string.Join(", ", contract.Labels.Select((label, i) => $"{i} {label}")));
        }
        Line("vocabulary", $"model {Show(contract.ModelVocabularySize)}, tokenizer {Show(contract.TokenizerVocabularySize)}");
        if (model.Role == ModelRole.MaskedLm && File.Exists(model.TokenizerPath))
        {
            // What `score` will run: the masked-position head, or the full logits and why.
            Line("mlm head", ModelSet.PlanMaskedHead(model, Tokenizer.FromFile(model.TokenizerPath)).Description);
        }
        Line("config", $"model_type {config.ModelType}, max_position_embeddings {Show(config.MaxPositionEmbeddings)}, " +
            $"type_vocab_size {Show(config.TypeVocabSize)}, pad_token_id {Show(config.PadTokenId)}");
        var digests = model.ComputeFileDigests();
        var width = digests.Max(d => d.Name.Length);
        for (var i = 0; i < digests.Count; i++)
        {
            var d = digests[i];
            Line(i == 0 ? "files" : string.Empty, string.Create(CultureInfo.InvariantCulture, $"{d.Name.PadRight(width)}  {d.Length,14:N0} bytes  sha256 {d.Sha256}"));
        }
        for (var i = 0; i < model.Notes.Count; i++)
        {
            Line(i == 0 ? "notes" : string.Empty, model.Notes[i]);
        }
        return text.ToString();
    }

    private static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "(not set)";

    private static string Show(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "(unknown)";
}
