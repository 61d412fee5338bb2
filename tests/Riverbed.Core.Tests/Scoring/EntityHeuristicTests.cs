using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class EntityHeuristicTests
{
    private static (string Text, string Kind)[] Entities(string text) =>
        [.. EntityHeuristic.Find(text).Select(e => (text[e.Range], e.Kind))];

    [Fact]
    public void Capitalised_runs_inside_a_sentence_are_names()
    {
        Assert.Equal(
            [("Eiffel Tower", EntityKinds.Name), ("Paris", EntityKinds.Name)],
            Entities("The Eiffel Tower is in Paris."));
    }

    [Fact]
    public void Joiner_words_connect_capitalised_words()
    {
        Assert.Equal([("University of Oxford", EntityKinds.Name)], Entities("She studied at the University of Oxford."));
    }

    [Fact]
    public void A_word_capitalised_only_because_it_starts_a_sentence_is_not_a_name()
    {
        Assert.Empty(Entities("Yesterday it rained. Today it is sunny."));
        Assert.Equal([("Einstein", EntityKinds.Name)], Entities("Albert Einstein was a physicist."));
        Assert.Empty(Entities("I think so."));
    }

    [Fact]
    public void Dates_in_several_forms_are_dates()
    {
        Assert.Equal([("July 4, 1776", EntityKinds.Date)], Entities("It was signed on July 4, 1776 in a hall."));
        Assert.Equal([("4 July 1776", EntityKinds.Date)], Entities("It was signed on 4 July 1776 in a hall."));
        Assert.Equal([("1969", EntityKinds.Date)], Entities("They landed in 1969."));
        Assert.Equal([("1776-07-04", EntityKinds.Date)], Entities("On 1776-07-04 it happened."));
        Assert.Equal([("March 2020", EntityKinds.Date)], Entities("It began in March 2020."));
    }

    [Fact]
    public void Numbers_with_units_scales_or_currency_are_quantities()
    {
        Assert.Equal([("3.5 km", EntityKinds.Quantity)], Entities("The walk is 3.5 km long."));
        Assert.Equal([("12 million", EntityKinds.Quantity)], Entities("About 12 million people live there."));
        Assert.Equal([("70%", EntityKinds.Quantity)], Entities("Roughly 70% of it is water."));
        Assert.Equal([("$5 billion", EntityKinds.Quantity)], Entities("It cost $5 billion to build."));
    }

    [Fact]
    public void Other_words_with_digits_are_numbers()
    {
        Assert.Equal([("42", EntityKinds.Number), ("1,000", EntityKinds.Number)], Entities("The answer is 42, not 1,000."));
    }

    [Fact]
    public void Spans_are_ordered_and_never_overlap()
    {
        var text = "On May 5, 2001 Mr. Bob Dylan paid $30 for 2 tickets to see The Rolling Stones in New York City at 9 pm.";
        var spans = EntityHeuristic.Find(text);
        for (var i = 1; i < spans.Count; i++)
        {
            Assert.True(spans[i - 1].Range.End.Value <= spans[i].Range.Start.Value, $"{spans[i - 1]} overlaps {spans[i]}");
        }
        Assert.Contains(("May 5, 2001", EntityKinds.Date), spans.Select(s => (text[s.Range], s.Kind)));
        Assert.Contains(("New York City", EntityKinds.Name), spans.Select(s => (text[s.Range], s.Kind)));
    }

    [Fact]
    public void Words_capitalised_because_they_start_a_line_a_list_item_or_a_clause_after_a_colon_are_not_names()
    {
        Assert.Empty(Entities("1. Fiction: This category includes novels.\n2. Poetry: Some people enjoy it."));
        Assert.DoesNotContain(Entities("Step 1: Heat a cup of water."), e => e.Kind == EntityKinds.Name);
        Assert.Equal([("Jane Austen", EntityKinds.Name)], Entities("- Classics: Many readers like Jane Austen."));
        Assert.Equal([("Lizzie Bennet", EntityKinds.Name)], Entities("Image: A vlog in which Lizzie Bennet talks."));
    }

    [Fact]
    public void Common_words_never_start_or_extend_a_name_and_I_contractions_are_not_names()
    {
        Assert.Empty(Entities("He said that I'm tired and I've left."));
        Assert.Equal([("Exorcist", EntityKinds.Name)], Entities("You could watch \"The Exorcist\" tonight, he said."));
        Assert.Equal([("Paris", EntityKinds.Name)], Entities("we went to Paris The next day."));
        Assert.Equal([("New York", EntityKinds.Name)], Entities("She moved to New York last year."));
    }

    [Fact]
    public void Code_and_code_identifiers_hold_no_entities()
    {
        Assert.Empty(Entities("Call `Process.Start` with a path."));
        Assert.Empty(Entities("Set max_length and call getElementById or os.path before print(Value)."));
        Assert.Equal([("Windows", EntityKinds.Name)], Entities("It runs on Windows:\n\n```\nRange = List(1, 2)\n```"));
        Assert.Empty(Entities("Wrap it in <div class=\"Example\">text</div> tags."));
    }
}
