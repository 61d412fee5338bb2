using Riverbed.Scoring;

namespace Riverbed.Core.Tests.Scoring;

public sealed class CodeSpansTests
{
    private static string[] Code(string text) => [.. CodeSpans.Find(text).Select(range => text[range])];

    [Fact]
    public void A_fenced_block_is_code_from_its_opening_fence_to_its_closing_one()
    {
        Assert.Equal(["```python\nx = 1\n```"], Code("Try this:\n```python\nx = 1\n```\nDone."));
        Assert.Equal(["~~~~\nA\n~~~\nB"], Code("~~~~\nA\n~~~\nB"));
    }

    [Fact]
    public void An_indented_block_after_a_blank_line_is_code_but_an_indented_list_item_or_continuation_is_not()
    {
        Assert.Equal(["    Lines = read()\n\n    Count = 2"], Code("Run:\n\n    Lines = read()\n\n    Count = 2\nThat is all."));
        Assert.Empty(Code("Steps:\n\n    - First item\n    1. Second item"));
        Assert.Empty(Code("A paragraph\n    that continues indented."));
    }

    [Fact]
    public void Inline_code_and_markup_tags_are_code_and_comparison_signs_are_not()
    {
        Assert.Equal(["`open`", "``a ` b``"], Code("Call `open` or ``a ` b`` now."));
        Assert.Equal(["<div class=\"x\">", "</div>", "<br/>", "<!-- note -->"], Code("<div class=\"x\">Hello</div><br/> <!-- note -->"));
        Assert.Equal(["<pre><code>Value</code></pre>"], Code("See <pre><code>Value</code></pre> here."));
        Assert.Empty(Code("If a < b and b > c then a < c."));
        Assert.Empty(Code("An unclosed `tick stays prose."));
    }

    [Fact]
    public void Overlap_is_any_shared_character()
    {
        var code = CodeSpans.Find("ab `cd` ef");
        Assert.True(CodeSpans.Overlaps(code, 3, 4));
        Assert.True(CodeSpans.Overlaps(code, 0, 4));
        Assert.False(CodeSpans.Overlaps(code, 0, 3));
        Assert.False(CodeSpans.Overlaps(code, 7, 10));
    }
}
