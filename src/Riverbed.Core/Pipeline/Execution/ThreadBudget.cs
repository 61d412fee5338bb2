using System.Collections.Frozen;
using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;

namespace Riverbed.Pipeline.Execution;

/// <summary>
/// Divides the cores the process may use among the sessions of a run instead of giving every session a thread per
/// core: three sessions with a thread per core put several compute threads on each core, and ONNX Runtime's worker
/// threads spin while they wait, so sessions that share cores slow each other down. The masked LM is the critical path
/// (its batches gate every example), so its sessions weigh <see cref="CriticalPathWeight"/> times the others'.
/// </summary>
public static class ThreadBudget
{
    /// <summary>How much more the MLM's sessions weigh than the other roles' in the division.</summary>
    public const int CriticalPathWeight = 2;

    /// <summary>The session configuration entry that stops idle intra-op threads from spinning.</summary>
    public const string AllowSpinningKey = "session.intra_op.allow_spinning";

    /// <summary>The cores this process may run on (its affinity and container limits, as .NET reports them).</summary>
    public static int AvailableCores => Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Intra-op threads per session for each role: ⌊cores · weight / Σ weights over every session⌋, at least 1.
    /// </summary>
    public static IReadOnlyDictionary<ModelRole, int> Divide(int cores, IReadOnlyCollection<ModelRole> roles, int sessionsPerRole)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sessionsPerRole, 1);
        var totalWeight = roles.Sum(Weight) * sessionsPerRole;
        return roles.ToDictionary(role => role, role => Math.Max(1, cores * Weight(role) / Math.Max(1, totalWeight)));
    }

    /// <summary>
    /// The options of one role's sessions under the budget: its threads, and no spinning when the run has more than one
    /// session, since a spinning idle session takes a core from a busy one.
    /// </summary>
    public static SessionOptions Apply(SessionOptions options, int threads, bool sharedCores)
    {
        ArgumentNullException.ThrowIfNull(options);
        var entries = new Dictionary<string, string>(options.ConfigEntries, StringComparer.Ordinal);
        if (sharedCores)
        {
            entries[AllowSpinningKey] = "0";
        }
        return new SessionOptions
        {
            IntraOpThreads = threads,
            InterOpThreads = options.InterOpThreads,
            OptimizationLevel = options.OptimizationLevel,
            ExecutionMode = options.ExecutionMode,
            MemoryPattern = options.MemoryPattern,
            CpuArena = options.CpuArena,
            LogLevel = options.LogLevel,
            ConfigEntries = entries.ToFrozenDictionary(StringComparer.Ordinal),
            ExecutionProvider = options.ExecutionProvider,
            AllowedOperatorDomains = options.AllowedOperatorDomains,
            AllowNativeCodeNodes = options.AllowNativeCodeNodes,
        };
    }

    /// <summary>"mlm 1, nli 1, rtd 1 thread(s) per session of 2 cores, spinning off", for the run's first lines.</summary>
    public static string Describe(IReadOnlyDictionary<ModelRole, int> threads, int cores, bool sharedCores)
    {
        ArgumentNullException.ThrowIfNull(threads);
        var shares = string.Join(", ", threads.OrderBy(t => t.Key).Select(t => t.Key.Name() + " " + t.Value.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture, $"{shares} thread(s) per session of {cores} core(s)") +
            (sharedCores ? ", spinning off" : string.Empty);
    }

    private static int Weight(ModelRole role) => role == ModelRole.MaskedLm ? CriticalPathWeight : 1;
}
