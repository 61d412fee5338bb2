using System.Globalization;
using System.Text.RegularExpressions;

namespace Riverbed.Sharding;

/// <summary>A shared volume mounted into every pod: the output folder (and usually the inputs) must live on one.</summary>
/// <param name="Claim">The PersistentVolumeClaim's name (ReadWriteMany, since every pod writes shards into it).</param>
/// <param name="MountPath">Where it appears inside the container.</param>
public sealed record KubernetesVolume(string Claim, string MountPath);

/// <summary>What a Kubernetes Indexed Job for a Riverbed run looks like.</summary>
public sealed partial class KubernetesJobOptions
{
    /// <summary>The worker's command line inside the container (with <c>--world-size</c>; the rank comes from JOB_COMPLETION_INDEX).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Completions: one pod index per rank.</summary>
    public required int Completions { get; init; }

    /// <summary>Pods running at once (default: all).</summary>
    public int? Parallelism { get; init; }

    public required string Image { get; init; }

    public string Name { get; init; } = "riverbed";

    public string? Namespace { get; init; }

    /// <summary>GPUs per pod (<c>nvidia.com/gpu</c> limit); 0 runs on CPUs.</summary>
    public int GpusPerPod { get; init; }

    /// <summary>CPU request and limit, as Kubernetes writes it (e.g. 4 or 3500m).</summary>
    public string? Cpu { get; init; }

    /// <summary>Memory request and limit, as Kubernetes writes it (e.g. 32Gi).</summary>
    public string? Memory { get; init; }

    /// <summary>Seconds the worker has to stop after SIGTERM (its <c>--grace</c>); the pod's termination grace period adds a margin.</summary>
    public int GraceSeconds { get; init; } = 30;

    /// <summary>Failed pods allowed per index before the Job gives up (pods lost to disruptions or interruptions do not count).</summary>
    public int RetriesPerIndex { get; init; } = 3;

    /// <summary>The worker's exit code for "stopped by a signal, rerun to finish".</summary>
    public int InterruptedExitCode { get; init; } = 130;

    /// <summary>The worker's exit code for a command line that cannot be parsed (retrying cannot help).</summary>
    public int UsageExitCode { get; init; } = 2;

    public IReadOnlyList<KubernetesVolume> Volumes { get; init; } = [];

    public string? Summary { get; init; }

