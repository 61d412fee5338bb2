using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Riverbed.IO;
using Riverbed.IO.DuckDb;

namespace Riverbed.Bench;

/// <summary>
/// Dataset I/O read throughput, single thread: Riverbed's reader (validation, parsing, schema mapping, normalized
/// examples) against DuckDB's own scan of the same file through the same libduckdb (<c>SELECT count(*),
/// sum(length(text column))</c>, threads=1). The DuckDB scan is the baseline, so Ratio is Riverbed's time over DuckDB's.
/// </summary>
[Config(typeof(DatasetIoConfig))]
public class DatasetReadBenchmarks
{
    private DuckDbDatabase _database = null!;
    private DuckDbConnection _connection = null!;

    /// <summary>Fixture file (under ../shared/fixtures) and the text column DuckDB sums.</summary>
    public static IEnumerable<string> Files =>
    [
        "datasets/halueval/general_data.json|chatgpt_response",
        "datasets/oasst/en_100_message.jsonl|text",
        "datasets/oig/unified_joke_explanations.jsonl|text",
        "datasets/alpaca/alpaca_data_first2000.json|output",
        "parquet/halueval_labels.zstd.parquet|chatgpt_response",
        "parquet/alpaca_flat.zstd.parquet|output",
        "parquet/oig_flat.zstd.parquet|text",
        "parquet/sharegpt_nested.zstd.parquet|conversations[2].value",
    ];

    [ParamsSource(nameof(Files))]
    public string File { get; set; } = "";

    // Both sides reuse an open DuckDB instance (Riverbed's reader keeps a shared one for scans), so the numbers
    // compare scanning, not start-up.
    [GlobalSetup]
    public void Setup()
    {
        _database = DuckDbDatabase.OpenInMemory([new("threads", "1")]);
        _connection = _database.Connect();
        DatasetIoConfig.ReadAll(DatasetIoConfig.PathOf(File));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        _database.Dispose();
    }

    [Benchmark(Description = "Riverbed reader")]
    public long Riverbed() => DatasetIoConfig.ReadAll(DatasetIoConfig.PathOf(File));

    [Benchmark(Baseline = true, Description = "DuckDB scan")]
    public long DuckDb()
    {
        var (path, column) = DatasetIoConfig.Split(File);
        var source = path.EndsWith(".parquet", StringComparison.Ordinal)
            ? $"read_parquet({DuckDbSql.Literal(path)})"
            : $"read_json({DuckDbSql.Literal(path)}, format = 'auto')";
        return (long)_connection.Execute($"SELECT (count(*) + sum(length({column})))::BIGINT FROM {source}")!;
    }
}

/// <summary>
/// Write throughput to Parquet: Riverbed's shard writer (rows of examples already read, staged in DuckDB, joined back
/// to the original columns, COPY with ZSTD, fsync, rename, manifest) against DuckDB converting the same file to Parquet
/// in one COPY statement (baseline).
/// </summary>
[Config(typeof(DatasetIoConfig))]
public class DatasetWriteBenchmarks
{
    private readonly List<ShardRecord> _records = [];
    private ShardInput _input = null!;
    private ShardReadStatistics _statistics = null!;
    private string _scratch = "";

    public static IEnumerable<string> Files =>
    [
        "datasets/halueval/general_data.json|",
        "parquet/halueval_labels.zstd.parquet|",
        "datasets/alpaca/alpaca_data_first2000.json|",
    ];

    [ParamsSource(nameof(Files))]
    public string File { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _input = ShardInput.FromFile(DatasetIoConfig.PathOf(File));
        using var reader = ShardReader.Open(_input);
        _records.AddRange(reader.ReadRecords());
        _statistics = reader.Statistics;
        _scratch = Path.Combine(Path.GetTempPath(), "riverbed-bench-" + Guid.NewGuid().ToString("N"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    [Benchmark(Description = "Riverbed shard writer")]
    public long Riverbed()
    {
        var options = new ShardWriterOptions { OutputFolder = Fresh(), ConfigHash = "bench" };
        using var writer = ShardWriter.Create(_input, options);
        foreach (var record in _records)
        {
            writer.WriteRow(record.Example!);
        }
        return writer.CommitAsync(_statistics).GetAwaiter().GetResult().RowsOut;
    }

    [Benchmark(Baseline = true, Description = "DuckDB COPY")]
    public long DuckDb()
    {
        var path = _input.Path;
        var source = path.EndsWith(".parquet", StringComparison.Ordinal)
            ? $"read_parquet({DuckDbSql.Literal(path)})"
            : $"read_json({DuckDbSql.Literal(path)}, format = 'auto')";
        using var database = DuckDbDatabase.OpenInMemory([new("threads", "1")]);
        using var connection = database.Connect();
        var target = Path.Combine(Fresh(), "copy.parquet");
        return (long)connection.Execute($"COPY (SELECT * FROM {source}) TO {DuckDbSql.Literal(target)} (FORMAT parquet, COMPRESSION zstd)")!;
    }

    private string Fresh()
    {
        var folder = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}

/// <summary>Short, single-process job plus MB/s and rows/s columns computed from each file's size and row count.</summary>
public sealed class DatasetIoConfig : ManualConfig
{
    public DatasetIoConfig()
    {
        AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(8).WithLaunchCount(1));
        AddColumn(new ThroughputColumn("MB/s", (bytes, _) => bytes / 1e6), new ThroughputColumn("rows/s", (_, rows) => rows));
        WithOption(ConfigOptions.JoinSummary, true);
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(70));
    }

    public static string Fixtures
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Riverbed.sln")))
                {
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures"));
                }
            }
            throw new DirectoryNotFoundException("Riverbed.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static (string Path, string Column) Split(string parameter)
    {
        var parts = parameter.Split('|');
        return (Path.Combine(Fixtures, parts[0]), parts[1]);
    }

    public static string PathOf(string parameter) => Split(parameter).Path;

    /// <summary>Reads every record, touching every turn's text so nothing is optimized away.</summary>
    public static long ReadAll(string path)
    {
        using var reader = ShardReader.Open(ShardInput.FromFile(path));
        long characters = 0;
        foreach (var record in reader.ReadRecords())
        {
            foreach (var turn in record.Example!.Turns)
            {
                characters += turn.Text.Length;
            }
        }
        return reader.Statistics.Records + characters;
    }

    private sealed class ThroughputColumn(string name, Func<double, double, double> perSecond) : IColumn
    {
        private static readonly Dictionary<string, (long Bytes, long Rows)> Sizes = [];

        public string Id => "Throughput." + name;

        public string ColumnName => name;

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => $"{name} of input processed (file bytes or records over the mean time)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } statistics)
            {
                return "-";
            }
            var parameter = (string)benchmarkCase.Parameters["File"];
            var (bytes, rows) = SizeOf(PathOf(parameter));
            var seconds = statistics.Mean / 1e9;
            return (perSecond(bytes, rows) / seconds).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        private static (long Bytes, long Rows) SizeOf(string path)
        {
            lock (Sizes)
            {
                if (!Sizes.TryGetValue(path, out var size))
                {
                    using var reader = ShardReader.Open(ShardInput.FromFile(path));
                    size = (new FileInfo(path).Length, reader.ReadRecords().LongCount());
                    Sizes[path] = size;
                }
                return size;
            }
        }
    }
}
