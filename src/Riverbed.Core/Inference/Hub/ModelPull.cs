using System.Globalization;
using System.Text.Json;
using Riverbed.Inference.ModelFolders;
using Riverbed.Inference.Onnx;

namespace Riverbed.Inference.Hub;

/// <summary>What to pull and where to put it.</summary>
public sealed class ModelPullOptions
{
    public required IReadOnlyList<RolePull> Roles { get; init; }

    public OnnxVariant Variant { get; init; } = OnnxVariant.Fp32;

    /// <summary>The models folder to create (it receives mlm/, nli/, rtd/ and ner/); it must not exist or be empty.</summary>
    public required string Output { get; init; }
}

/// <summary>One role folder a pull wrote.</summary>
public sealed record PulledRole(ModelRole Role, string Folder, ModelSource Source);

/// <summary>
/// <c>riverbed models pull</c> without the CLI: downloads each role's ONNX export, tokenizer.json and config.json into
/// Riverbed's model-folder layout, appending the replaced-token head to a feature-extraction ELECTRA export. Everything
/// is assembled in a hidden staging folder beside the output and renamed into place only when complete, so an
/// interrupted or failed pull never leaves a partial model folder behind.
/// </summary>
public static class ModelPull
{
    public const string SafetensorsFile = "model.safetensors";

    /// <summary>The staging folder a pull into <paramref name="output"/> assembles its files in.</summary>
    public static string StagingFolder(string output)
    {
        var full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.pull-partial");
    }

