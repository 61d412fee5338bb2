using System.CommandLine;

namespace Riverbed.Runner;

/// <summary>
/// The CLI's spelling of the settings the core names in its messages: the core speaks in <see cref="Setting"/>s, and
/// only here do they become flags. Program registers it before anything runs; a test holds every setting to a flag
/// that some command really has.
/// </summary>
internal static class SettingFlags
{
    public static string Flag(Setting setting) => setting switch
    {
        Setting.MaxLineBytes => "--max-line-bytes",
        Setting.MaxDepth => "--max-depth",
        Setting.MaxDecompressedBytes => "--max-decompressed-bytes",
        Setting.Schema => "--schema",
        Setting.PromptField => "--prompt-field",
        Setting.ResponseField => "--response-field",
        Setting.IdField => "--id-field",
        Setting.OasstBranches => "--oasst-branches",
        Setting.OutputFormat => "--format",
        Setting.Output => "--output",
        Setting.Limit => "--limit",
        Setting.BatchTokens => "--batch-tokens",
        Setting.MaxFailures => "--max-failures",
        Setting.MaxRejects => "--max-rejects",
        Setting.MaxRejectRatio => "--max-reject-ratio",
        Setting.OnBadRecord => "--on-bad-record",
        Setting.Config => "--config",
        Setting.Split => "--split",
        Setting.Device => "--device",
        Setting.Role => "--role",
        Setting.Preset => "--preset",
        Setting.MlmRepository => "--mlm",
        Setting.NliRepository => "--nli",
        Setting.RtdRepository => "--rtd",
        Setting.NerRepository => "--ner",
        Setting.Revision => "--revision",
        Setting.RtdHead => "--rtd-head",
        Setting.Offline => "--offline",
        Setting.Rank => "--rank",
        Setting.WorldSize => "--world-size",
        Setting.ForceReassign => "--force-reassign",
        Setting.UnitSize => "--unit-size",
        Setting.ShardList => "--shard-list",
        Setting.Grace => "--grace",
        Setting.Gpus => "--gpus",
        Setting.TimeLimit => "--time",
        Setting.SlurmJobName => "--job-name",
        Setting.Partition => "--partition",
        Setting.Account => "--account",
        Setting.Qos => "--qos",
        Setting.Memory => "--mem",
        Setting.GpuType => "--gpu-type",
        Setting.Sbatch => "--sbatch",
        Setting.Parallelism => "--parallelism",
        Setting.Image => "--image",
        Setting.KubernetesJobName => "--name",
        Setting.Namespace => "--namespace",
        Setting.Volume => "--volume",
        Setting.Retries => "--retries",
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "a setting with no flag"),
    };

    /// <summary>Every option name of every command, for the test that each setting's flag exists.</summary>
    public static IEnumerable<string> AllFlags()
    {
        var pending = new Stack<Command>(CommandCatalog.All());
        while (pending.TryPop(out var command))
        {
            foreach (var option in command.Options)
            {
                yield return option.Name;
                foreach (var alias in option.Aliases)
                {
                    yield return alias;
                }
            }
            foreach (var sub in command.Subcommands)
            {
                pending.Push(sub);
            }
        }
    }
}
