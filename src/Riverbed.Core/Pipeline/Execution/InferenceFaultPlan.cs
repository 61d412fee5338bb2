using System.Globalization;
using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Tokenization;

namespace Riverbed.Pipeline.Execution;

/// <summary>
/// Test hook (reliability C1, C10), off unless RIVERBED_FAULT_OOM is set: makes the model sessions of a run fail some
/// Runs exactly as ONNX Runtime fails them (<see cref="InferenceFaults"/>), so child-process tests can drive the
/// batchers' halving, retries, quarantine and failure budget through the real CLI.
/// <para>
/// Every decision is a function of what is run, never of when: a request is known by its tokens (its row of
/// input_ids, padding cut off by attention_mask), and its attempts are counted per role, so the same request fails the
/// same attempts whatever it is batched with and however the batches form under load. A Run fails when any request in
/// it draws a fault on that Run; every request in a Run, failed or not, has then made one more attempt. Comma-separated
/// key=value pairs, exactly one of the first three:
/// </para>
/// <list type="bullet">
/// <item><c>p=0.05[,seed=7][,attempts=2]</c>: each of a request's first <c>attempts</c> attempts fails with
///   probability p, drawn from a stable hash of (seed, role, tokens, attempt number); later attempts never fail. The
///   default of 2 is <see cref="BatchingOptions.AllocationRetriesAlone"/>'s: a request then fails at most 2 of the
///   3 attempts it gets alone, so no example is ever lost, whatever the timing;</item>
/// <item><c>every=3</c>: every third attempt of each request fails (its 3rd, 6th, ...); <c>every=1</c> fails every Run;</item>
/// <item><c>word=zebra</c>: every Run whose batch holds a request with that word's tokens fails, alone too: the
///   examples whose text contains the word become failed rows (a poison request);</item>
/// <item><c>hold=/path/marker</c> (with word= only): instead of failing, those Runs wait until a file exists at that
///   path (a path without commas), then run normally, so a test can keep a shard in flight for as long as it needs
///   to signal or kill the process there, instead of racing the shard to its commit;</item>
/// <item><c>role=nli</c> (optional): only that role's sessions (mlm, nli, rtd, ner); default all;</item>
/// <item><c>kind=oom|error</c> (optional): an allocation failure (default) or an invalid-argument error.</item>
/// </list>
/// A Run through an IO binding shows the plan no requests, so only <c>every=1</c> fails it.
/// </summary>
internal sealed class InferenceFaultPlan
{
    public const string EnvironmentVariable = "RIVERBED_FAULT_OOM";

    /// <summary>How many attempts of a request p= may fail by default: the retries a request gets alone.</summary>
    public static readonly int DefaultAttempts = new BatchingOptions().AllocationRetriesAlone;

    /// <summary>The longest a held Run waits for its marker before it runs anyway (a test that forgot it then fails on its own).</summary>
    private static readonly TimeSpan LongestHold = TimeSpan.FromMinutes(10);

    private InferenceFaultPlan(double? probability, long seed, int? attempts, int? every, string? word, string? hold, ModelRole? role, InjectedFault fault)
    {
        Hold = hold;
        Probability = probability;
        Seed = seed;
        Attempts = attempts;
        Every = every;
        Word = word;
        Role = role;
        Fault = fault;
    }

    public double? Probability { get; }

    public long Seed { get; }

    /// <summary>With <see cref="Probability"/>: how many of a request's first attempts may fail (later ones never do).</summary>
    public int? Attempts { get; }

    public int? Every { get; }

    public string? Word { get; }

