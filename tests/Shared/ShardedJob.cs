using System.Globalization;
using System.Text;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Testing;

/// <summary>
/// A small job on disk: an input folder of Alpaca JSON Lines shards and an output folder, with helpers that commit
/// shards through IO's real writer (convert's loop) and record the job the way a scoring run does.
/// </summary>
internal sealed class ShardedJob : IDisposable
{
    private readonly ScratchFolder _scratch = new("sharding");

    public ShardedJob(int shards, int rowsPerShard = 3)
    {
        Directory.CreateDirectory(InputFolder);
        for (var i = 0; i < shards; i++)
        {
            WriteShard(ShardName(i), rowsPerShard);
        }
    }

    public string InputFolder => _scratch.File("in");

    public string OutputFolder => _scratch.File("out");

    public string Root => _scratch.Path;

    public ConvertOptions Options => new() { OutputFolder = OutputFolder, Format = OutputFormat.JsonLines };

    public string ConfigHash => Options.ConfigHash();

    public static string ShardName(int index) => string.Create(CultureInfo.InvariantCulture, $"part-{index:D2}.jsonl");

    public IReadOnlyList<ShardInput> Inputs() => InputResolver.Resolve([InputFolder]);

    public string InputPath(int index) => Path.Combine(InputFolder, ShardName(index));

    public void WriteShard(string name, int rows)
    {
        var text = new StringBuilder();
        for (var row = 0; row < rows; row++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{{\"instruction\":\"question {name} {row}\",\"output\":\"answer {row}\"}}\n");
        }
        File.WriteAllText(Path.Combine(InputFolder, name), text.ToString());
    }

    /// <summary>Records the job over <paramref name="worldSize"/> ranks, as every rank of a run does first.</summary>
    public JobRecord Record(int worldSize, string? configHash = null, bool force = false) =>
        JobRecord.Establish(OutputFolder, ShardAssignment.BySize(Inputs(), worldSize), Inputs(), configHash ?? ConfigHash, force);

    /// <summary>Commits the shards with these indexes (convert's loop: real manifests, real commit protocol).</summary>
    public async Task CommitAsync(params int[] indexes)
    {
        var inputs = Inputs().Where(input => indexes.Contains(int.Parse(input.Name[5..7], CultureInfo.InvariantCulture))).ToList();
        var outcomes = await ShardConverter.RunAsync(inputs, Options);
        Assert.All(outcomes, outcome => Assert.NotEqual(ShardOutcomeKind.Failed, outcome.Kind));
    }

    public string OutputFile(int index) => Path.Combine(OutputFolder, Path.GetFileNameWithoutExtension(ShardName(index)) + ".jsonl");

    public string ManifestFile(int index) => Path.Combine(OutputFolder, Path.GetFileNameWithoutExtension(ShardName(index)) + ".manifest.json");

    public void Dispose() => _scratch.Dispose();
}
