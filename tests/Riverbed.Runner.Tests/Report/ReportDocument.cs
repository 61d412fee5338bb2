using System.Xml;
using System.Xml.Linq;

namespace Riverbed.Runner.Tests.Report;

/// <summary>A written report, parsed: the writer emits polyglot markup, so a strict XML parser reads it (and proves it well formed).</summary>
internal sealed class ReportDocument
{
    private ReportDocument(string path, string text, XElement root)
    {
        Path = path;
        Text = text;
        Root = root;
    }

    public string Path { get; }

    public string Text { get; }

    public XElement Root { get; }

    public long Bytes => new FileInfo(Path).Length;

    public static ReportDocument Load(string path)
    {
        var text = File.ReadAllText(path);
        using var reader = XmlReader.Create(new StringReader(text), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return new ReportDocument(path, text, XDocument.Load(reader, LoadOptions.PreserveWhitespace).Root!);
    }

    public IEnumerable<XElement> All(string name) => Root.Descendants(name);

    public IEnumerable<XElement> WithClass(string name, string cssClass) =>
        All(name).Where(element => ((string?)element.Attribute("class"))?.Split(' ').Contains(cssClass) == true);

    /// <summary>The example cards of a row id (a row may be sampled under several scores).</summary>
    public IReadOnlyList<XElement> Examples(string id) =>
        WithClass("article", "example").Where(article => (string?)article.Attribute("data-id") == id).ToList();

    public XElement Section(string id) => All("section").Single(section => (string?)section.Attribute("id") == id);
}
