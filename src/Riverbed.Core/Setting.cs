namespace Riverbed;

/// <summary>
/// The settings the core names in what it tells a user ("over the limit of 16 MiB (max line bytes)"). The core speaks
/// in options, not in command-line flags: a message names a setting through <see cref="SettingNames.Of"/>, and the
/// host decides how its users spell it (the <c>riverbed</c> CLI maps each one to its flag; a library user gets the
/// option's own name). Each member's comment says which option property it is.
/// </summary>
public enum Setting
{
    /// <summary><c>ReaderOptions.MaxLineBytes</c>: the longest line or array element read.</summary>
    MaxLineBytes,

    /// <summary><c>ReaderOptions.MaxDepth</c>: the deepest JSON nesting read.</summary>
    MaxDepth,

    /// <summary><c>ReaderOptions.MaxDecompressedBytes</c>: the most a compressed input may expand to.</summary>
    MaxDecompressedBytes,

    /// <summary><c>SchemaOptions.Schema</c>: the record schema, or auto-detection.</summary>
    Schema,

    /// <summary><c>SchemaOptions.PromptField</c>: the generic schema's prompt field.</summary>
    PromptField,

    /// <summary><c>SchemaOptions.ResponseField</c>: the generic schema's response field.</summary>
    ResponseField,

    /// <summary><c>SchemaOptions.IdField</c>: the field that holds a record's id.</summary>
    IdField,

    /// <summary><c>SchemaOptions.OasstBranches</c>: the best-ranked path of an OASST tree, or every branch.</summary>
    OasstBranches,

    /// <summary>The output format of scored or converted shards (Parquet or JSON Lines).</summary>
    OutputFormat,

    /// <summary>The output folder.</summary>
    Output,

    /// <summary><c>ScoreRunOptions.Limit</c>: the records taken from each file.</summary>
    Limit,

    /// <summary><c>BatchingOptions.BatchTokens</c>: the padded tokens of one batch.</summary>
    BatchTokens,

    /// <summary><c>ScoreRunOptions.MaxFailures</c>: the failed rows a shard may have before it is stopped.</summary>
    MaxFailures,

    /// <summary>The rejected records a shard may have before it fails (the reject budget).</summary>
    MaxRejects,

    /// <summary>The reject budget given as a share of the records (0 to 1).</summary>
    MaxRejectRatio,

    /// <summary>What conversion does with a bad record: keep it aside, or stop.</summary>
    OnBadRecord,

    /// <summary>A previous run's configuration (its run.json) to start from.</summary>
    Config,

    /// <summary>Writing kept and removed rows to separate folders.</summary>
    Split,

    /// <summary><c>ExecutionProvider</c>: the device the models run on.</summary>
    Device,

    /// <summary>A model folder's role when its config.json does not say.</summary>
    Role,

    /// <summary><c>ModelPull</c>'s preset (a set of repositories for every role).</summary>
    Preset,

    /// <summary><c>ModelPull</c>'s masked-LM repository.</summary>
    MlmRepository,

    /// <summary><c>ModelPull</c>'s NLI repository.</summary>
    NliRepository,

    /// <summary><c>ModelPull</c>'s replaced-token-detection repository.</summary>
    RtdRepository,

    /// <summary><c>ModelPull</c>'s NER repository.</summary>
    NerRepository,

    /// <summary><c>ModelPull</c>'s revision for repositories given without one.</summary>
    Revision,

    /// <summary><c>ModelPull</c>'s checkpoint that holds the replaced-token head.</summary>
    RtdHead,

    /// <summary><c>ModelPull</c>'s offline mode (the cache only).</summary>
    Offline,

    /// <summary><c>WorkerRank.Rank</c>: this worker's rank.</summary>
    Rank,

    /// <summary><c>WorkerRank.WorldSize</c>: the number of ranks.</summary>
    WorldSize,

    /// <summary>Replacing an output folder's job record (another world size or plan).</summary>
    ForceReassign,

    /// <summary>The size of the work units files are split into.</summary>
    UnitSize,

    /// <summary>A pinned list of the shards to deal out.</summary>
    ShardList,

    /// <summary>The grace period between a stop signal and abandoning the unit in flight.</summary>
    Grace,

    /// <summary>Emitted specs: GPUs per Slurm task or Kubernetes pod.</summary>
    Gpus,

    /// <summary>Emitted Slurm script: the time limit per task.</summary>
    TimeLimit,

    /// <summary>Emitted Slurm script: the job name.</summary>
    SlurmJobName,

    /// <summary>Emitted Slurm script: the partition.</summary>
    Partition,

    /// <summary>Emitted Slurm script: the account.</summary>
    Account,

    /// <summary>Emitted Slurm script: the quality of service.</summary>
    Qos,

    /// <summary>Emitted Slurm script: memory per task.</summary>
    Memory,

    /// <summary>Emitted Slurm script: the GPU type of the generic resource request.</summary>
    GpuType,

    /// <summary>Emitted Slurm script: an extra #SBATCH line.</summary>
    Sbatch,

    /// <summary>Emitted Kubernetes Job: pods running at once.</summary>
    Parallelism,

    /// <summary>Emitted Kubernetes Job: the container image.</summary>
    Image,

    /// <summary>Emitted Kubernetes Job: the Job's name.</summary>
    KubernetesJobName,

    /// <summary>Emitted Kubernetes Job: its namespace.</summary>
    Namespace,

    /// <summary>Emitted Kubernetes Job: a volume claim and its mount path.</summary>
    Volume,

    /// <summary>Emitted Kubernetes Job: failed pods allowed per rank.</summary>
    Retries,
}

/// <summary>How settings are spelled in messages: the host's names when it gave them, else the option's own name.</summary>
public static class SettingNames
{
    private static Func<Setting, string> _spelling = OptionName;

    /// <summary>The name a user of this host types for <paramref name="setting"/>, e.g. "--max-line-bytes" in the CLI.</summary>
    public static string Of(Setting setting) => _spelling(setting);

    /// <summary>Spell settings the host's way from now on (the CLI calls this once, before anything runs).</summary>
    public static void Use(Func<Setting, string> spelling) => _spelling = spelling ?? throw new ArgumentNullException(nameof(spelling));

    /// <summary>A library user's name for a setting: the enum member, which documents its option property.</summary>
    public static string OptionName(Setting setting) => "Setting." + setting;
}