    /// <summary>With <see cref="Word"/>: the file whose existence releases the Runs the word holds.</summary>
    public string? Hold { get; }

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
        long? seed = null;
        int? attempts = null;
        int? every = null;
        string? word = null;
        string? hold = null;
        ModelRole? role = null;
        InjectedFault? fault = null;
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
                case "attempts" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var a) && a >= 1:
                    attempts = a;
                    break;
                case "every" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1:
                    every = n;
                    break;
                case "word" when value.Trim().Length > 0:
                    word = value.Trim();
                    break;
                case "hold" when value.Trim().Length > 0:
                    hold = value.Trim();
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
        if (probability is null && (seed is not null || attempts is not null))
        {
            throw Invalid(text, "seed= and attempts= go with p= only");
        }
        if (hold is not null && (word is null || fault is not null))
        {
            throw Invalid(text, "hold= goes with word= only, and holds instead of failing (no kind=)");
        }
        return new InferenceFaultPlan(probability, seed ?? 0, probability is null ? null : attempts ?? DefaultAttempts, every, word, hold, role,
            fault ?? InjectedFault.AllocationFailure);
    }

    /// <summary>Sets the fault trigger on every session of the roles the plan covers (one trigger, one count of attempts, per role).</summary>
    public void Attach(ModelSet models)
    {
        ArgumentNullException.ThrowIfNull(models);
        foreach (var role in Enum.GetValues<ModelRole>())
        {
            if (models[role] is { } entry && (Role is null || Role == role))
            {
                var trigger = TriggerFor(role, entry.Tokenizer);
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

    /// <summary>A new trigger for one role's sessions, with its own count of attempts (tests call it directly).</summary>
    internal FaultTrigger TriggerFor(ModelRole role, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (Word is { } word)
        {
            // With and without a leading space: byte-level BPE spells a word differently inside a sentence.
            var plain = new EncodeOptions { AddSpecialTokens = false };
            int[][] spellings = [.. new[] { word, " " + word }
                .Select(text => tokenizer.Encode(text, plain).Ids.ToArray())
                .Where(ids => ids.Length > 0)
                .DistinctBy(ids => string.Join(' ', ids))];
            if (Hold is { } marker)
            {
                return inputs =>
                {
                    if (HasWord(inputs, spellings))
                    {
                        WaitFor(marker);
                    }
                    return InjectedFault.None;
                };
            }
            return inputs => HasWord(inputs, spellings) ? Fault : InjectedFault.None;
        }
        if (Every == 1)
        {
            return _ => Fault; // every Run, the IO-bound ones too: a device that fails whatever it is given
        }
        var attempts = new AttemptCounter();
        if (Every is { } every)
        {
            return inputs => attempts.AnyFails(inputs, (_, attempt) => (attempt + 1) % every == 0) ? Fault : InjectedFault.None;
        }
        var salt = FaultDraw.Mix(unchecked((ulong)Seed) ^ FaultDraw.Mix((ulong)role + 1));
        var probability = Probability!.Value;
        var faulted = Attempts!.Value;
        return inputs => attempts.AnyFails(inputs, (request, attempt) => attempt < faulted && FaultDraw.Unit(salt, request, attempt) < probability)
            ? Fault : InjectedFault.None;
    }

    private static bool HasWord(ReadOnlySpan<NamedTensor> inputs, int[][] spellings) =>
        Requests(inputs).Any(tokens => spellings.Any(spelling => tokens.AsSpan().IndexOf(spelling) >= 0));

    /// <summary>Blocks the Run until the marker exists (polled: the test creates it from another process).</summary>
    private static void WaitFor(string marker)
    {
        var deadline = Environment.TickCount64 + (long)LongestHold.TotalMilliseconds;
        while (!File.Exists(marker) && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }
    }

    /// <summary>The requests of a Run: each row of input_ids, cut to its attention mask (padding is not the request's).</summary>
    internal static List<int[]> Requests(ReadOnlySpan<NamedTensor> inputs)
    {
        int[]? ids = null;
        int[]? mask = null;
        var length = 0;
        foreach (var input in inputs)
        {
            if (input.Tensor.Rank != 2 || input.Name is not (ModelInputBatch.InputIds or ModelInputBatch.AttentionMask))
            {
                continue;
            }
            length = checked((int)input.Tensor.Shape[1]);
            int[] values = input.Tensor switch
            {
                OrtTensor<long> wide => [.. wide.Span.ToArray().Select(id => (int)id)],
                OrtTensor<int> narrow => narrow.Span.ToArray(),
                _ => [],
            };
            if (input.Name == ModelInputBatch.InputIds)
            {
                ids = values;
            }
            else
            {
                mask = values;
            }
        }
        var requests = new List<int[]>();
        if (ids is null || length == 0)
        {
            return requests;
        }
        for (var row = 0; row + length <= ids.Length; row += length)
        {
            var real = length;
            if (mask is not null && mask.Length == ids.Length)
            {
                while (real > 0 && mask[row + real - 1] == 0)
                {
                    real--;
                }
            }
            requests.Add(ids[row..(row + real)]);
        }
        return requests;
    }

    /// <summary>
    /// How many times each request (by its tokens) has been run on a role's sessions. Each Run counts once for every
    /// distinct request in it, whether the Run fails or not, so a request's n-th attempt is its n-th Run, wherever that was.
    /// </summary>
    private sealed class AttemptCounter
    {
        private readonly Dictionary<ulong, int> _attempts = [];

        /// <summary>Counts the Run's attempts; true when <paramref name="fails"/> says one of its requests fails this attempt.</summary>
        public bool AnyFails(ReadOnlySpan<NamedTensor> inputs, Func<ulong, int, bool> fails)
        {
            var requests = Requests(inputs).Select(FaultDraw.Identity).Distinct().ToList();
            var failed = false;
            lock (_attempts)
            {
                foreach (var request in requests)
                {
                    _attempts.TryGetValue(request, out var attempt);
                    _attempts[request] = attempt + 1;
                    failed |= fails(request, attempt);
                }
            }
            return failed;
        }
    }

    private static RiverbedException Invalid(string text, string problem) => new(
        $"{EnvironmentVariable}='{text}' (a test hook): {problem}. Forms: p=0.05[,seed=7][,attempts=2] | every=3 | word=zebra, " +
        "each optionally with role=mlm|nli|rtd|ner and kind=oom|error; word= also with hold=/path/marker instead of kind=.");
}

/// <summary>
/// The plan's stable arithmetic: the same tokens, seed and attempt give the same draw in every process and on every
/// machine (string.GetHashCode and HashCode are seeded per process, so they cannot serve).
/// </summary>
internal static class FaultDraw
{
    /// <summary>A 64-bit identity of a request's tokens (their count included, so a prefix is another request).</summary>
    public static ulong Identity(int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var hash = Mix((ulong)tokens.Length);
        foreach (var token in tokens)
        {
            hash = Mix(hash ^ unchecked((uint)token));
        }
        return hash;
    }

    /// <summary>A draw in [0, 1) for one attempt of one request under one salt (seed and role).</summary>
    public static double Unit(ulong salt, ulong request, int attempt)
    {
        var bits = Mix(salt ^ Mix(request ^ Mix(unchecked((ulong)attempt + 0x9E3779B97F4A7C15UL))));
        return (bits >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>SplitMix64's finalizer: every input bit reaches every output bit.</summary>
    public static ulong Mix(ulong value)
    {
        unchecked
        {
            value += 0x9E3779B97F4A7C15UL;
            value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
            value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
            return value ^ (value >> 31);
        }
    }
}
