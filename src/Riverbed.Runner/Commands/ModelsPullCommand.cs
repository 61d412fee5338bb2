using System.CommandLine;
using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.Hub;
using Riverbed.Inference.ModelFolders;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed models pull</c>: real models in one command. Downloads each role's public ONNX export with its
/// tokenizer.json and config.json from the HuggingFace Hub (or a mirror), appends ELECTRA's replaced-token head where
/// the export stops at the hidden states, writes the models folder atomically and runs <c>models check</c> on it.
/// </summary>
internal static class ModelsPullCommand
{
    public static Command Create()
    {
        var preset = new Option<string?>("--preset")
        {
            Description = "A set of public repositories: small, base or large (see models/README.md for what each holds).",
        };
        preset.AcceptOnlyFromAmong([.. HubPresets.Names]);
        var mlm = RoleOption("--mlm", "fill-mask export for the mlm role");
        var nli = RoleOption("--nli", "NLI sequence-classification export for the nli role");
        var rtd = RoleOption("--rtd", "ELECTRA discriminator export for the rtd role (a feature-extraction export gets its head appended)");
        var ner = RoleOption("--ner", "BIO token-classification export for the optional ner role");
        var rtdHead = new Option<string?>("--rtd-head")
        {
            Description = "OWNER/NAME[@REVISION] of the original ELECTRA checkpoint whose model.safetensors holds the replaced-token head.",
        };
        var variant = new Option<string>("--variant")
        {
            Description = "Which ONNX file of each export: fp32 (onnx/model.onnx), fp16 (onnx/model_fp16.onnx) or int8 (onnx/model_quantized.onnx).",
            DefaultValueFactory = _ => "fp32",
        };
        variant.AcceptOnlyFromAmong([.. OnnxVariants.Names]);
        var revision = new Option<string>("--revision")
        {
            Description = "Branch, tag or commit for every repository not given as OWNER/NAME@REVISION.",
            DefaultValueFactory = _ => "main",
        };
        var offline = new Option<bool>("--offline") { Description = "Use only the download cache; list what is missing instead of downloading it." };
        var cache = new Option<string?>("--cache")
        {
            Description = "The download cache (default: RIVERBED_HUB_CACHE, else $XDG_CACHE_HOME/riverbed/hub, else ~/.cache/riverbed/hub).",
        };
        var output = new Option<string>("--output", "-o") { Description = "The models folder to create (it gets mlm/, nli/, rtd/ and ner/).", Required = true };
        var command = new Command("pull",
            "Download real models from the HuggingFace Hub into a models folder (no Python): a preset or a repository per role. " +
            "HF_ENDPOINT selects a mirror, HF_TOKEN reads gated repositories. The result is checked like `models check`.")
        {
            preset, mlm, nli, rtd, ner, rtdHead, variant, revision, offline, cache, output,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(preset) is null && new[] { mlm, nli, rtd, ner }.All(o => result.GetValue(o) is null))
            {
                result.AddError("name a --preset, or the repositories of the roles to pull (--mlm, --nli, --rtd, --ner)");
            }
        });
        CommandAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var defaultRevision = parseResult.GetValue(revision)!;
            var given = new Dictionary<ModelRole, string?>
            {
                [ModelRole.MaskedLm] = parseResult.GetValue(mlm),
                [ModelRole.Nli] = parseResult.GetValue(nli),
                [ModelRole.ReplacedTokenDetection] = parseResult.GetValue(rtd),
                [ModelRole.TokenClassification] = parseResult.GetValue(ner),
            };
            var roles = Plan(parseResult.GetValue(preset), given, parseResult.GetValue(rtdHead), defaultRevision);
            var options = HubOptions.FromEnvironment(parseResult.GetValue(cache) is { } folder ? Path.GetFullPath(folder) : null, parseResult.GetValue(offline));
            return await RunAsync(options, new ModelPullOptions
            {
                Roles = roles,
                Variant = (OnnxVariant)OnnxVariants.Names.ToList().IndexOf(parseResult.GetValue(variant)!),
                Output = parseResult.GetValue(output)!,
            }, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Option<string?> RoleOption(string name, string what) => new(name)
    {
        Description = $"OWNER/NAME[@REVISION] of the {what}; overrides the preset's.",
    };

    /// <summary>The roles to pull: the preset's, each replaced by a repository given for it.</summary>
    private static List<RolePull> Plan(string? preset, Dictionary<ModelRole, string?> given, string? rtdHead, string defaultRevision)
    {
        var roles = new List<RolePull>();
        var unavailable = new List<string>();
        var presetRoles = preset is null ? [] : HubPresets.Get(preset);
        foreach (var role in Enum.GetValues<ModelRole>())
        {
            var fromPreset = presetRoles.FirstOrDefault(p => p.Role == role);
            var repository = given[role] ?? fromPreset?.Repository;
            if (repository is null)
            {
                if (fromPreset is not null)
                {
                    unavailable.Add($"{role.Name()}: {fromPreset.Note}");
                }
                continue;
            }
            var head = role == ModelRole.ReplacedTokenDetection ? rtdHead ?? fromPreset?.HeadRepository : null;
            roles.Add(new RolePull(role, HubReference.Parse(repository, defaultRevision),
                head is null ? null : HubReference.Parse(head, defaultRevision)));
        }
        if (unavailable.Count > 0)
        {
            throw new RiverbedException($"the {preset} preset cannot fill every role:" +
                string.Concat(unavailable.Select(u => $"{Environment.NewLine}  - {u}")));
        }
        return roles;
    }

    private static async Task<int> RunAsync(HubOptions options, ModelPullOptions pull, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(pull.Output);
        using var hub = new HubClient(options);
        var live = !Console.IsOutputRedirected;
        hub.Progress += progress => Report(progress, live);
        Console.Out.WriteLine($"pulling into {output} ({(options.Offline ? "offline, from the cache" : options.Endpoint)}; cache {options.CacheFolder})");
        foreach (var role in pull.Roles)
        {
            Console.Out.WriteLine($"  {role.Role.Name(),-3}  {role.Model}{(role.Head is { } h ? $"  (head from {h})" : string.Empty)}");
        }
        IReadOnlyList<PulledRole> pulled;
        try
        {
            pulled = await ModelPull.RunAsync(hub, pull, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The cache or the output folder could not be written (disk full, permissions): say which, without a trace.
            throw new RiverbedException($"models pull into {output}: {error.Message} (cache: {options.CacheFolder})", error);
        }

        // The same check as `riverbed models check`; a folder that fails it is removed, so nothing unusable stays.
        var failed = 0;
        foreach (var role in pulled)
        {
            cancellationToken.ThrowIfCancellationRequested();
            failed += ModelsCheckCommand.Run([role.Folder], role.Role, ExecutionProvider.Cpu, cancellationToken) == ExitCodes.Success ? 0 : 1;
        }
        if (failed > 0)
        {
            Directory.Delete(output, recursive: true);
            throw new RiverbedException($"{failed} of {pulled.Count} pulled model folders break the contract (see above); {output} was removed " +
                "(the downloads stay in the cache). Pick other repositories for those roles, or export them with the recipe in models/README.md");
        }
        foreach (var role in pulled)
        {
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{role.Role.Name()}: {role.Source.Repository} at {role.Source.Commit}{(role.Source.Head is { } head ? $", head from {head.Repository} at {head.Commit}" : string.Empty)}"));
        }
        Console.Out.WriteLine($"pulled {pulled.Count} model folders into {output}; score with: riverbed score DATA --models {pull.Output} -o OUT");
        return ExitCodes.Success;
    }

    private static void Report(HubProgress progress, bool live)
    {
        var name = $"{progress.Repository} {progress.Path}";
        if (progress.Finished)
        {
            var how = progress.FromCache ? "from the cache" : progress.Verified is { } verified ? $"{verified} verified" : "not verifiable (the server sent no hash)";
            // On a terminal the line replaces the live one; in a log it is the only line the file gets.
            var (start, clear) = live ? ("\r", "\u001b[K") : (string.Empty, string.Empty);
            Console.Out.WriteLine($"{start}    {name}  {ModelPull.FormatSize(progress.Received)}  {how}{clear}");
            return;
        }
        if (!live)
        {
            return;
        }
        var total = progress.Total is { } t && t > 0
            ? string.Create(CultureInfo.InvariantCulture, $" / {ModelPull.FormatSize(t)} ({100.0 * progress.Received / t:F0}%)")
            : string.Empty;
        Console.Out.Write($"\r    {name}  {ModelPull.FormatSize(progress.Received)}{total}\u001b[K");
    }
}
