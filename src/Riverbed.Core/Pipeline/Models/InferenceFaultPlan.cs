using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.Models;
using Riverbed.Tokenization;

namespace Riverbed.Pipeline.Models;

/// <summary>
/// Test hook (reliability C1, C10), off unless RIVERBED_FAULT_OOM is set: makes the model sessions of a run fail some
/// Runs exactly as ONNX Runtime fails them (<see cref="InferenceFaults"/>), so child-process tests can drive the
/// batchers' halving, retries, quarantine and failure budget through the real CLI. Comma-separated key=value pairs,
/// exactly one of the first three:
/// <list type="bullet">
/// <item><c>p=0.05[,seed=7]</c>: each Run fails with probability p (one seeded generator for the whole process);</item>
/// <item><c>every=3</c>: every third Run of each role fails;</item>
/// <item><c>word=zebra</c>: every Run whose batch holds a request with that word's tokens fails, alone too: the
///   examples whose text contains the word become failed rows (a poison request);</item>
/// <item><c>role=nli</c> (optional): only that role's sessions (mlm, nli, rtd, ner); default all;</item>
/// <item><c>kind=oom|error</c> (optional): an allocation failure (default) or an invalid-argument error.</item>
/// </list>
/// </summary>
internal sealed class InferenceFaultPlan
{
    public const string EnvironmentVariable = "RIVERBED_FAULT_OOM";

    private readonly object _gate = new();
    private readonly Random? _random;

    private InferenceFaultPlan(double? probability, long seed, int? every, string? word, ModelRole? role, InjectedFault fault)
    {
        Probability = probability;
        Every = every;
        Word = word;
        Role = role;
        Fault = fault;
        _random = probability is null ? null : new Random(unchecked((int)seed ^ (int)(seed >> 32)));
    }

    public double? Probability { get; }

    public int? Every { get; }

    public string? Word { get; }

    public ModelRole? Role { get; }

    public InjectedFault Fault { get; }

    /// <summary>The plan RIVERBED_FAULT_OOM describes, or null when it is unset or empty.</summary>
    public static InferenceFaultPlan? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } text ? Parse(text) : null;

    /// <exception cref="RiverbedException">The text is not a plan; the message shows the accepted forms.</exception>
    public static InferenceFaultPlan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        double? probability = null;
        long seed = 0;
        int? every = null;
        string? word = null;
        ModelRole? role = null;
        var fault = InjectedFault.AllocationFailure;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? string.Empty : part[(equals + 1)..];
            switch (key)
            {
                case "p" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 1:
                    probability = p;
                    break;
                case "seed" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s):
                    seed = s;
                    break;
                case "every" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1:
                    every = n;
                    break;
                case "word" when value.Trim().Length > 0:
                    word = value.Trim();
                    break;
                case "role" when Enum.GetValues<ModelRole>().Where(r => r.Name() == value).ToArray() is [var named]:
                    role = named;
                    break;
                case "kind" when value is "oom" or "error":
                    fault = value == "oom" ? InjectedFault.AllocationFailure : InjectedFault.InvalidArgument;
                    break;
                default:
                    throw Invalid(text, $"'{part}' is not understood");
            }
        }
        if ((probability is null ? 0 : 1) + (every is null ? 0 : 1) + (word is null ? 0 : 1) != 1)
        {
            throw Invalid(text, "give exactly one of p=, every= or word=");
        }
        return new InferenceFaultPlan(probability, seed, every, word, role, fault);
    }

    /// <summary>Sets the fault trigger on every session of the roles the plan covers.</summary>
    public void Attach(ModelSet models)
    {
        ArgumentNullException.ThrowIfNull(models);
        foreach (var role in Enum.GetValues<ModelRole>())
        {
            if (models[role] is { } entry && (Role is null || Role == role))
            {
                var trigger = TriggerFor(entry.Tokenizer);
                foreach (var runner in entry.Runners)
                {
                    runner.Session.InjectFault = trigger;
                    if (runner.MaskedHead is { } head)
                    {
                        head.Session.InjectFault = trigger;
                    }
                }
            }
        }
    }

    private FaultTrigger TriggerFor(Tokenizer tokenizer)
    {
        if (Word is { } word)
        {
            // With and without a leading space: byte-level BPE spells a word differently inside a sentence.
            var plain = new EncodeOptions { AddSpecialTokens = false };
            int[][] spellings = [.. new[] { word, " " + word }
                .Select(text => tokenizer.Encode(text, plain).Ids.ToArray())
                .Where(ids => ids.Length > 0)
                .DistinctBy(ids => string.Join(' ', ids))];
            return inputs => Contains(inputs, spellings) ? Fault : InjectedFault.None;
        }
        if (Every is { } every)
        {
            var runs = 0L;
            return _ => Interlocked.Increment(ref runs) % every == 0 ? Fault : InjectedFault.None;
        }
        return _ =>
        {
            lock (_gate)
            {
                return _random!.NextDouble() < Probability ? Fault : InjectedFault.None;
            }
        };
    }

    /// <summary>Whether some row of the input_ids tensor holds one of the spellings, contiguous.</summary>
    private static bool Contains(ReadOnlySpan<NamedTensor> inputs, int[][] spellings)
    {
        foreach (var input in inputs)
        {
            if (input.Name != "input_ids" || input.Tensor.Rank != 2)
            {
                continue;
            }
            var length = checked((int)input.Tensor.Shape[1]);
            var ids = input.Tensor switch
            {
                OrtTensor<long> wide => wide.Span.ToArray().Select(id => (int)id).ToArray(),
                OrtTensor<int> narrow => narrow.Span.ToArray(),
                _ => [],
            };
            for (var row = 0; row + length <= ids.Length && length > 0; row += length)
            {
                var tokens = ids.AsSpan(row, length);
                foreach (var spelling in spellings)
                {
                    if (tokens.IndexOf(spelling) >= 0)
                    {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static RiverbedException Invalid(string text, string problem) => new(
        $"{EnvironmentVariable}='{text}' (a test hook): {problem}. Forms: p=0.05[,seed=7] | every=3 | word=zebra, " +
        "each optionally with role=mlm|nli|rtd|ner and kind=oom|error.");
}
