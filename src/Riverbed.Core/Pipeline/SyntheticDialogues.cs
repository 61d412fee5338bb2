using System.Text;
using System.Text.Json;

namespace Riverbed.Pipeline;

/// <summary>
/// A seeded generator of OIG-style dialogues for benchmarks (<c>riverbed bench</c>, bench/): one to three exchanges,
/// answers of one to nine sentences of varied length with names, numbers and dates, so request lengths spread the way
/// real data's do (which is what length sorting is for). Same seed, same bytes.
/// </summary>
public static class SyntheticDialogues
{
    private static readonly string[] Subjects =
    [
        "The river", "Our team", "The committee", "Maria", "The old bridge", "This recipe", "The museum", "Every student",
        "The new engine", "A small village", "The report", "Professor Chen", "The garden", "That company", "The ship",
    ];

    private static readonly string[] Verbs =
    [
        "crosses", "reaches", "describes", "builds", "measures", "explains", "protects", "changes", "supports", "opened",
        "moved", "covered", "produced", "visited", "compared",
    ];

    private static readonly string[] Objects =
    [
        "the northern valley", "three large cities", "a quiet harbor", "the annual budget", "several research projects",
        "the local market", "an ancient wall", "the main square", "fresh bread and cheese", "a narrow mountain road",
        "the history of the region", "two hundred workers", "the eastern coast", "a wooden tower", "the city council",
    ];

    private static readonly string[] Tails =
    [
        "in 1987", "for 42 years", "since March 2004", "near Lisbon", "with Anna Berg", "at 7 in the morning",
        "after the storm", "before the winter", "by 15 percent", "every Sunday", "during the war", "in Canada",
        "under heavy rain", "for nearly 3 kilometers", "without any help",
    ];

    private static readonly string[] Questions =
    [
        "Tell me about it.", "What happened next?", "Can you explain that in more detail?", "Why is that important?",
        "How long did it take?", "Who was involved?", "Where does it go?", "Is that true?",
    ];

    /// <summary>Writes <paramref name="count"/> dialogues to <paramref name="path"/> as JSON Lines ({"id", "text"}).</summary>
    public static void Write(string path, int count, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var writer = new Utf8JsonWriter(stream);
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            text.Clear();
            var exchanges = 1 + random.Next(3);
            for (var e = 0; e < exchanges; e++)
            {
                text.Append(e == 0 ? string.Empty : "\n").Append("<human>: ").Append(Pick(random, Questions)).Append('\n');
                text.Append("<bot>:");
                // Mostly short answers with a long tail, as in instruction data.
                var sentences = 1 + (int)Math.Min(8, Math.Floor(-Math.Log(1 - random.NextDouble()) * 2.5));
                for (var s = 0; s < sentences; s++)
                {
                    text.Append(' ').Append(Pick(random, Subjects)).Append(' ').Append(Pick(random, Verbs)).Append(' ').Append(Pick(random, Objects));
                    if (random.Next(3) > 0)
                    {
                        text.Append(' ').Append(Pick(random, Tails));
                    }
                    if (random.Next(4) == 0)
                    {
                        text.Append(" and ").Append(Pick(random, Objects).Replace("the ", "its ", StringComparison.Ordinal));
                    }
                    text.Append('.');
                }
            }
            writer.WriteStartObject();
            writer.WriteString("id", $"synthetic-{i:D6}");
            writer.WriteString("text", text.ToString());
            writer.WriteEndObject();
            writer.Flush();
            stream.WriteByte((byte)'\n');
            writer.Reset();
        }
    }

    private static string Pick(Random random, string[] items) => items[random.Next(items.Length)];
}
