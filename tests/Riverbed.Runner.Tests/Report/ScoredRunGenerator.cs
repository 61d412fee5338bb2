using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Riverbed.IO;
using Riverbed.Scoring;

namespace Riverbed.Runner.Tests.Report;

/// <summary>What kind of scored run to generate.</summary>
internal sealed record ScoredRunSpec
{
    /// <summary>Generated rows in all (besides the planted ones and the bad lines), spread over the shards.</summary>
    public int Rows { get; init; } = 300;

    public int Shards { get; init; } = 2;

    public OutputFormat Format { get; init; } = OutputFormat.Parquet;

    public bool Split { get; init; }

    public bool WriteRunJson { get; init; } = true;

    public bool WriteRootStats { get; init; } = true;

    public int Seed { get; init; } = 7;
}

/// <summary>The planted rows a test can look for, by id.</summary>
internal static class Planted
{
    /// <summary>"The capital of France is Paris…": the fill of "Paris" is "London", score −0.05, flagged.</summary>
    public const string KnownFlag = "planted-known-flag";

    /// <summary>HTML and script in the id, the dialogue, and a span's original and replacement.</summary>
    public const string Hostile = "planted-<img src=x onerror=alert('id')>";

    /// <summary>Emoji, CJK, combining marks, spans at both ends of the text, a span splitting a surrogate pair, spans out of range.</summary>
    public const string MultiByte = "planted-multibyte";

    /// <summary>A contradicting sentence pair with entities and fills inside and a fill crossing the sentence edge; 12 turns; a 5,000-character turn.</summary>
    public const string Overlapping = "planted-overlapping";

    public const string KnownFlagText = "The capital of France is Paris. It lies on the Seine.";

    public const string HostileText = "Sure! <script>alert(\"x\")</script> <img src=x onerror=alert(1)> & done </mark></article><!-- \u0000\u0007 end";

    public const string HostileReplacement = "<b onmouseover=alert(2)>bold</b>";

    public const string MultiByteText = "😀 Café e\u0301 東京は日本の首都です。 👩‍👩‍👧 𝕏 ok 😀";

    public const string SentenceA = "Marie Curie was born in Warsaw.";

    public const string SentenceB = "Marie Curie was born in Paris.";
}

/// <summary>A generated run: where its input and output are.</summary>
internal sealed record GeneratedRun(string InputFolder, string OutputFolder, int PlantedRows, int GeneratedRows, int BadLines);

/// <summary>
/// Test support: a realistic scored run folder as the output-format spec lays it out, written through IO's real reader
/// and ShardWriter (with the declared score, decision, turns and spans columns), plus per-shard stats, stats.json,
/// run.json and a rejects file. Scores are seeded random; a few planted rows carry hostile text, multi-byte text and
/// awkward spans, with scores in the band just below the fill-compare threshold that only planted rows use, so every
/// sample includes them.
/// </summary>
internal static class ScoredRunGenerator
{
    /// <summary>The pipeline's own declaration of the score columns.</summary>
    public static IReadOnlyList<ColumnDefinition> Columns => Riverbed.Pipeline.ScoredColumns.All;

    private static readonly string[] Words =
    [
        "river", "stone", "bridge", "garden", "library", "engine", "window", "market", "harbor", "forest", "signal", "number",
        "village", "teacher", "student", "planet", "kitchen", "journey", "answer", "question", "letter", "mountain", "valley",
    ];

    private static readonly string[] Names = ["Paris", "Berlin", "Ada Lovelace", "Alan Turing", "Nile", "Tokyo", "Grace Hopper", "Everest"];

