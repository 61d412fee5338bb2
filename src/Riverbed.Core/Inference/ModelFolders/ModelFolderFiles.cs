namespace Riverbed.Inference.ModelFolders;

/// <summary>
/// Opening a model folder: the folder and its three files, config.json read (every bad field a problem), and the
/// ONNX session created with the caller's options. It checks nothing about what the model declares or does; that is
/// <see cref="ContractCheck"/>'s and <see cref="ContractProbe"/>'s work.
/// </summary>
internal sealed class ModelFolderFiles
{
    private readonly ContractFindings _findings;

    private ModelFolderFiles(string path, ModelConfig? config, ContractFindings findings)
    {
        Path = path;
        Config = config;
        _findings = findings;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    public string ModelPath => System.IO.Path.Combine(Path, ModelFolder.ModelFileName);

    public string TokenizerPath => System.IO.Path.Combine(Path, ModelFolder.TokenizerFileName);

    public string ConfigPath => System.IO.Path.Combine(Path, ModelFolder.ConfigFileName);

    /// <summary>config.json, or null when it is missing or unusable (a problem says why).</summary>
    public ModelConfig? Config { get; }

    /// <summary>Finds the folder's files and reads config.json, adding a problem for each missing or bad one.</summary>
    /// <exception cref="ModelContractException">There is no folder at <paramref name="path"/>.</exception>
    public static ModelFolderFiles Read(string path, ContractFindings findings)
    {
        var folder = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(folder))
        {
            throw new ModelContractException(folder, [File.Exists(folder)
                ? $"'{folder}' is a file; a model is a folder holding {ModelFolder.ModelFileName}, {ModelFolder.TokenizerFileName} and {ModelFolder.ConfigFileName}"
                : $"model folder not found: '{folder}'"]);
        }
        foreach (var file in new[] { ModelFolder.ModelFileName, ModelFolder.TokenizerFileName, ModelFolder.ConfigFileName })
        {
            if (!File.Exists(System.IO.Path.Combine(folder, file)))
            {
                findings.Problems.Add($"missing {file} (a model folder holds {ModelFolder.ModelFileName}, {ModelFolder.TokenizerFileName} and {ModelFolder.ConfigFileName})");
            }
        }
        var configPath = System.IO.Path.Combine(folder, ModelFolder.ConfigFileName);
        var config = File.Exists(configPath) ? ModelConfig.Load(configPath, findings.Problems) : null;
        return new ModelFolderFiles(folder, config, findings);
    }

    /// <summary>The model's session (which the caller then owns), or null when there is no model.onnx or the runtime refuses it (a problem says why).</summary>
    public InferenceSession? CreateSession(InferenceEnvironment environment, SessionOptions options)
    {
        if (!File.Exists(ModelPath))
        {
            return null;
        }
        try
        {
            return InferenceSession.Create(environment, ModelPath, options);
        }
        catch (RiverbedException error)
        {
            _findings.Problems.Add(error.Message);
            return null;
        }
    }
}
