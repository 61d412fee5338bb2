using System.Text.Json;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Inference.Onnx;
using Riverbed.Scoring;
using Riverbed.Tokenization;

namespace Riverbed.Pipeline.Execution;

/// <summary>How a <see cref="ModelSet"/> opens its folders.</summary>
public sealed class ModelSetOptions
{
    /// <summary>Session options for every model (threads, execution provider, …).</summary>
    public SessionOptions Session { get; init; } = SessionOptions.Default;

    /// <summary>
    /// Divide this many cores among the sessions (see <see cref="Execution.ThreadBudget"/>): each role's sessions get their
    /// share as intra-op threads, with spinning off when sessions share the cores, in place of
    /// <see cref="Session"/>'s thread count. Null: every session takes <see cref="Session"/> as it is.
    /// </summary>
    public int? ThreadBudgetCores { get; init; }

    /// <summary>Sessions opened per role (each gets its own <see cref="ModelRunner"/>); at least 1.</summary>
    public int SessionsPerRole { get; init; } = 1;

    /// <summary>An environment to use; null creates one that the set owns and disposes.</summary>
    public InferenceEnvironment? Environment { get; init; }

    /// <summary>
    /// Rewrite the MLM's graph at load so the vocabulary head runs only at masked positions and returns top-k
    /// (see <see cref="MaskedPositionHead"/>); off, or where the graph does not allow it, the full logits are read.
    /// </summary>
    public bool MaskedPositionHead { get; init; } = true;

    /// <summary>Log level of an environment the set creates.</summary>
    public OrtLogLevel LogLevel { get; init; } = OrtLogLevel.Error;
}

/// <summary>One opened role of a <see cref="ModelSet"/>: its checked folder, tokenizer, limits and runners.</summary>
public sealed class ModelEntry : IDisposable
{
    private readonly InferenceSession[] _extraSessions;

    internal ModelEntry(ModelRole role, ModelFolder folder, Tokenizer tokenizer, ModelRoleInfo info,
        IReadOnlyList<ModelRunner> runners, InferenceSession[] extraSessions, MaskedHeadRewrite? head)
    {
        Head = head;
        Role = role;
        Folder = folder;
        Tokenizer = tokenizer;
        Info = info;
        Runners = runners;
        _extraSessions = extraSessions;
    }

    public ModelRole Role { get; }

    public ModelFolder Folder { get; }

    public Tokenizer Tokenizer { get; }

    /// <summary>What scorers see of the model.</summary>
    public ModelRoleInfo Info { get; }

    /// <summary>One runner per session (<see cref="ModelSetOptions.SessionsPerRole"/>); the first runs the checked folder's session.</summary>
    public IReadOnlyList<ModelRunner> Runners { get; }

    /// <summary>For the MLM: whether its graph was rewritten to a masked-position head, and where or why not.</summary>
    public MaskedHeadRewrite? Head { get; }

    public void Dispose()
    {
        foreach (var session in _extraSessions)
        {
            session.Dispose();
        }
        Folder.Dispose();
    }
}

/// <summary>
/// The models of a run, opened from a folder holding <c>mlm/</c>, <c>nli/</c>, <c>rtd/</c> and optionally
/// <c>ner/</c>, each a model folder (model.onnx, tokenizer.json, config.json) checked against the contract. A missing
/// role is null, with a note saying which scorers that skips. Owns its sessions (and its environment when it made it).
/// </summary>
public sealed class ModelSet : IDisposable
{
    private static readonly HashSet<string> RobertaFamily = new(StringComparer.OrdinalIgnoreCase)
    {
        "roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer", "mpnet", "ibert", "data2vec-text",
        "roberta-prelayernorm", "luke",
    };

    private readonly InferenceEnvironment? _ownedEnvironment;
    private readonly ModelEntry?[] _entries;

    private ModelSet(ModelEntry?[] entries, IReadOnlyList<string> notes, InferenceEnvironment? ownedEnvironment, string threads)
    {
        Threads = threads;
        _entries = entries;
        Notes = notes;
        _ownedEnvironment = ownedEnvironment;
    }

    public ModelEntry? Mlm => _entries[(int)ModelRole.MaskedLm];

    public ModelEntry? Nli => _entries[(int)ModelRole.Nli];

    public ModelEntry? Rtd => _entries[(int)ModelRole.ReplacedTokenDetection];

    public ModelEntry? Ner => _entries[(int)ModelRole.TokenClassification];

    public ModelEntry? this[ModelRole role] => _entries[(int)role];

    /// <summary>How the sessions' threads were set, in words (the thread budget's division, or the fixed count).</summary>
    public string Threads { get; }