    public static GeneratedRun Create(string root, ScoredRunSpec spec)
    {
        var input = Path.Combine(root, "input");
        var output = Path.Combine(root, "scored");
        Directory.CreateDirectory(input);
        Directory.CreateDirectory(output);
        var random = new Random(spec.Seed);
        var perShard = new List<string>[spec.Shards];
        for (var s = 0; s < spec.Shards; s++)
        {
            perShard[s] = [];
        }
        var planted = PlantedRecords().ToList();
        perShard[0].AddRange(planted.Select(record => record.ToJsonString()));
        for (var i = 0; i < spec.Rows; i++)
        {
            perShard[i % spec.Shards].Add(GeneratedRecord(random, i).ToJsonString());
        }
        // Bad lines: unreadable JSON and a record without an answer, in the last shard.
        string[] bad =
        [
            "{\"id\": \"bad-1\", \"messages\": [",
            "not json at all <script>alert('reject')</script>",
            "{\"id\": \"bad-3\", \"messages\": [{\"role\": \"user\", \"content\": \"no answer\"}]}",
        ];
        perShard[^1].InsertRange(Math.Min(5, perShard[^1].Count), bad);
        for (var s = 0; s < spec.Shards; s++)
        {
            File.WriteAllText(Path.Combine(input, $"part-{s:D3}.jsonl"), string.Join('\n', perShard[s]) + "\n", new UTF8Encoding(false));
        }

        var policy = DecisionPolicy.Default;
        var options = new ShardWriterOptions
        {
            OutputFolder = output,
            Format = spec.Format,
            SplitByDecision = spec.Split,
            ExtraColumns = Columns,
            Attachments = ["stats.json"],
            ConfigHash = "generated-" + spec.Seed.ToString(CultureInfo.InvariantCulture),
        };
        var shardStats = new List<StatsAccumulator>();
        foreach (var shardInput in InputResolver.Resolve([input]))
        {
            var stats = new StatsAccumulator();
            using (var reader = ShardReader.Open(shardInput))
            using (var writer = ShardWriter.Create(shardInput, options))
            {
                foreach (var record in reader.ReadRecords())
                {
                    if (record.Example is { } example)
                    {
                        var scored = Score(example);
                        var decision = policy.Decide(scored.Scores);
                        stats.Add(scored, decision);
                        writer.WriteRow(example, scored.Values(decision), Riverbed.Pipeline.ScoredColumns.Route(decision));
                    }
                    else
                    {
                        stats.AddReject(record.Reject!);
                        writer.WriteReject(record.Reject!);
                    }
                }
                // Committed with the shard and listed in its manifest, as the pipeline does.
                writer.Attach("stats.json", Encoding.UTF8.GetBytes(stats.ToJson()));
                writer.CommitAsync(reader.Statistics, reader.Schema).GetAwaiter().GetResult();
            }
            shardStats.Add(stats);
        }
        if (spec.WriteRootStats)
        {
            File.WriteAllText(Path.Combine(output, "stats.json"), StatsAccumulator.Merge(shardStats).ToJson());
        }
        if (spec.WriteRunJson)
        {
            File.WriteAllText(Path.Combine(output, "run.json"), RunJson(input, output, policy, spec));
        }
        return new GeneratedRun(input, output, planted.Count, spec.Rows, bad.Length);
    }

    private static IEnumerable<JsonObject> PlantedRecords()
    {
        yield return Messages(Planted.KnownFlag, ("user", "What is the capital of France?"), ("assistant", Planted.KnownFlagText));
        yield return Messages(Planted.Hostile, ("user", "Say <b>hi</b> & \"quote\" 'me'"), ("assistant", Planted.HostileText));
        yield return Messages(Planted.MultiByte, ("user", "Unicode, please: é 東京 😀"), ("assistant", Planted.MultiByteText));
        var turns = new List<(string, string)>();
        for (var i = 0; i < 5; i++)
        {
            turns.Add(("user", $"Question {i + 1} about the {Words[i]}?"));
            turns.Add(("assistant", $"The {Words[i]} is fine, answer {i + 1}."));
        }
        turns.Add(("user", "And Marie Curie?"));
        turns.Add(("assistant", Planted.SentenceA + " " + Planted.SentenceB + " " + string.Concat(Enumerable.Repeat("Filler words for a long answer. ", 160)) + "The end is near the Seine."));
        yield return Messages(Planted.Overlapping, [.. turns]);
    }

    private static JsonObject GeneratedRecord(Random random, int i)
    {
        var answer = new StringBuilder();
        var sentences = 1 + random.Next(3);
        for (var s = 0; s < sentences; s++)
        {
            var name = Names[random.Next(Names.Length)];
            answer.Append(CultureInfo.InvariantCulture, $"{name} has a {Words[random.Next(Words.Length)]} near the {Words[random.Next(Words.Length)]}. ");
        }
        return Messages($"gen-{i:D6}", ("user", $"Tell me about the {Words[i % Words.Length]} number {i}."), ("assistant", answer.ToString().TrimEnd()));
    }

    private static JsonObject Messages(string id, params (string Role, string Content)[] turns) => new()
    {
        ["id"] = id,
        ["messages"] = new JsonArray(turns.Select(turn => (JsonNode)new JsonObject { ["role"] = turn.Role, ["content"] = turn.Content }).ToArray()),
    };