    public static async Task<IReadOnlyList<PulledRole>> RunAsync(HubClient hub, ModelPullOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(options);
        var output = Path.GetFullPath(options.Output).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(output) || (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any()))
        {
            throw new HubException($"{output} already exists; pull into a new folder (or delete it first), so models of two pulls never mix");
        }
        if (options.Roles.Count == 0)
        {
            throw new HubException($"nothing to pull: name a {SettingNames.Of(Setting.Preset)} or at least one of {SettingNames.Of(Setting.MlmRepository)}, {SettingNames.Of(Setting.NliRepository)}, {SettingNames.Of(Setting.RtdRepository)}, {SettingNames.Of(Setting.NerRepository)}");
        }
        var staging = StagingFolder(output);
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true); // what an interrupted pull left; never a model folder
        }
        Directory.CreateDirectory(staging);
        try
        {
            var missing = new List<string>();
            var pulled = new List<PulledRole>();
            foreach (var role in options.Roles)
            {
                var folder = Path.Combine(staging, role.Role.Name());
                Directory.CreateDirectory(folder);
                var source = await PullRoleAsync(hub, role, options.Variant, folder, missing, cancellationToken).ConfigureAwait(false);
                if (source is not null)
                {
                    pulled.Add(new PulledRole(role.Role, Path.Combine(output, role.Role.Name()), source));
                }
            }
            if (missing.Count > 0)
            {
                throw new HubNotCachedException($"offline, and the cache ({hub.CacheFolder}) lacks {missing.Count} file{(missing.Count == 1 ? string.Empty : "s")}:" +
                    string.Concat(missing.Select(m => $"{Environment.NewLine}  - {m}")) +
                    $"{Environment.NewLine}run the same pull without {SettingNames.Of(Setting.Offline)} once to fetch them")
                { Missing = string.Join("; ", missing) };
            }
            if (Directory.Exists(output))
            {
                Directory.Delete(output); // empty, checked above
            }
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            Directory.Move(staging, output);
            return pulled;
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
            throw;
        }
    }

    private static async Task<ModelSource?> PullRoleAsync(HubClient hub, RolePull role, OnnxVariant variant, string folder,
        List<string> missing, CancellationToken cancellationToken)
    {
        var model = role.Model;
        async Task<HubFile?> Fetch(HubReference reference, string path)
        {
            try
            {
                return await hub.DownloadAsync(reference.Repository, reference.Revision, path, cancellationToken).ConfigureAwait(false);
            }
            catch (HubNotCachedException error)
            {
                missing.Add(error.Missing);
                return null;
            }
        }
        var onnx = await Fetch(model, variant.FilePath()).ConfigureAwait(false);
        var tokenizer = await Fetch(model, ModelFolder.TokenizerFileName).ConfigureAwait(false);
        var config = await Fetch(model, ModelFolder.ConfigFileName).ConfigureAwait(false);
        if (onnx is null || tokenizer is null || config is null)
        {
            if (role.Role == ModelRole.ReplacedTokenDetection && role.Head is { } head)
            {
                // Which head tensors are needed depends on files that are missing too; the checkpoint is listed whole.
                missing.Add($"{head} {SafetensorsFile} (the head's tensors)");
            }
            return null;
        }
        if (onnx.Commit != tokenizer.Commit || onnx.Commit != config.Commit)
        {
            throw new HubException($"{model}: its files resolved to different commits ({onnx.Commit}, {tokenizer.Commit}, {config.Commit}); " +
                $"the revision moved during the pull: run it again, or pin {SettingNames.Of(Setting.Revision)} to a commit");
        }

        File.Copy(tokenizer.LocalPath, Path.Combine(folder, ModelFolder.TokenizerFileName));
        File.Copy(config.LocalPath, Path.Combine(folder, ModelFolder.ConfigFileName));
        var modelPath = Path.Combine(folder, ModelFolder.ModelFileName);
        ModelSourceHead? headSource = null;
        var needsHead = role.Role == ModelRole.ReplacedTokenDetection && IsFeatureExtractor(onnx);
        if (needsHead)
        {
            var headReference = role.Head ?? throw new HubException(
                $"{model}: {variant.FilePath()} is a feature-extraction export (output '{ElectraDiscriminatorHead.HiddenStateOutput}', no 'logits'); " +
                $"name the original checkpoint whose model.safetensors holds its replaced-token head with {SettingNames.Of(Setting.RtdHead)} OWNER/NAME[@REVISION]");
            var (head, source) = await ReadHeadAsync(hub, headReference, config.LocalPath, missing, cancellationToken).ConfigureAwait(false);
            if (head is null || source is null)
            {
                return null;
            }
            var encoder = await File.ReadAllBytesAsync(onnx.LocalPath, cancellationToken).ConfigureAwait(false);
            await using (var file = new FileStream(modelPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                try
                {
                    head.AppendTo(encoder, file, $"{model.Repository} {variant.FilePath()}");
                }
                catch (InvalidDataException error)
                {
                    throw new HubException(error.Message, error);
                }
            }
            headSource = source;
        }
        else
        {
            File.Copy(onnx.LocalPath, modelPath);
        }
        var record = new ModelSource(model.Repository, model.Revision, onnx.Commit,
        [
            new ModelSourceFile(ModelFolder.ModelFileName, onnx.Path, onnx.Sha256),
            new ModelSourceFile(ModelFolder.TokenizerFileName, tokenizer.Path, tokenizer.Sha256),
            new ModelSourceFile(ModelFolder.ConfigFileName, config.Path, config.Sha256),
        ])
        {
            Endpoint = hub.Endpoint,
            Head = headSource,
        };
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelSource.FileName), record.ToJson(), cancellationToken).ConfigureAwait(false);
        return record;
    }

    private static bool IsFeatureExtractor(HubFile onnx)
    {
        var length = new FileInfo(onnx.LocalPath).Length;
        if (length > int.MaxValue)
        {
            return false; // beyond protobuf's limit: leave it to the model check, which explains external data
        }
        try
        {
            var outputs = OnnxGraphSplicer.Outline(File.ReadAllBytes(onnx.LocalPath)).Outputs;
            return outputs.Any(o => o.Name == ElectraDiscriminatorHead.HiddenStateOutput) && outputs.All(o => o.Name != "logits");
        }
        catch (InvalidDataException error)
        {
            throw new HubException($"{onnx.Repository} {onnx.Path}: not a readable ONNX model ({error.Message})", error);
        }
    }

    private static async Task<(ElectraDiscriminatorHead? Head, ModelSourceHead? Source)> ReadHeadAsync(HubClient hub, HubReference reference,
        string configPath, List<string> missing, CancellationToken cancellationToken)
    {
        var (hiddenSize, activation) = ReadHeadConfig(configPath);
        var where = $"{reference.Repository}@{reference.Revision} {SafetensorsFile}";
        try
        {
            var (first, fileLength, commit) = await hub.ReadRangeAsync(reference.Repository, reference.Revision, SafetensorsFile, 0, 8, cancellationToken).ConfigureAwait(false);
            var headerLength = SafetensorsHeader.ReadHeaderLength(first, where, fileLength);
            var (json, _, _) = await hub.ReadRangeAsync(reference.Repository, commit, SafetensorsFile, 8, (int)headerLength, cancellationToken).ConfigureAwait(false);
            var header = SafetensorsHeader.Parse(json, where, fileLength);
            var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (name, shape) in ElectraDiscriminatorHead.Tensors(hiddenSize))
            {
                var tensor = header.Require(name, shape);
                var (data, _, _) = await hub.ReadRangeAsync(reference.Repository, commit, SafetensorsFile, tensor.Start, checked((int)tensor.Length), cancellationToken).ConfigureAwait(false);
                bytes[name] = data;
            }
            var head = ElectraDiscriminatorHead.FromCheckpoint(header, t => bytes[t.Name], hiddenSize, activation);
            return (head, new ModelSourceHead(reference.Repository, reference.Revision, commit, SafetensorsFile,
                [.. ElectraDiscriminatorHead.Tensors(hiddenSize).Select(t => t.Name)]));
        }
        catch (HubNotCachedException error)
        {
            missing.Add(error.Missing);
            return (null, null);
        }
        catch (InvalidDataException error)
        {
            throw new HubException($"{where}: {error.Message}", error);
        }
    }

    private static (int HiddenSize, HeadActivation Activation) ReadHeadConfig(string configPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configPath));
            var root = document.RootElement;
            if (!root.TryGetProperty("hidden_size", out var size) || !size.TryGetInt32(out var hidden) || hidden <= 0)
            {
                throw new HubException($"{configPath}: config.json has no positive hidden_size; the ELECTRA head's size comes from it");
            }
            var act = root.TryGetProperty("hidden_act", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (!HeadActivations.TryParse(act, out var activation))
            {
                throw new HubException($"{configPath}: config.json hidden_act is '{act ?? "(missing)"}'; the ELECTRA head supports gelu, gelu_new, gelu_pytorch_tanh, gelu_fast and relu");
            }
            return (hidden, activation);
        }
        catch (JsonException error)
        {
            throw new HubException($"{configPath}: config.json {JsonErrors.NotValidJson(error)}", error);
        }
    }

    /// <summary>Formats a byte count for progress lines.</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
