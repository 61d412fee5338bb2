using System.Security.Cryptography;

namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// A model folder — <c>model.onnx</c>, <c>tokenizer.json</c>, <c>config.json</c> — opened and checked against
/// Riverbed's contract: inputs <c>input_ids</c>, <c>attention_mask</c> and optionally <c>token_type_ids</c> (int64 or
/// int32, [batch, sequence]); logits shaped for the role; labels that resolve; a vocabulary that covers the
/// tokenizer's. The check ends with a real probe Run on a 2×4 batch, so symbolic shapes are checked by what the model
/// does, not only by what it declares.
/// <para>
/// Three owners do the work, in this order, and add every problem they find to one list: <see cref="ModelFolderFiles"/>
/// opens the folder (its files, config.json, the session), <see cref="ContractCheck"/> checks what the model declares
/// against its role's entry in <see cref="ModelRoles.Table"/>, and <see cref="ContractProbe"/> runs it once.
/// </para>
/// </summary>
public sealed class ModelFolder : IDisposable
{
    public const string ModelFileName = "model.onnx";
    public const string TokenizerFileName = "tokenizer.json";
    public const string ConfigFileName = "config.json";

    private readonly ModelFolderFiles _files;

    private ModelFolder(ModelFolderFiles files, ModelRole role, string roleReason, ModelConfig config, InferenceSession session,
        ModelContract contract, IReadOnlyList<string> notes)
    {
        _files = files;
        Role = role;
        RoleReason = roleReason;
        Config = config;
        Session = session;
        Contract = contract;
        Notes = notes;
    }

    public string Path => _files.Path;

    public string ModelPath => _files.ModelPath;

    public string TokenizerPath => _files.TokenizerPath;

    public string ConfigPath => _files.ConfigPath;

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
        var findings = new ContractFindings();
        var files = ModelFolderFiles.Read(path, findings);
        var check = new ContractCheck(findings);
        var (role, roleReason) = check.ResolveRole(files.Config, options.Role);
        var session = files.CreateSession(environment, options.Session);
        ModelContract? contract = null;
        if (session is not null && check.Check(session, role, files.Config) is { } declared)
        {
            contract = new ContractProbe(findings).Run(session, declared, options.TokenizerVocabularySize);
        }
        if (findings.Problems.Count > 0 || session is null || contract is null || files.Config is null || role is null)
        {
            session?.Dispose();
            throw new ModelContractException(files.Path, findings.Problems);
        }
        return new ModelFolder(files, role.Value, roleReason, files.Config, session, contract, findings.Notes);
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
}