    /// <summary>Scores and spans for an example: fixed for planted rows, seeded by the id for generated ones.</summary>
    private static ScoredRow Score(Example example)
    {
        var turns = example.Turns;
        var spans = new List<SpanRow>();
        var last = turns.Count - 1;
        var text = turns[last].Text;
        switch (example.Id)
        {
            case Planted.KnownFlag:
                spans.Add(Fill(last, text, "Paris", "London", -0.05, flagged: true));
                spans.Add(Fill(last, text, "lies", "sits", 0.91, flagged: false));
                spans.Add(Entity(last, text, "France", "LOC", 0.12));
                spans.Add(Entity(last, text, "Paris", "LOC", 0.35));
                return new ScoredRow(example, -0.05, 0.43, 0.35, 0.08, spans);
            case Planted.Hostile:
                spans.Add(Fill(last, text, "<script>", Planted.HostileReplacement, -0.03, flagged: true));
                spans.Add(new SpanRow("entity", last, text.IndexOf("<img", StringComparison.Ordinal), text.IndexOf("<img", StringComparison.Ordinal) + 9, "<img src=", "<i>ORG</i>", 0.2, false, null));
                return new ScoredRow(example, -0.03, 0.5, 0.2, 0.1, spans);
            case Planted.MultiByte:
                // At the very start (an emoji) and the very end (an emoji, so the span ends at text.Length).
                spans.Add(new SpanRow("fill", last, 0, 2, "😀", "🙂", -0.07, true, null));
                spans.Add(new SpanRow("fill", last, text.Length - 2, text.Length, "😀", "😢", 0.4, false, null));
                spans.Add(Fill(last, text, "東京", "大阪", -0.07, flagged: true));
                spans.Add(Entity(last, text, "Café", "ORG", 0.66));
                var combining = text.IndexOf("e\u0301", StringComparison.Ordinal);
                spans.Add(new SpanRow("entity", last, combining, combining + 2, "e\u0301", "MISC", 0.3, false, null));
                var family = text.IndexOf("👩", StringComparison.Ordinal);
                spans.Add(new SpanRow("fill", last, family + 1, family + 4, "split", "pair", 0.2, false, null));   // starts inside a surrogate pair
                spans.Add(new SpanRow("fill", last, text.Length - 3, text.Length + 5, "past", "end", 0.1, false, null));   // runs past the end
                spans.Add(new SpanRow("fill", last, 9, 4, "reversed", "span", 0.1, false, null));
                spans.Add(new SpanRow("fill", 7, 0, 3, "no such", "turn", -0.5, true, null));
                return new ScoredRow(example, -0.07, 0.2, 0.66, null, spans);
            case Planted.Overlapping:
                var a = text.IndexOf(Planted.SentenceA, StringComparison.Ordinal);
                var b = text.IndexOf(Planted.SentenceB, StringComparison.Ordinal);
                spans.Add(new SpanRow("contradiction", last, a, a + Planted.SentenceA.Length, Planted.SentenceA, null, 0.97, true, 1));
                spans.Add(new SpanRow("contradiction", last, b, b + Planted.SentenceB.Length, Planted.SentenceB, null, 0.97, true, 1));
                spans.Add(new SpanRow("entity", last, a, a + "Marie Curie".Length, "Marie Curie", "PER", 0.71, true, null));
                spans.Add(new SpanRow("entity", last, b, b + "Marie Curie".Length, "Marie Curie", "PER", 0.2, false, null));
                var warsaw = text.IndexOf("Warsaw", StringComparison.Ordinal);
                spans.Add(new SpanRow("fill", last, warsaw, warsaw + 6, "Warsaw", "Paris", -0.09, true, null));
                spans.Add(new SpanRow("fill", last, warsaw + 3, b + 5, "saw. Marie", "crossing", 0.3, false, null));   // crosses the sentence edge
                var seine = text.LastIndexOf("Seine", StringComparison.Ordinal);
                spans.Add(new SpanRow("fill", last, seine, seine + 5, "Seine", "Thames", -0.6, true, null));   // far into the long turn
                return new ScoredRow(example, -0.09, 0.1, 0.71, 0.97, spans);
        }
        var random = new Random(Stable(example.Id));
        double? fillMin = random.NextDouble() < 0.08 ? null : Pick(random);
        var fillMean = fillMin is { } min ? min + ((1 - min) * random.NextDouble()) : (double?)null;
        var entity = Math.Pow(random.NextDouble(), 3);
        double? contradiction = random.NextDouble() < 0.15 ? null : Math.Pow(random.NextDouble(), 4);
        foreach (var name in Names.Where(name => text.Contains(name, StringComparison.Ordinal)).Take(2))
        {
            spans.Add(Entity(last, text, name, "ENT", entity));
        }
        var word = Words.FirstOrDefault(w => text.Contains(w, StringComparison.Ordinal));
        if (word is not null && fillMin is { } m)
        {
            spans.Add(Fill(last, text, word, Words[random.Next(Words.Length)], m, flagged: m < 0));
        }
        return new ScoredRow(example, fillMin, fillMean, entity, contradiction, spans);
    }

