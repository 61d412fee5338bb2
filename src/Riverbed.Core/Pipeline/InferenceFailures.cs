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

    /// <summary>The failure kind of a request whose model output was NaN or infinite even alone.</summary>
    public const string NonFiniteOutput = "non_finite_output";

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
        Kind = error switch
        {
            OrtException { IsAllocationFailure: true } => OutOfMemory,
            NonFiniteOutputException => NonFiniteOutput,
            _ => RuntimeError,
        };
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

/// <summary>
/// A model produced NaN or infinity for a batch (corrupt weights, or an fp16 overflow). The batcher treats it like a
/// runtime error a request may have caused: it halves the batch down to the request, which fails with
/// <see cref="ModelRequestFailedException.NonFiniteOutput"/>; the other requests keep their finite answers.
/// </summary>
public sealed class NonFiniteOutputException : RiverbedException
{
    public NonFiniteOutputException()
    {
    }

    public NonFiniteOutputException(string role)
        : base($"the {role} model's output is not finite (NaN or infinity: corrupt weights or an fp16 overflow); a non-finite output is never kept as a score")
    {
    }

    public NonFiniteOutputException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
