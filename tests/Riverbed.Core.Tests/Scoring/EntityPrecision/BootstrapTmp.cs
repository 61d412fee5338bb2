#pragma warning disable CA1845, CA1869
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Riverbed.Core.Tests.Scoring.EntityPrecision;

public sealed class BootstrapTmp
{
    [Fact]
    public void Write()
    {
        var lines = EntitySample.Draw().Select(t => JsonSerializer.Serialize(new LabelledTurn(t.Dataset, t.Index, t.Text,
            [.. EntityHeuristicBefore.Find(t.Text).Select(e => { var (s, l) = e.Range.GetOffsetAndLength(t.Text.Length); return new LabelledSpan(s, s + l, t.Text.Substring(s, l) + "|" + e.Kind, false); })]),
            new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        File.WriteAllLines("/tmp/turns-bootstrap.jsonl", lines);
    }
}
