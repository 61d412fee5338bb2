using Riverbed.Core.Tests.Scoring.EntityPrecision;
using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class LanguageCheckTests
{
    [Theory]
    [InlineData("The Golden Gate Bridge opened in 1937. It was the longest suspension bridge in the world when it opened.")]
    [InlineData("Sure!")]
    [InlineData("1. Joe Beef  2. L'Express  3. Les 400 Coups  4. Festival Saveurs et Saisons 5. Restaurant Toque! 6. La Chronique  7. Plats du Chef 8. La Banquise  9. La Habanera  10. La Taqueria tacos et Burritos")]
    [InlineData("Fact number 1 holds. Fact number 2 holds. Fact number 3 holds. Fact number 4 holds. Fact number 5 holds.")]
    [InlineData("Use this:\n```\nfor x in range(10): print(x)\nresult = compute(values, axis=0)\n```\nIt prints the numbers from zero to nine, and then it stops.")]
    public void English_short_and_code_heavy_text_pass(string text) => Assert.True(LanguageCheck.Assess(text).English);

    [Theory]
    [InlineData("El puente Golden Gate se inauguró en 1937 en San Francisco. Cruza el estrecho entre la bahía y el océano Pacífico.", "function words of other languages")]
    [InlineData("Die Brücke wurde 1937 eröffnet und war damals die längste Hängebrücke der Welt, sagen viele Leute heute noch.", "function words of other languages")]
    [InlineData("金门大桥于一九三七年在旧金山通车。它横跨海湾与太平洋之间的海峡，建成时是世界上最长的悬索桥。", "not in Latin script")]
    [InlineData("Мост Золотые Ворота был открыт в 1937 году и долгое время оставался самым длинным висячим мостом.", "not in Latin script")]
    public void Other_languages_fail_with_a_reason(string text, string reason)
    {
        var verdict = LanguageCheck.Assess(text);
        Assert.False(verdict.English);
        Assert.Contains(reason, verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void No_assistant_turn_of_the_shared_english_datasets_is_taken_for_another_language()
    {
        var turns = EntitySample.Datasets().SelectMany(d => d.Turns.Select(text => (d.Dataset, Text: text))).ToList();
        Assert.True(turns.Count > 7000, $"{turns.Count} turns");
        Assert.Empty(turns.Where(t => !LanguageCheck.Assess(t.Text).English).Select(t => $"{t.Dataset}: {t.Text[..Math.Min(80, t.Text.Length)]}"));
    }
}
