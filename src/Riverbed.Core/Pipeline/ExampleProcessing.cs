using Riverbed.IO;
using Riverbed.Pipeline.Execution;
using Riverbed.Scoring;
using Riverbed.Tokenization;

namespace Riverbed.Pipeline;

/// <summary>What became of one example: a row (columns, route and statistics) or a failure kept with its reason.</summary>
internal sealed class ExampleOutcome
{
    private ExampleOutcome(ColumnValue[]? columns, RowDecision route, ExampleFacts? facts, string? failureKind, string? failureMessage)
    {
        Columns = columns;
        Route = route;
        Facts = facts;
        FailureKind = failureKind;
        FailureMessage = failureMessage;
    }

    public ColumnValue[]? Columns { get; }

    public RowDecision Route { get; }

    public ExampleFacts? Facts { get; }

    public string? FailureKind { get; }

    public string? FailureMessage { get; }

    public bool Failed => FailureKind is not null;

    public static ExampleOutcome Row(ColumnValue[] columns, RowDecision route, ExampleFacts facts) => new(columns, route, facts, null, null);

    public static ExampleOutcome Failure(string kind, string message) => new(null, default, null, kind, message);
}

/// <summary>The score stage: one example in, its outcome out. Many run at once.</summary>
internal interface IExampleProcessor : IDisposable
{
    Task<ExampleOutcome> ProcessAsync(Example example, CancellationToken cancellationToken);

    /// <summary>Batching so far (empty when there are no models).</summary>
    IReadOnlyList<RoleBatchStatistics> Batching { get; }

    /// <summary>Wall time during which at least one model was running.</summary>
    TimeSpan ModelBusy { get; }

    /// <summary>No more examples: let queued model work finish and stop the workers.</summary>
    void Complete();

    /// <summary>Fail queued model work and stop the workers.</summary>
    void Abort(Exception reason);
}

/// <summary>
/// normalize → score → assemble → decide for one example: maps the dataset example onto a <see cref="Dialogue"/>, scores
/// it through the batching backend, and turns the scores into the row's columns, route and statistics. An example
/// whose text cannot be tokenized (e.g. longer than the tokenizer accepts), or one of whose model requests fails even
/// alone (<see cref="ModelRequestFailedException"/>), becomes a failure with that reason instead of failing the shard;
/// any other error fails the run.
/// </summary>
internal sealed class ModelExampleProcessor : IExampleProcessor
{
    public const string TokenizationFailure = "tokenization";

    private readonly BatchingModelBackend _backend;
    private readonly DialogueScorer _scorer;
    private readonly DecisionPolicy _policy;

    public ModelExampleProcessor(ModelSet models, ScoreRunOptions options)
    {
        _backend = new BatchingModelBackend(models, options.Batching);
        _scorer = new DialogueScorer(_backend, options.Scoring);
        _policy = options.Policy;
    }

    public IReadOnlyList<RoleBatchStatistics> Batching => _backend.Statistics;

    public TimeSpan ModelBusy => _backend.ModelBusy;

    public async Task<ExampleOutcome> ProcessAsync(Example example, CancellationToken cancellationToken)
    {
        var dialogue = Normalize(example);
        DialogueScores scores;
        try
        {
            scores = await _scorer.ScoreAsync(dialogue, cancellationToken).ConfigureAwait(false);
        }
        catch (TokenizationException error)
        {
            return ExampleOutcome.Failure(TokenizationFailure, error.Message);
        }
        catch (ModelRequestFailedException error)
        {
            // One of its model requests failed even alone (the batcher isolated it): the example is failed, the run goes on.
            return ExampleOutcome.Failure(error.Kind, error.Message);
        }
        var decision = _policy.Decide(scores.Scores);
        return ExampleOutcome.Row(ScoredColumns.Values(dialogue, scores, decision), ScoredColumns.Route(decision),
            ExampleFacts.From(dialogue, scores, decision));
    }

    /// <summary>The dataset's turns as the scorers see them: same order, same text, parents and branches, roles mapped one to one.</summary>
    public static Dialogue Normalize(Example example)
    {
        var turns = new DialogueTurn[example.Turns.Count];
        for (var i = 0; i < turns.Length; i++)
        {
            var turn = example.Turns[i];
            turns[i] = new DialogueTurn(turn.Role switch
            {
                TurnRole.System => Speaker.System,
                TurnRole.User => Speaker.User,
                TurnRole.Tool => Speaker.Tool,
                TurnRole.ToolCall => Speaker.ToolCall,
                _ => Speaker.Assistant,
            }, turn.Text)
            {
                Parent = turn.Parent,
                Branch = turn.Branch,
            };
        }
        return new Dialogue(example.Id, turns);
    }

    public void Complete() => _backend.Complete();

    public void Abort(Exception reason) => _backend.Abort(reason);

    public void Dispose() => _backend.Dispose();
}
