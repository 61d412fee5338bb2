using Riverbed.Inference.Models;

namespace Riverbed.Pipeline;

/// <summary>
/// Real tokens one example sent to each model. The pipeline makes one per example and sets it as the ambient ledger
/// while the example is scored; the batching backend adds each request's length to the ambient ledger when the
/// request is made. (Requests do not say which example they serve, and the scorers should not have to.)
/// </summary>
internal sealed class TokenLedger
{
    private static readonly AsyncLocal<TokenLedger?> Ambient = new();

    private readonly long[] _tokens = new long[4];

    /// <summary>The ledger of the example being scored on this logical flow, if any.</summary>
    public static TokenLedger? Current => Ambient.Value;

    /// <summary>
    /// Makes <paramref name="ledger"/> the ambient one for the calling async flow. Set inside an async method, the value
    /// reaches everything it awaits and is restored when that method returns.
    /// </summary>
    public static void Enter(TokenLedger? ledger) => Ambient.Value = ledger;

    public void Add(ModelRole role, int tokens) => Interlocked.Add(ref _tokens[(int)role], tokens);

    public long this[ModelRole role] => Volatile.Read(ref _tokens[(int)role]);
}
