using System.Globalization;
using Riverbed.Inference;

namespace Riverbed.Pipeline;

/// <summary>
/// One model request that failed even when run alone (after its batch was halved down to it, and after retries when
/// the failure was a failed allocation). Its example becomes a failed row with <see cref="Kind"/> and this message;
/// the other requests of the batch were scored.
/// </summary>
public sealed class ModelRequestFailedException : RiverbedException
{
    /// <summary>The failure kind of a request the runtime could not find memory for even alone.</summary>
    public const string OutOfMemory = "inference_oom";

    /// <summary>The failure kind of a request the runtime refused alone for any other reason (a shape, a value…).</summary>
    public const string RuntimeError = "inference_error";

    public ModelRequestFailedException()
    {
    }

    public ModelRequestFailedException(string message)
        : base(message)
    {
    }

    public ModelRequestFailedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal ModelRequestFailedException(string role, int tokens, int attempts, Exception error)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"the {role} model failed on a request of {tokens} tokens run alone ({attempts} attempt{(attempts == 1 ? "" : "s")}): {error.Message}"), error)
    {
        Kind = error is OrtException { IsAllocationFailure: true } ? OutOfMemory : RuntimeError;
        Role = role;
        Tokens = tokens;
    }

    /// <summary><see cref="OutOfMemory"/> or <see cref="RuntimeError"/>: the failed row's kind.</summary>
    public string Kind { get; } = RuntimeError;

    /// <summary>mlm, nli, rtd or ner.</summary>
    public string Role { get; } = string.Empty;

    /// <summary>The request's length in tokens.</summary>
    public int Tokens { get; }
}

/// <summary>
/// A model failed so many runs in a row (whole batches, halves, single requests) that the fault is the runtime's or
/// the device's, not the examples': a sticky device error, or memory too short for even one request. Failing every
/// example one by one would empty the run into failures, so the run stops instead; a rerun resumes after the last
/// committed shard (on a healthy device, or with a smaller --batch-tokens).
/// </summary>
public sealed class InferenceFaultException : RiverbedException
{
    public InferenceFaultException()
    {
    }

    public InferenceFaultException(string message)
        : base(message)
    {
    }

    public InferenceFaultException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
