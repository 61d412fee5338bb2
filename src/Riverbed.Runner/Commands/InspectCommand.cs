using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Riverbed.IO;

namespace Riverbed.Runner.Commands;

/// <summary>
/// <c>riverbed inspect</c>: a dry run of the reader. For each file: its layout, the schema and why, record and turn
/// counts, rejects by kind with the first few located by file:line, and a few normalized examples.
/// </summary>
internal static class InspectCommand
{
    private const int RejectsShown = 5;

    public static Command Create()
    {
        var dataset = new DatasetOptions();
        var limit = new Option<int>("--limit")
        {
            Description = "Normalized examples to show per file",
            DefaultValueFactory = _ => 3,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per file instead of text" };
        var command = new Command("inspect", "Read dataset files without writing anything: detected schema, counts, rejects and sample examples.");
        dataset.AddTo(command);
        command.Options.Add(limit);
        command.Options.Add(json);
        CommandAction.Set(command, (parse, cancellationToken) =>
        {
            var options = dataset.Read(parse);
            var resolved = dataset.ResolveInputs(parse);
            var inputs = resolved.Shards;
            var shown = Math.Max(0, parse.GetValue(limit));
            var failed = 0;
            // A scored output folder is readable (its shards are JSON Lines or Parquet), but whoever inspects one most
            // likely wants its state or its scores: say what it is, and that its run files are not datasets.
            foreach (var folder in (parse.GetValue(dataset.Inputs) ?? []).Where(spec => Directory.Exists(spec) && InputResolver.IsScoredFolder(spec)))
            {
                Console.Out.WriteLine(parse.GetValue(json) ? ScoredFolderJson(folder)
                    : $"== {folder}: a scored output folder (Riverbed wrote it): its shards are read below as datasets, its run files are " +
                      $"skipped; `riverbed status {folder}` tells the shards' state and `riverbed report {folder}` reviews their scores");
            }
            foreach (var skipped in resolved.Skipped)
            {
                Console.Out.WriteLine(parse.GetValue(json) ? SkippedJson(skipped) : $"== {skipped.DisplayPath}: skipped, {skipped.Reason}");
            }
            foreach (var input in inputs)
            {
                var report = Inspect(input, options, shown, cancellationToken);
                if (report.Error is not null)
                {
                    failed++;
                }
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(report.ToJson());
                }
                else
                {
                    report.Print(Console.Out);
                }
            }
            if (failed > 0)
            {
                Console.Error.WriteLine($"riverbed: error: {failed} of {inputs.Count} files could not be read (see above)");
                return Task.FromResult(ExitCodes.Failure);
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string ScoredFolderJson(string folder)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("folder", folder);
            writer.WriteBoolean("scored_output", true);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string SkippedJson(SkippedInput skipped)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("file", skipped.DisplayPath);
            writer.WriteString("skipped", skipped.Reason);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static InspectReport Inspect(ShardInput input, ReaderOptions options, int shown, CancellationToken cancellationToken)
    {
        var report = new InspectReport(input);
        try
        {
            using var reader = ShardReader.Open(input, options);
            report.Layout = reader.Layout;
            foreach (var record in reader.ReadRecords(cancellationToken))
            {
                if (record.Example is { } example && report.Examples.Count < shown)
                {
                    report.Examples.Add(example);
                }
                else if (record.Reject is { } reject && report.Rejects.Count < RejectsShown)
                {
                    report.Rejects.Add(reject);
                }
            }
            report.Schema = reader.Schema;
            report.Statistics = reader.Statistics;
        }
        catch (RiverbedException error)
        {
            report.Error = error.Message;
        }
        return report;
    }

    private sealed class InspectReport(ShardInput input)
    {
        private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public ShardInput Input { get; } = input;

        public string? Layout { get; set; }

        public SchemaDetection? Schema { get; set; }

        public ShardReadStatistics? Statistics { get; set; }

        public List<Example> Examples { get; } = [];

        public List<Reject> Rejects { get; } = [];

        public string? Error { get; set; }

        public void Print(TextWriter output)
        {
            var link = string.Equals(Input.ResolvedPath, Input.Path, StringComparison.Ordinal) ? string.Empty : $", a link to {Input.ResolvedPath}";
            output.WriteLine($"== {Input.DisplayPath} ({Number(Input.Size)} bytes{link})");
            if (Error is not null)
            {
                output.WriteLine($"  error: {Error}");
                return;
            }
            var stats = Statistics!;
            output.WriteLine($"  layout:  {Layout}");
            output.WriteLine(Schema is null
                ? "  schema:  none (no valid record to detect it from)"
                : $"  schema:  {Schema.Schema} ({Schema.Reason})");
            output.WriteLine($"  records: {Number(stats.Records)} ({Number(stats.Examples)} examples, {Number(stats.Rejected)} rejected{(stats.BlankLines > 0 ? $", {Number(stats.BlankLines)} blank lines skipped" : "")})");
            output.WriteLine($"  turns:   {Number(stats.Turns)} ({Number(stats.UserTurns)} user, {Number(stats.AssistantTurns)} assistant, {Number(stats.SystemTurns)} system{(stats.ToolTurns > 0 ? $", {Number(stats.ToolTurns)} tool" : string.Empty)})");
            output.WriteLine(stats.RejectsByKind.Count == 0
                ? "  rejects: none"
                : "  rejects: " + string.Join(", ", stats.RejectsByKind.OrderBy(pair => RejectKinds.Name(pair.Key), StringComparer.Ordinal).Select(pair => $"{RejectKinds.Name(pair.Key)} {Number(pair.Value)}")));
            foreach (var reject in Rejects)
            {
                output.WriteLine($"    {reject}");
            }
            if (stats.Rejected > Rejects.Count)
            {
                output.WriteLine($"    … {Number(stats.Rejected - Rejects.Count)} more (riverbed convert writes them all to a rejects file)");
            }
            foreach (var example in Examples)
            {
                var where = example.Line is { } line ? $"line {line}" : $"row {example.Row}";
                output.WriteLine($"  example {example.Id} ({where}, {example.Turns.Count} turns)");
                foreach (var turn in example.Turns)
                {
                    output.WriteLine($"    {RoleName(turn.Role),-9} {Shorten(turn.Text, 160)}");
                }
            }
        }

        public string ToJson()
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("file", Input.DisplayPath);
                writer.WriteString("name", Input.Name);
                if (Error is not null)
                {
                    writer.WriteString("error", Error);
                }
                else
                {
                    var stats = Statistics!;
                    writer.WriteString("layout", Layout);
                    writer.WriteString("schema", Schema?.Schema);
                    writer.WriteString("schema_reason", Schema?.Reason);
                    writer.WriteNumber("records", stats.Records);
                    writer.WriteNumber("examples", stats.Examples);
                    writer.WriteNumber("rejected", stats.Rejected);
                    writer.WriteNumber("blank_lines", stats.BlankLines);
                    writer.WriteNumber("turns", stats.Turns);
                    writer.WriteNumber("user_turns", stats.UserTurns);
                    writer.WriteNumber("assistant_turns", stats.AssistantTurns);
                    writer.WriteNumber("system_turns", stats.SystemTurns);
                    writer.WriteNumber("tool_turns", stats.ToolTurns);
                    writer.WriteStartObject("rejects_by_kind");
                    foreach (var (kind, count) in stats.RejectsByKind.OrderBy(pair => RejectKinds.Name(pair.Key), StringComparer.Ordinal))
                    {
                        writer.WriteNumber(RejectKinds.Name(kind), count);
                    }
                    writer.WriteEndObject();
                    writer.WriteStartArray("first_rejects");
                    foreach (var reject in Rejects)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("row", reject.Row);
                        if (reject.Line is { } line)
                        {
                            writer.WriteNumber("line", line);
                        }
                        writer.WriteNumber("byte_offset", reject.ByteOffset);
                        writer.WriteString("kind", RejectKinds.Name(reject.Kind));
                        writer.WriteString("message", reject.Message);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteStartArray("sample_examples");
                    foreach (var example in Examples)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("id", example.Id);
                        writer.WriteNumber("row", example.Row);
                        writer.WriteStartArray("turns");
                        foreach (var turn in example.Turns)
                        {
                            writer.WriteStartObject();
                            writer.WriteString("role", RoleName(turn.Role));
                            writer.WriteString("text", turn.Text);
                            writer.WriteEndObject();
                        }
                        writer.WriteEndArray();
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        }

        private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

        private static string Shorten(string text, int max)
        {
            var flat = text.ReplaceLineEndings(" ⏎ ");
            return flat.Length <= max ? flat : flat[..max] + "…";
        }
    }

    /// <summary>A role as the scored turns name their speakers ("tool_call", not "toolcall").</summary>
    private static string RoleName(TurnRole role) => role == TurnRole.ToolCall ? "tool_call" : role.ToString().ToLowerInvariant();
}