    public void Validate()
    {
        if (Completions < 1)
        {
            throw new RiverbedException("an Indexed Job needs at least one completion");
        }
        if (Parallelism is < 1)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Parallelism)} must be at least 1");
        }
        if (GpusPerPod < 0 || GraceSeconds < 0 || RetriesPerIndex < 0)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Gpus)}, {SettingNames.Of(Setting.Grace)} and {SettingNames.Of(Setting.Retries)} cannot be negative");
        }
        if (string.IsNullOrWhiteSpace(Image))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Image)} is required: the container image that has riverbed, its native libraries and the models");
        }
        if (!DnsLabel().IsMatch(Name) || Name.Length > 52)
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.KubernetesJobName)} '{Name}' is not a valid Job name (lower-case letters, digits and '-', at most 52 characters)");
        }
        if (Namespace is { } ns && !DnsLabel().IsMatch(ns))
        {
            throw new RiverbedException($"{SettingNames.Of(Setting.Namespace)} '{ns}' is not a valid namespace name");
        }
        foreach (var volume in Volumes)
        {
            if (!DnsLabel().IsMatch(volume.Claim) || !volume.MountPath.StartsWith('/'))
            {
                throw new RiverbedException($"{SettingNames.Of(Setting.Volume)} '{volume.Claim}:{volume.MountPath}' needs a claim name and an absolute mount path (CLAIM:/path)");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();
}

/// <summary>
/// Writes a Kubernetes Indexed Job (batch/v1) for a Riverbed run: completions = world size, each pod's rank from
/// JOB_COMPLETION_INDEX and the world size in RIVERBED_WORLD_SIZE, the same worker command, GPU and CPU resources, and
/// a termination grace period that covers the worker's <c>--grace</c>. A pod failure policy keeps preemption and
/// interruptions from using up the retries and stops the Job at once on a usage error.
/// </summary>
public static class KubernetesJob
{
    /// <summary>Seconds added to the worker's grace for the pod's terminationGracePeriodSeconds.</summary>
    public const int GraceMarginSeconds = 15;

    public static string Render(KubernetesJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var labels = YamlMap.Of(("app.kubernetes.io/name", YamlScalar.String("riverbed")), ("riverbed/job", YamlScalar.String(options.Name)));
        var limits = new List<(string, YamlNode?)>();
        var requests = new List<(string, YamlNode?)>();
        if (options.Cpu is { } cpu)
        {
            limits.Add(("cpu", YamlScalar.String(cpu)));
            requests.Add(("cpu", YamlScalar.String(cpu)));
        }
        if (options.Memory is { } memory)
        {
            limits.Add(("memory", YamlScalar.String(memory)));
            requests.Add(("memory", YamlScalar.String(memory)));
        }
        if (options.GpusPerPod > 0)
        {
            limits.Add(("nvidia.com/gpu", YamlScalar.Number(options.GpusPerPod)));
        }
        var container = YamlMap.Of(
            ("name", YamlScalar.String("riverbed")),
            ("image", YamlScalar.String(options.Image)),
            ("command", new YamlList(options.Command.Select(argument => (YamlNode)YamlScalar.String(argument)).ToList())),
            ("env", YamlList.Of(
                YamlMap.Of(("name", YamlScalar.String(RankResolver.RiverbedWorldSize)), ("value", YamlScalar.String(options.Completions.ToString(CultureInfo.InvariantCulture)))))),
            ("resources", limits.Count == 0 ? null : YamlMap.Of(("limits", YamlMap.Of([.. limits])), ("requests", requests.Count == 0 ? null : YamlMap.Of([.. requests])))),
            ("volumeMounts", options.Volumes.Count == 0 ? null : new YamlList(options.Volumes
                .Select((volume, i) => (YamlNode)YamlMap.Of(("name", YamlScalar.String(VolumeName(i))), ("mountPath", YamlScalar.String(volume.MountPath))))
                .ToList())));
        var podSpec = YamlMap.Of(
            ("restartPolicy", YamlScalar.String("Never")),
            ("terminationGracePeriodSeconds", YamlScalar.Number(options.GraceSeconds + GraceMarginSeconds)),
            ("containers", YamlList.Of(container)),
            ("volumes", options.Volumes.Count == 0 ? null : new YamlList(options.Volumes
                .Select((volume, i) => (YamlNode)YamlMap.Of(
                    ("name", YamlScalar.String(VolumeName(i))),
                    ("persistentVolumeClaim", YamlMap.Of(("claimName", YamlScalar.String(volume.Claim))))))
                .ToList())));
        var failurePolicy = YamlMap.Of(("rules", YamlList.Of(
            YamlMap.Of(
                ("action", YamlScalar.String("Ignore")),
                ("onPodConditions", YamlList.Of(YamlMap.Of(("type", YamlScalar.String("DisruptionTarget")))))),
            YamlMap.Of(
                ("action", YamlScalar.String("Ignore")),
                ("onExitCodes", YamlMap.Of(
                    ("containerName", YamlScalar.String("riverbed")),
                    ("operator", YamlScalar.String("In")),
                    ("values", YamlList.Of(YamlScalar.Number(options.InterruptedExitCode)))))),
            YamlMap.Of(
                ("action", YamlScalar.String("FailJob")),
                ("onExitCodes", YamlMap.Of(
                    ("containerName", YamlScalar.String("riverbed")),
                    ("operator", YamlScalar.String("In")),
                    ("values", YamlList.Of(YamlScalar.Number(options.UsageExitCode)))))))));
        var job = YamlMap.Of(
            ("apiVersion", YamlScalar.String("batch/v1")),
            ("kind", YamlScalar.String("Job")),
            ("metadata", YamlMap.Of(
                ("name", YamlScalar.String(options.Name)),
                ("namespace", options.Namespace is { } ns ? YamlScalar.String(ns) : null),
                ("labels", labels))),
            ("spec", YamlMap.Of(
                ("completionMode", YamlScalar.String("Indexed")),
                ("completions", YamlScalar.Number(options.Completions)),
                ("parallelism", YamlScalar.Number(options.Parallelism ?? options.Completions)),
                ("backoffLimit", YamlScalar.Number((long)options.RetriesPerIndex * options.Completions)),
                ("podFailurePolicy", failurePolicy),
                ("template", YamlMap.Of(
                    ("metadata", YamlMap.Of(("labels", labels))),
                    ("spec", podSpec))))));
        var header = "Riverbed Indexed Job, written by `riverbed emit k8s`. Apply with `kubectl apply -f THIS_FILE`.\n"
            + (options.Summary is { } summary ? summary.ReplaceLineEndings(" ") + "\n" : string.Empty)
            + "Each pod's rank is its JOB_COMPLETION_INDEX; the world size is RIVERBED_WORLD_SIZE (= completions).";
        return YamlWriter.Write(job, header);
    }

    private static string VolumeName(int index) => index == 0 ? "data" : string.Create(CultureInfo.InvariantCulture, $"data-{index}");
}