    /// <summary>A fill-compare minimum off the band [−0.1, 0) just below the threshold, which only planted rows use.</summary>
    private static double Pick(Random random) =>
        random.NextDouble() < 0.75 ? random.NextDouble() : -0.1 - (0.9 * random.NextDouble()) - 1e-9;

    private static int Stable(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }
        return hash & 0x7FFF_FFFF;
    }

    private static SpanRow Fill(int turn, string text, string word, string replacement, double score, bool flagged)
    {
        var start = text.IndexOf(word, StringComparison.Ordinal);
        return new SpanRow("fill", turn, start, start + word.Length, word, replacement, score, flagged, null);
    }

    private static SpanRow Entity(int turn, string text, string word, string kind, double score)
    {
        var start = text.IndexOf(word, StringComparison.Ordinal);
        return new SpanRow("entity", turn, start, start + word.Length, word, kind, score, score > 0.5, null);
    }

    private static string RunJson(string input, string output, DecisionPolicy policy, ScoredRunSpec spec)
    {
        var run = new JsonObject
        {
            ["format"] = "riverbed-run/1",
            ["riverbed_version"] = "0.0.0-test",
            ["onnxruntime_version"] = "1.29.0",
            ["dotnet_version"] = Environment.Version.ToString(),
            ["started_utc"] = "2025-01-01T00:00:00Z",
            ["finished_utc"] = "2025-01-01T00:01:00Z",
            ["command_line"] = new JsonArray("score", input, "--output", output, "--note", "<script>alert('cmd')</script>"),
            ["inputs"] = new JsonArray(input),
            ["output"] = output,
            ["config"] = new JsonObject
            {
                ["policy"] = new JsonObject { ["combine"] = "any", ["thresholds"] = new JsonArray(policy.Thresholds.Select(t => (JsonNode)t.Reason).ToArray()) },
                ["seed"] = spec.Seed,
                ["batching"] = new JsonObject { ["max_tokens"] = 8192 },
                ["comment"] = "</pre><script>alert('config')</script>",
            },
            ["config_hash"] = "generated-" + spec.Seed.ToString(CultureInfo.InvariantCulture),
            ["models"] = new JsonObject
            {
                ["mlm"] = new JsonObject
                {
                    ["folder"] = "models/mlm",
                    ["files"] = new JsonObject
                    {
                        ["model.onnx"] = new JsonObject { ["bytes"] = 1234, ["sha256"] = new string('a', 64) },
                        ["tokenizer.json"] = new JsonObject { ["bytes"] = 567, ["sha256"] = new string('b', 64) },
                    },
                },
                ["nli"] = new JsonObject { ["folder"] = "models/nli", ["files"] = new JsonObject { ["model.onnx"] = new JsonObject { ["bytes"] = 42, ["sha256"] = new string('c', 64) } } },
            },
            ["rank"] = 0,
            ["world_size"] = 1,
            ["batching"] = new JsonObject
            {
                ["mlm"] = new JsonObject { ["sessions"] = 1, ["batches"] = 12, ["requests"] = 300, ["real_tokens"] = 5780, ["padded_tokens"] = 6400, ["padding_fraction"] = 0.0969, ["run_seconds"] = 20.5 },
            },
            ["throughput"] = new JsonObject { ["wall_seconds"] = 60.0, ["examples"] = spec.Rows, ["examples_per_second"] = spec.Rows / 60.0, ["real_tokens_per_second"] = 1234.5 },
        };
        return run.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private sealed record SpanRow(string Kind, int Turn, int Start, int End, string? Original, string? Replacement, double? Score, bool Flagged, int? Pair);

    private sealed record ScoredRow(Example Example, double? FillMin, double? FillMean, double? EntityMax, double? ContradictionMax, List<SpanRow> Spans)
    {
        public Dictionary<string, double?> Scores => new()
        {
            [ScoreNames.FillCompareMin] = FillMin,
            [ScoreNames.FillCompareMean] = FillMean,
            [ScoreNames.ReplacedEntityMax] = EntityMax,
            [ScoreNames.ContradictionMax] = ContradictionMax,
        };

        private string TurnText(int turn) => turn >= 0 && turn < Example.Turns.Count ? Example.Turns[turn].Text : string.Empty;

        public ColumnValue[] Values(Decision decision)
        {
            var turns = Example.Turns.Select((turn, i) =>
            {
                var assistant = turn.Role == TurnRole.Assistant;
                return ColumnValue.Struct(
                    ColumnValue.From(i),
                    ColumnValue.From(turn.Role.ToString().ToLowerInvariant()),
                    ColumnValue.From(turn.Text),
                    assistant ? Double(FillMin) : ColumnValue.Null,
                    assistant ? Double(FillMean) : ColumnValue.Null,
                    assistant ? ColumnValue.From(Spans.Count(s => s.Kind == "fill" && s.Turn == i)) : ColumnValue.Null,
                    assistant ? ColumnValue.From(Spans.Count(s => s.Kind == "fill" && s.Turn == i && s.Flagged)) : ColumnValue.Null,
                    assistant ? Double(EntityMax) : ColumnValue.Null,
                    assistant ? ColumnValue.From(0.1) : ColumnValue.Null,
                    assistant ? Double(EntityMax) : ColumnValue.Null,
                    ColumnValue.Null, // parent and branch: a plain dialogue
                    ColumnValue.Null);
            }).ToArray();
            var spans = Spans.Select(span => ColumnValue.Struct(
                ColumnValue.From(span.Kind), ColumnValue.From(span.Turn), ColumnValue.From(span.Start), ColumnValue.From(span.End),
                ColumnValue.From(span.Original), ColumnValue.From(span.Replacement), Double(span.Score), ColumnValue.From(span.Flagged),
                span.Pair is { } pair ? ColumnValue.From(pair) : ColumnValue.Null,
                ColumnValue.From(TextOffsets.CodePoint(TurnText(span.Turn), span.Start)),
                ColumnValue.From(TextOffsets.CodePoint(TurnText(span.Turn), span.End)))).ToArray();
            return
            [
                ColumnValue.From(decision.Keep ? "keep" : "remove"),
                ColumnValue.Strings(decision.Reasons),
                Double(FillMin),
                Double(FillMean),
                Double(EntityMax),
                Double(ContradictionMax),
                ColumnValue.Strings([]),
                ColumnValue.List(turns),
                ColumnValue.List(spans),
            ];
        }

        private static ColumnValue Double(double? value) => value is { } v ? ColumnValue.From(v) : ColumnValue.Null;
    }

    /// <summary>stats.json as the spec lays it out, accumulated row by row (and merged by addition).</summary>
    private sealed class StatsAccumulator
    {
        private static readonly (string Name, double Low, double High, int Bins)[] Histograms =
        [
            (ScoreNames.FillCompareMin, -1, 1, 40),
            (ScoreNames.FillCompareMean, -1, 1, 40),
            (ScoreNames.ReplacedEntityMax, 0, 1, 20),
            (ScoreNames.ContradictionMax, 0, 1, 20),
        ];

        private readonly Dictionary<string, long> _removedByReason = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _rejectsByKind = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ScoreAccumulator> _scores = Histograms.ToDictionary(h => h.Name, h => new ScoreAccumulator(h.Low, h.High, h.Bins), StringComparer.Ordinal);
        private long _shards = 1;
        private long _rowsOut;
        private long _rejected;
        private long _kept;
        private long _removed;
        private long _turns;
        private long _masked;
        private long _mismatches;
        private long _entities;
        private long _pairs;

        public void Add(ScoredRow row, Decision decision)
        {
            _rowsOut++;
            if (decision.Keep)
            {
                _kept++;
            }
            else
            {
                _removed++;
                foreach (var reason in decision.Reasons)
                {
                    _removedByReason[reason] = _removedByReason.GetValueOrDefault(reason) + 1;
                }
            }
            foreach (var (name, value) in row.Scores)
            {
                _scores[name].Add(value);
            }
            _turns += row.Example.AssistantTurnCount;
            _masked += row.Spans.Count(s => s.Kind == "fill");
            _mismatches += row.Spans.Count(s => s.Kind == "fill" && s.Flagged);
            _entities += row.Spans.Count(s => s.Kind == "entity");
            _pairs += row.Spans.Count(s => s.Kind == "contradiction") / 2;
        }

        public void AddReject(Reject reject)
        {
            _rejected++;
            var kind = RejectKinds.Name(reject.Kind);
            _rejectsByKind[kind] = _rejectsByKind.GetValueOrDefault(kind) + 1;
        }

        public static StatsAccumulator Merge(IEnumerable<StatsAccumulator> parts)
        {
            var total = new StatsAccumulator { _shards = 0 };
            foreach (var part in parts)
            {
                total._shards += part._shards;
                total._rowsOut += part._rowsOut;
                total._rejected += part._rejected;
                total._kept += part._kept;
                total._removed += part._removed;
                total._turns += part._turns;
                total._masked += part._masked;
                total._mismatches += part._mismatches;
                total._entities += part._entities;
                total._pairs += part._pairs;
                foreach (var (k, v) in part._removedByReason)
                {
                    total._removedByReason[k] = total._removedByReason.GetValueOrDefault(k) + v;
                }
                foreach (var (k, v) in part._rejectsByKind)
                {
                    total._rejectsByKind[k] = total._rejectsByKind.GetValueOrDefault(k) + v;
                }
                foreach (var (k, v) in part._scores)
                {
                    total._scores[k].Add(v);
                }
            }
            return total;
        }

        public string ToJson()
        {
            var scores = new JsonObject();
            foreach (var (name, score) in _scores)
            {
                scores[name] = score.ToJson();
            }
            var root = new JsonObject
            {
                ["format"] = "riverbed-stats/1",
                ["shards"] = _shards,
                ["rows_in"] = _rowsOut + _rejected,
                ["rows_out"] = _rowsOut,
                ["rows_rejected"] = _rejected,
                ["rows_failed"] = 0,
                ["kept"] = _kept,
                ["removed"] = _removed,
                ["removed_by_reason"] = Counts(_removedByReason),
                ["rejects_by_kind"] = Counts(_rejectsByKind),
                ["turns_scored"] = _turns,
                ["masked_positions"] = _masked,
                ["mismatches"] = _mismatches,
                ["entities"] = _entities,
                ["sentence_pairs"] = _pairs,
                ["tokens"] = new JsonObject { ["mlm"] = _masked * 20, ["nli"] = _mismatches * 60, ["rtd"] = _turns * 30, ["ner"] = _turns * 30 },
                ["scores"] = scores,
            };
            return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        }

        private static JsonObject Counts(Dictionary<string, long> counts)
        {
            var json = new JsonObject();
            foreach (var (key, value) in counts.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                json[key] = value;
            }
            return json;
        }
    }

    private sealed class ScoreAccumulator(double low, double high, int bins)
    {
        private readonly long[] _bins = new long[bins];
        private long _count;
        private long _missing;
        private double _sum;
        private double _sumSquares;
        private double? _min;
        private double? _max;

        public void Add(double? value)
        {
            if (value is not { } v)
            {
                _missing++;
                return;
            }
            _count++;
            _sum += v;
            _sumSquares += v * v;
            _min = _min is { } min ? Math.Min(min, v) : v;
            _max = _max is { } max ? Math.Max(max, v) : v;
            _bins[Math.Clamp((int)Math.Floor((v - low) / (high - low) * bins), 0, bins - 1)]++;
        }

        public void Add(ScoreAccumulator other)
        {
            _count += other._count;
            _missing += other._missing;
            _sum += other._sum;
            _sumSquares += other._sumSquares;
            _min = other._min is null ? _min : _min is null ? other._min : Math.Min(_min.Value, other._min.Value);
            _max = other._max is null ? _max : _max is null ? other._max : Math.Max(_max.Value, other._max.Value);
            for (var i = 0; i < _bins.Length; i++)
            {
                _bins[i] += other._bins[i];
            }
        }

        public JsonObject ToJson() => new()
        {
            ["count"] = _count,
            ["missing"] = _missing,
            ["sum"] = _sum,
            ["sum_squares"] = _sumSquares,
            ["min"] = _min,
            ["max"] = _max,
            ["histogram"] = new JsonObject { ["low"] = low, ["high"] = high, ["bins"] = new JsonArray(_bins.Select(b => (JsonNode)b).ToArray()) },
        };
    }
}
