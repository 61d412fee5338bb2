using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class SentenceSplitterTests
{
    private static string[] Sentences(string text) => [.. SentenceSplitter.Split(text).Select(r => text[r])];

    [Fact]
    public void Plain_sentences_split_at_their_terminators()
    {
        Assert.Equal(["The sky is blue.", "Grass is green!", "Is water wet?"], Sentences("The sky is blue. Grass is green! Is water wet?"));
    }

    [Fact]
    public void Abbreviations_do_not_end_a_sentence()
    {
        Assert.Equal(
            ["Dr. Smith met Mr. Jones at 5 p.m. in Washington, D.C. yesterday.", "They talked."],
            Sentences("Dr. Smith met Mr. Jones at 5 p.m. in Washington, D.C. yesterday. They talked."));
        Assert.Equal(["Use a fruit, e.g. An apple, for this."], Sentences("Use a fruit, e.g. An apple, for this."));
    }

    [Fact]
    public void Initials_do_not_end_a_sentence()
    {
        Assert.Equal(["J. K. Rowling wrote it.", "It sold well."], Sentences("J. K. Rowling wrote it. It sold well."));
    }

    [Fact]
    public void Decimals_urls_and_emails_stay_inside_their_sentence()
    {
        Assert.Equal(
            ["Pi is about 3.14 and e is 2.718.", "See https://example.com/a.b?x=1.5 or mail me@example.org for details.", "Done."],
            Sentences("Pi is about 3.14 and e is 2.718. See https://example.com/a.b?x=1.5 or mail me@example.org for details. Done."));
    }

    [Fact]
    public void Every_line_is_its_own_sentence_and_list_markers_are_left_out()
    {
        var text = "Here are the steps:\n1. Preheat the oven\n2) Mix the flour\n- Bake it. Then cool it.\n\n* Serve";
        Assert.Equal(["Here are the steps:", "Preheat the oven", "Mix the flour", "Bake it.", "Then cool it.", "Serve"], Sentences(text));
    }

    [Fact]
    public void Ranges_index_the_original_text_including_crlf_line_ends()
    {
        var text = "  First line.\r\nSecond one.  ";
        var ranges = SentenceSplitter.Split(text);
        Assert.Equal([2..13, 15..26], ranges);
    }

    [Fact]
    public void Quotes_and_ellipses_are_handled()
    {
        Assert.Equal(["He said \"Stop.\"", "She stopped."], Sentences("He said \"Stop.\" She stopped."));
        Assert.Equal(["Wait... what happened?", "Nothing."], Sentences("Wait... what happened? Nothing."));
        Assert.Equal(["Well...", "No."], Sentences("Well... No."));
    }

    [Fact]
    public void Cjk_full_stops_split_without_whitespace()
    {
        Assert.Equal(["今天很好。", "明天下雨。"], Sentences("今天很好。明天下雨。"));
    }

    [Fact]
    public void Text_without_letters_or_digits_has_no_sentences()
    {
        Assert.Empty(SentenceSplitter.Split(""));
        Assert.Empty(SentenceSplitter.Split(" \n ... \n -- "));
    }

    [Fact]
    public void A_lower_case_continuation_does_not_start_a_new_sentence()
    {
        Assert.Equal(["It costs approx. ten dollars."], Sentences("It costs approx. ten dollars."));
        Assert.Equal(["Version 2. then 3."], Sentences("Version 2. then 3."));
    }
}
