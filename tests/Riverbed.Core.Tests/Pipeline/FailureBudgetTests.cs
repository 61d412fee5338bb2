using Riverbed.Pipeline;

namespace Riverbed.Core.Tests.Pipeline;

public sealed class FailureBudgetTests
{
    [Theory]
    [InlineData("0", 1_000_000, 0)]
    [InlineData("25", 1_000_000, 25)]
    [InlineData("0.1%", 0, 10)]
    [InlineData("0.1%", 9_999, 10)]
    [InlineData("0.1%", 25_500, 25)]
    [InlineData("5%", 1_000, 50)]
    [InlineData(" 2.5% ", 100, 10)]
    [InlineData("29%", 100, 29)]
    public void A_budget_allows_a_count_or_a_share_of_the_rows_read_so_far_but_never_less_than_the_floor_for_a_share(string text, long rowsRead, long allowed)
    {
        var budget = FailureBudget.Parse(text);
        Assert.Equal(allowed, budget.Allowed(rowsRead));
        Assert.False(budget.IsExceeded(allowed, rowsRead));
        Assert.True(budget.IsExceeded(allowed + 1, rowsRead));
        Assert.Equal(budget, FailureBudget.Parse(budget.ToString()));
    }

    [Fact]
    public void The_default_is_a_tenth_of_a_percent_with_a_floor_of_ten()
    {
        Assert.Equal("0.1%", FailureBudget.Default.ToString());
        Assert.Equal(10, FailureBudget.Default.Allowed(5_000));
        Assert.Equal(1_000, FailureBudget.Default.Allowed(1_000_000));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("150%")]
    [InlineData("%")]
    [InlineData("")]
    public void A_budget_that_is_neither_a_count_nor_a_percentage_is_refused_with_both_forms(string text)
    {
        var error = Assert.Throws<RiverbedException>(() => FailureBudget.Parse(text));
        Assert.StartsWith("--max-failures must be ", error.Message, StringComparison.Ordinal);
    }
}