    /// <summary>Missing roles and what they skip, and the checked folders' own notes.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Opens <c>{folder}/mlm</c>, <c>nli</c>, <c>rtd</c> and <c>ner</c>, whichever exist.</summary>
    /// <exception cref="RiverbedException">The folder does not exist or holds none of the role folders.</exception>
    /// <exception cref="ModelContractException">A role folder breaks the contract (every problem listed).</exception>
    // Which checks each role serves (the model contract of each role is Inference's ModelRoles.Table): a missing
    // model's note is read from here. The ner model serves no check of its own; it finds entities for the rtd check.
    private static readonly (ModelRole Role, string Serves)[] ChecksServed =
    [
        (ModelRole.MaskedLm, "fill-and-compare is"),
        (ModelRole.Nli, "fill-and-compare and self-contradiction are"),
        (ModelRole.ReplacedTokenDetection, "replaced-token detection is"),
    ];

    public static ModelSet Open(string folder, ModelSetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new RiverbedException($"models folder not found: '{full}' (it should hold mlm/, nli/, rtd/ and optionally ner/)");
        }
        var folders = new Dictionary<ModelRole, string>();
        foreach (var role in Enum.GetValues<ModelRole>())
        {
            var path = Path.Combine(full, role.Name());
            if (Directory.Exists(path))
            {
                folders[role] = path;
            }
        }
        if (folders.Count == 0)
        {
            throw new RiverbedException($"models folder '{full}' holds none of mlm/, nli/, rtd/, ner/; each is a model folder " +
                "with model.onnx, tokenizer.json and config.json (riverbed models generate demo makes a set)");
        }
        return Open(folders, options);
    }

    /// <summary>Opens the given role folders (roles not given are missing).</summary>
    public static ModelSet Open(IReadOnlyDictionary<ModelRole, string> folders, ModelSetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folders);
        options ??= new ModelSetOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SessionsPerRole, 1, nameof(options.SessionsPerRole));
        var faults = InferenceFaultPlan.FromEnvironment();
        var owned = options.Environment is null ? InferenceEnvironment.Create(options.LogLevel) : null;
        var environment = options.Environment ?? owned!;
        var entries = new ModelEntry?[4];
        var notes = new List<string>();
        var sharedCores = folders.Count * options.SessionsPerRole > 1;
        var budget = options.ThreadBudgetCores is { } cores
            ? ThreadBudget.Divide(cores, [.. folders.Keys], options.SessionsPerRole)
            : null;
        var threads = budget is not null
            ? ThreadBudget.Describe(budget, options.ThreadBudgetCores!.Value, sharedCores)
            : options.Session.IntraOpThreads == 0
                ? "ONNX Runtime's default threads per session"
                : $"{options.Session.IntraOpThreads} thread(s) per session";
        try
        {
            foreach (var role in Enum.GetValues<ModelRole>())
            {
                if (folders.TryGetValue(role, out var path))
                {
                    var session = budget is not null ? ThreadBudget.Apply(options.Session, budget[role], sharedCores) : options.Session;
                    var entry = OpenRole(environment, role, path, options, session);
                    entries[(int)role] = entry;
                    notes.AddRange(entry.Folder.Notes.Select(n => $"{role.Name()}: {n}"));
                    if (entry.Head is { Applied: false } head)
                    {
                        notes.Add($"{role.Name()}: {head.Description}");
                    }
                }
            }
            foreach (var (role, serves) in ChecksServed)
            {
                if (entries[(int)role] is null)
                {
                    notes.Add($"no {role.Name()} model: {serves} skipped");
                }
            }
            if (entries[(int)ModelRole.TokenClassification] is null && entries[(int)ModelRole.ReplacedTokenDetection] is not null)
            {
                notes.Add("no ner model: entities come from the built-in heuristic (names, numbers, dates, quantities)");
            }
            if (entries[(int)ModelRole.TokenClassification] is not null && entries[(int)ModelRole.ReplacedTokenDetection] is null)
            {
                notes.Add("a ner model but no rtd model: entities are found only to be scored by the rtd model, so the ner model is unused");
            }
            var set = new ModelSet(entries, notes, owned, threads);
            faults?.Attach(set);
            return set;
        }
        catch
        {
            foreach (var entry in entries)
            {
                entry?.Dispose();
            }
            owned?.Dispose();
            throw;
        }
    }

    private static ModelEntry OpenRole(InferenceEnvironment environment, ModelRole role, string path, ModelSetOptions options,
        SessionOptions sessionOptions)
    {
        var full = Path.GetFullPath(path);
        var tokenizerPath = Path.Combine(full, ModelFolder.TokenizerFileName);
        Tokenizer? tokenizer = null;
        if (File.Exists(tokenizerPath))
        {
            tokenizer = Tokenizer.FromFile(tokenizerPath);
        }
        // Without a tokenizer the folder check reports the missing file along with everything else.
        var folder = ModelFolder.Open(environment, full, new ModelFolderOptions
        {
            Role = role,
            TokenizerVocabularySize = tokenizer?.VocabularySize,
            Session = sessionOptions,
        });
        var sessions = new List<InferenceSession>();
        try
        {
            if (tokenizer is null)
            {
                throw new ModelContractException(full, [$"missing {ModelFolder.TokenizerFileName}"]);
            }
            if (role == ModelRole.MaskedLm && tokenizer.MaskTokenId is null)
            {
                throw new ModelContractException(full, [$"{ModelFolder.TokenizerFileName} has no mask token (<mask> or [MASK]); an mlm model needs one"]);
            }
            var maxLength = MaxSequenceLength(folder, full);
            var info = new ModelRoleInfo(tokenizer, maxLength, folder.Contract.Labels);
            var padId = tokenizer.PadTokenId ?? (int?)folder.Config.PadTokenId ?? 0;
            var head = role == ModelRole.MaskedLm && options.MaskedPositionHead ? PlanMaskedHead(folder, tokenizer) : null;
            var runners = new List<ModelRunner>();
            for (var i = 0; i < options.SessionsPerRole; i++)
            {
                if (head?.Model is { } rewritten)
                {
                    // The full graph stays open once, shared, for requests with another candidate set than the head's mask.
                    var masked = InferenceSession.Create(environment, folder.ModelPath, rewritten, sessionOptions);
                    sessions.Add(masked);
                    runners.Add(new ModelRunner(folder.Session, folder.Contract, role, padId, maxLength,
                        new MaskedHeadSession(masked, WholeWordVocabulary.For(tokenizer))));
                    continue;
                }
                var session = i == 0 ? folder.Session : InferenceSession.Create(environment, folder.ModelPath, sessionOptions);
                if (i > 0)
                {
                    sessions.Add(session);
                }
                runners.Add(new ModelRunner(session, folder.Contract, role, padId, maxLength));
            }
            return new ModelEntry(role, folder, tokenizer, info, runners, [.. sessions], head);
        }
        catch
        {
            foreach (var session in sessions)
            {
                session.Dispose();
            }
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The masked-position head for an MLM folder: its graph rewritten with the tokenizer's whole-word set as the mask,
    /// or the reason the full logits are read instead.
    /// </summary>
    public static MaskedHeadRewrite PlanMaskedHead(ModelFolder folder, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var contract = folder.Contract;
        if (contract.ModelVocabularySize is not { } vocabulary || vocabulary > int.MaxValue)
        {
            return MaskedPositionHead.NotApplied("the model's vocabulary size is unknown");
        }
        try
        {
            return MaskedPositionHead.Rewrite(File.ReadAllBytes(folder.ModelPath), contract.LogitsName, contract.LogitsType, (int)vocabulary,
                WholeWordVocabulary.For(tokenizer).Ids);
        }
        catch (InvalidDataException error)
        {
            return MaskedPositionHead.NotApplied($"the graph could not be read for the rewrite ({error.Message})");
        }
    }

    /// <summary>
    /// max_position_embeddings (minus 2 for the RoBERTa family, whose positions start after the padding index), capped
    /// by the tokenizer's model_max_length (tokenizer_config.json) or declared truncation when either is known.
    /// </summary>
    internal static int MaxSequenceLength(ModelFolder folder, string path)
    {
        long length = 512;
        if (folder.Config.MaxPositionEmbeddings is { } positions)
        {
            length = RobertaFamily.Contains(folder.Config.ModelType ?? string.Empty) ? positions - 2 : positions;
        }
        if (TokenizerModelMaxLength(Path.Combine(path, "tokenizer_config.json")) is { } tokenizerLimit)
        {
            length = Math.Min(length, tokenizerLimit);
        }
        if (length < 4)
        {
            throw new ModelContractException(path, [$"the model accepts only {length} tokens (config.json max_position_embeddings); scoring needs at least 4"]);
        }
        return (int)Math.Min(length, int.MaxValue);
    }

    /// <summary>model_max_length from tokenizer_config.json when it is a plausible number (HF writes 1e30 for "none").</summary>
    private static long? TokenizerModelMaxLength(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("model_max_length", out var value)
                && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
                && number >= 1 && number < 1e9)
            {
                return (long)number;
            }
        }
        catch (JsonException error)
        {
            throw new ModelContractException(Path.GetDirectoryName(path)!, [$"tokenizer_config.json {JsonErrors.NotValidJson(error)}"]);
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var entry in _entries)
        {
            entry?.Dispose();
        }
        _ownedEnvironment?.Dispose();
    }
}
