using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>The Indexed Job manifest, read back with an independent YAML reader and checked field by field.</summary>
public sealed class KubernetesJobTests
{
    private static readonly string[] Command =
    [
        "riverbed", "score", "/data/in", "--models", "/models", "--output", "/data/out", "--grace", "60", "--world-size", "4",
        "--shard-list", "/data/out/.riverbed/lists/0123456789abcdef.txt", "--device", "cuda:0",
        "quote\" backslash\\ colon: hash # brace { true 007 null",
    ];

    private static KubernetesJobOptions Options() => new()
    {
        Command = Command,
        Completions = 4,
        Parallelism = 2,
        Image = "registry.example/riverbed:1.0",
        Name = "riverbed-oig",
        Namespace = "curation",
        GpusPerPod = 1,
        Cpu = "8",
        Memory = "32Gi",
        GraceSeconds = 60,
        RetriesPerIndex = 3,
        Volumes = [new KubernetesVolume("datasets", "/data"), new KubernetesVolume("models", "/models")],
        Summary = "4 of 6 shards",
    };

    private static Dictionary<string, object?> Map(object? node) => Assert.IsType<Dictionary<string, object?>>(node);

    private static List<object?> List(object? node) => Assert.IsType<List<object?>>(node);

    [Fact]
    public void The_manifest_is_an_indexed_job_with_completions_parallelism_and_retries()
    {
        var job = Map(MiniYaml.Parse(KubernetesJob.Render(Options())));
        Assert.Equal("batch/v1", job["apiVersion"]);
        Assert.Equal("Job", job["kind"]);
        var metadata = Map(job["metadata"]);
        Assert.Equal(("riverbed-oig", "curation"), (metadata["name"], metadata["namespace"]));
        var spec = Map(job["spec"]);
        Assert.Equal("Indexed", spec["completionMode"]);
        Assert.Equal(4L, spec["completions"]);
        Assert.Equal(2L, spec["parallelism"]);
        Assert.Equal(12L, spec["backoffLimit"]);
        var rules = List(Map(spec["podFailurePolicy"])["rules"]).Select(Map).ToList();
        Assert.Equal(["Ignore", "Ignore", "FailJob"], rules.Select(rule => rule["action"]));
        Assert.Equal("DisruptionTarget", Map(List(rules[0]["onPodConditions"])[0])["type"]);
        Assert.Equal([130L], List(Map(rules[1]["onExitCodes"])["values"]));
        Assert.Equal([2L], List(Map(rules[2]["onExitCodes"])["values"]));
        Assert.Equal("riverbed", Map(rules[2]["onExitCodes"])["containerName"]);
    }

    [Fact]
    public void The_pod_runs_the_same_command_with_the_world_size_gpus_volumes_and_a_grace_period_covering_grace()
    {
        var job = Map(MiniYaml.Parse(KubernetesJob.Render(Options())));
        var pod = Map(Map(Map(job["spec"])["template"])["spec"]);
        Assert.Equal("Never", pod["restartPolicy"]);
        Assert.Equal(75L, pod["terminationGracePeriodSeconds"]);
        var container = Map(Assert.Single(List(pod["containers"])));
        Assert.Equal("riverbed", container["name"]);
        Assert.Equal("registry.example/riverbed:1.0", container["image"]);
        Assert.Equal(Command, List(container["command"]).Cast<string>());
        var env = Map(Assert.Single(List(container["env"])));
        Assert.Equal(("RIVERBED_WORLD_SIZE", "4"), (env["name"], env["value"]));
        var resources = Map(container["resources"]);
        Assert.Equal(1L, Map(resources["limits"])["nvidia.com/gpu"]);
        Assert.Equal(("8", "32Gi"), (Map(resources["limits"])["cpu"], Map(resources["limits"])["memory"]));
        Assert.Equal(("8", "32Gi"), (Map(resources["requests"])["cpu"], Map(resources["requests"])["memory"]));
        var mounts = List(container["volumeMounts"]).Select(Map).ToList();
        var volumes = List(pod["volumes"]).Select(Map).ToList();
        Assert.Equal(["/data", "/models"], mounts.Select(m => m["mountPath"]));
        Assert.Equal(mounts.Select(m => m["name"]), volumes.Select(v => v["name"]));
        Assert.Equal(["datasets", "models"], volumes.Select(v => Map(v["persistentVolumeClaim"])["claimName"]));
    }

    [Fact]
    public void A_cpu_job_asks_for_no_gpu_and_defaults_parallelism_to_completions()
    {
        var job = Map(MiniYaml.Parse(KubernetesJob.Render(new KubernetesJobOptions { Command = ["riverbed", "score"], Completions = 3, Image = "img" })));
        var spec = Map(job["spec"]);
        Assert.Equal(3L, spec["parallelism"]);
        var container = Map(List(Map(Map(spec["template"])["spec"])["containers"])[0]);
        Assert.False(container.ContainsKey("resources"));
        Assert.False(Map(job["metadata"]).ContainsKey("namespace"));
    }

    [Fact]
    public void Names_and_volumes_kubernetes_would_refuse_are_refused_here()
    {
        Assert.Throws<RiverbedException>(() => KubernetesJob.Render(new KubernetesJobOptions { Command = ["x"], Completions = 1, Image = "img", Name = "Riverbed_Job" }));
        Assert.Throws<RiverbedException>(() => KubernetesJob.Render(new KubernetesJobOptions { Command = ["x"], Completions = 1, Image = " " }));
        Assert.Throws<RiverbedException>(() => KubernetesJob.Render(new KubernetesJobOptions
        {
            Command = ["x"], Completions = 1, Image = "img", Volumes = [new KubernetesVolume("data", "relative/path")],
        }));
    }

    [Fact]
    public void The_reader_used_here_rejects_what_it_does_not_understand()
    {
        Assert.Throws<FormatException>(() => MiniYaml.Parse("a: 1\n   b: 2\n"));
        Assert.Throws<FormatException>(() => MiniYaml.Parse("a: 1\na: 2\n"));
        Assert.Throws<FormatException>(() => MiniYaml.Parse("a: 'single'\n"));
    }
}
