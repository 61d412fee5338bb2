using Riverbed.Inference.ModelFolders;
using Riverbed.Scoring;

namespace Riverbed.Pipeline.Execution;

/// <summary>
/// An <see cref="IModelBackend"/> that runs every request alone, at once, on the calling thread, through the first
/// runner of its role: for single examples and tests. The pipeline's batching backend gives the same answers faster.
/// </summary>
public sealed class DirectModelBackend : IModelBackend
{
    private readonly ModelSet _models;

    public DirectModelBackend(ModelSet models)
    {
        ArgumentNullException.ThrowIfNull(models);
        _models = models;
    }

    public ModelRoleInfo? Mlm => _models.Mlm?.Info;

    public ModelRoleInfo? Nli => _models.Nli?.Info;

    public ModelRoleInfo? Rtd => _models.Rtd?.Info;

    public ModelRoleInfo? Ner => _models.Ner?.Info;

    public ValueTask<IReadOnlyList<MaskPrediction>> FillMaskAsync(FillMaskRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Runner(ModelRole.MaskedLm).FillMask([request], cancellationToken)[0]);

    public ValueTask<NliProbabilities> ClassifyPairAsync(ModelInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Runner(ModelRole.Nli).ClassifyPairs([input], cancellationToken)[0]);

    public ValueTask<float[]> ReplacedTokenLogitsAsync(ModelInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Runner(ModelRole.ReplacedTokenDetection).ReplacedTokenLogits([input], cancellationToken)[0]);

    public ValueTask<int[]> EntityLabelsAsync(ModelInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Runner(ModelRole.TokenClassification).EntityLabels([input], cancellationToken)[0]);

    private ModelRunner Runner(ModelRole role) =>
        (_models[role] ?? throw new InvalidOperationException($"the model set has no {role.Name()} model")).Runners[0];
}
