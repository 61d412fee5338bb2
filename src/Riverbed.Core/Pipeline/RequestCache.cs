using System.Runtime.InteropServices;
using Riverbed.Scoring;

namespace Riverbed.Pipeline;

/// <summary>
/// Answers identical model requests once per run: a request whose ids and type ids equal an earlier one's shares that
/// one's answer (in flight or done) instead of going to the model again. Bounded: the oldest of more than
/// <c>capacity</c> distinct requests is forgotten. Answers do not depend on batching, so a shared answer is exactly
/// the one a second run of the request would give; a request that failed or was cancelled is forgotten, and a waiter
/// whose own token is still live runs its request itself rather than inherit another caller's cancellation.
/// </summary>
internal sealed class RequestCache<TResult>(int capacity)
{
    private readonly object _gate = new();
    private readonly Dictionary<InputKey, Task<TResult>> _answers = [];
    private readonly Queue<InputKey> _order = new();
    private long _lookups;
    private long _hits;

    /// <summary>Lookups so far, and how many the cache answered.</summary>
    public (long Lookups, long Hits) Counts
    {
        get
        {
            lock (_gate)
            {
                return (_lookups, _hits);
            }
        }
    }

    public async ValueTask<TResult> GetAsync(ModelInput input, Func<ModelInput, CancellationToken, Task<TResult>> compute,
        CancellationToken cancellationToken)
    {
        var key = new InputKey(input);
        Task<TResult> answer;
        bool shared;
        lock (_gate)
        {
            _lookups++;
            shared = _answers.TryGetValue(key, out answer!);
            if (shared)
            {
                _hits++;
            }
            else
            {
                answer = compute(input, cancellationToken);
                _answers[key] = answer;
                _order.Enqueue(key);
                while (_order.Count > capacity)
                {
                    _answers.Remove(_order.Dequeue());
                }
            }
        }
        try
        {
            return await (shared ? answer.WaitAsync(cancellationToken) : answer).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shared && !cancellationToken.IsCancellationRequested)
        {
            // The caller who ran it was cancelled, not this one.
            Forget(key, answer);
            return await compute(input, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Forget(key, answer);
            throw;
        }
    }

    private void Forget(InputKey key, Task<TResult> answer)
    {
        lock (_gate)
        {
            if (_answers.TryGetValue(key, out var current) && current == answer)
            {
                _answers.Remove(key);
            }
        }
    }

    /// <summary>A request's ids and type ids compared by content.</summary>
    private readonly struct InputKey : IEquatable<InputKey>
    {
        private readonly int[] _ids;
        private readonly int[]? _typeIds;
        private readonly int _hash;

        public InputKey(ModelInput input)
        {
            _ids = input.Ids;
            _typeIds = input.TypeIds;
            var hash = new HashCode();
            hash.AddBytes(MemoryMarshal.AsBytes(_ids.AsSpan()));
            hash.Add(_typeIds is null);
            if (_typeIds is not null)
            {
                hash.AddBytes(MemoryMarshal.AsBytes(_typeIds.AsSpan()));
            }
            _hash = hash.ToHashCode();
        }

        public bool Equals(InputKey other) =>
            _hash == other._hash && _ids.AsSpan().SequenceEqual(other._ids)
            && (_typeIds is null ? other._typeIds is null : other._typeIds is not null && _typeIds.AsSpan().SequenceEqual(other._typeIds));

        public override bool Equals(object? obj) => obj is InputKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
