using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Riverbed.Tokenization;

namespace Riverbed.Bench;

/// <summary>
/// Single-thread throughput of Riverbed's tokenizer on the benchmark corpus (15,809 real texts): WordPiece
/// (bert-base-uncased) and byte-level BPE (roberta-base), through <see cref="Tokenizer.Encode(string, EncodeOptions?)"/>
/// (full results: tokens, offsets, word ids...) and the allocation-light <c>EncodeToIds</c> (tensor rows). One
/// operation encodes the whole corpus; the tokens/s column divides the corpus's tokens by the mean time.
/// Compare with bench/hf-tokenizers/bench.js (HF's Rust tokenizers, one thread) run on the same machine.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(TokensPerSecondConfig))]
public class TokenizationBenchmarks
{
    private Tokenizer _tokenizer = null!;
    private string[] _texts = null!;
    private readonly long[] _ids = new long[1 << 16];
    private readonly long[] _typeIds = new long[1 << 16];
    private readonly long[] _attention = new long[1 << 16];

    [Params("bert-base-uncased", "roberta-base")]
    public string Tokenizer { get; set; } = "bert-base-uncased";

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = TokenizationCorpus.LoadTokenizer(Tokenizer);
        _texts = TokenizationCorpus.All;
        Encode(); // first pass fills the word caches, as HF's first pass does
    }

    [Benchmark(Baseline = true)]
    public long Encode()
    {
        long tokens = 0;
        foreach (var text in _texts)
        {
            tokens += _tokenizer.Encode(text).Length;
        }
        return tokens;
    }

    [Benchmark]
    public long EncodeToIds()
    {
        long tokens = 0;
        foreach (var text in _texts)
        {
            tokens += _tokenizer.EncodeToIds(text, _ids, _typeIds, _attention);
        }
        return tokens;
    }
}

/// <summary>
/// Parallel encode scaling: the corpus split over 1..N threads (each with its own tensor buffers), encoding with
/// <c>EncodeToIds</c>. With N cores free the time should fall close to 1/N.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(TokensPerSecondConfig))]
public class TokenizationParallelBenchmarks
{
    private Tokenizer _tokenizer = null!;
    private string[] _texts = null!;

    [Params("bert-base-uncased", "roberta-base")]
    public string Tokenizer { get; set; } = "bert-base-uncased";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = TokenizationCorpus.LoadTokenizer(Tokenizer);
        _texts = TokenizationCorpus.All;
        _ = EncodeInParallel();
    }

    [Benchmark]
    public long EncodeInParallel()
    {
        long total = 0;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, () => 0L, (worker, _, sum) =>
        {
            var ids = new long[1 << 16];
            var typeIds = new long[1 << 16];
            var attention = new long[1 << 16];
            for (var i = worker; i < _texts.Length; i += Threads)
            {
                sum += _tokenizer.EncodeToIds(_texts[i], ids, typeIds, attention);
            }
            return sum;
        }, sum => Interlocked.Add(ref total, sum));
        return total;
    }
}

/// <summary>Adds a tokens/s column: the corpus's token count for the benchmark's tokenizer over the mean time.</summary>
public sealed class TokensPerSecondConfig : ManualConfig
{
    public TokensPerSecondConfig() => AddColumn(new TokensPerSecondColumn());

    private sealed class TokensPerSecondColumn : IColumn
    {
        public string Id => "TokensPerSecond";

        public string ColumnName => "M tokens/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Millions of corpus tokens (special tokens included) encoded per second";

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            var tokenizer = benchmarkCase.Parameters["Tokenizer"] as string;
            if (report?.ResultStatistics is not { } statistics || tokenizer is null)
            {
                return "-";
            }
            var tokens = TokenizationCorpus.TokenCount(tokenizer);
            return (tokens / (statistics.Mean / 1e9) / 1e6).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
