using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;

namespace Riverbed.Core.Tests;

/// <summary>
/// What every collection of oracle model folders shares: a scratch folder the derived fixture writes its folders into,
/// one inference environment, and model sets opened from named folders — fresh for a test that disposes them, or once
/// for the whole collection (sessions accept concurrent runs).
/// </summary>
public abstract class OracleFolders(string hint) : IDisposable
{
    private readonly ScratchFolder _scratch = new(hint);
    private readonly Dictionary<string, ModelSet> _shared = new(StringComparer.Ordinal);

    public InferenceEnvironment Environment { get; } = InferenceEnvironment.Create(OrtLogLevel.Error);

    /// <summary>The path of a folder or file named <paramref name="name"/> inside the scratch folder.</summary>
    public string Folder(string name) => _scratch.File(name);

    /// <summary>Opens a model set from named oracle folders, e.g. (Nli, "nli"); the caller disposes it.</summary>
    public ModelSet Open(params (ModelRole Role, string Name)[] roles) =>
        ModelSet.Open(roles.ToDictionary(r => r.Role, r => Folder(r.Name)), new ModelSetOptions { Environment = Environment });

    /// <summary>A model set opened once for the whole collection; do not dispose it.</summary>
    public ModelSet Shared(params (ModelRole Role, string Name)[] roles)
    {
        var key = string.Join(';', roles.OrderBy(r => r.Role).Select(r => $"{r.Role}={r.Name}"));
        lock (_shared)
        {
            if (!_shared.TryGetValue(key, out var models))
            {
                models = Open(roles);
                _shared.Add(key, models);
            }
            return models;
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }
        foreach (var models in _shared.Values)
        {
            models.Dispose();
        }
        Environment.Dispose();
        _scratch.Dispose();
    }
}
