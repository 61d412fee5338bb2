using Riverbed.IO;

namespace Riverbed.Core.Tests.IO;

public sealed class RejectBudgetTests
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
    public void A_failure_budget_allows_a_count_or_a_share_of_the_rows_read_so_far_but_never_less_than_the_floor_for_a_share(string text, long rowsRead, long allowed)
    {
        var budget = RejectBudget.ParseFailures(text);
        Assert.Equal(allowed, budget.Allowed(rowsRead));
        Assert.False(budget.IsExceeded(allowed, rowsRead));
        Assert.True(budget.IsExceeded(allowed + 1, rowsRead));
        Assert.Equal(budget, RejectBudget.ParseFailures(budget.ToString()));
    }

    [Fact]
    public void The_default_failure_budget_is_a_tenth_of_a_percent_with_a_floor_of_ten()
    {
        Assert.Equal("0.1%", RejectBudget.DefaultFailures.ToString());
        Assert.Equal(10, RejectBudget.DefaultFailures.Allowed(5_000));
        Assert.Equal(1_000, RejectBudget.DefaultFailures.Allowed(1_000_000));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("150%")]
    [InlineData("%")]
    [InlineData("")]
    public void A_budget_that_is_neither_a_count_nor_a_percentage_is_refused_naming_its_option(string text)
    {
        var error = Assert.Throws<RiverbedException>(() => RejectBudget.ParseFailures(text));
        Assert.StartsWith("Setting.MaxFailures must be ", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Setting.MaxRejects must be ", Assert.Throws<RiverbedException>(() => RejectBudget.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2", 14, 2)]
    [InlineData("20%", 14, 2)]
    [InlineData("0.5%", 1_000, 5)]
    [InlineData("0%", 1_000, 0)]
    public void A_reject_budget_takes_the_same_forms_with_no_floor_and_counts_the_whole_shard(string text, long records, long allowed)
    {
        var budget = RejectBudget.Parse(text);
        Assert.Equal(allowed, budget.Allowed(records));
        Assert.Null(budget.Exceeded(allowed, records));
        Assert.Equal(FormattableString.Invariant($"{allowed + 1} rejects exceed the budget of {text} (Setting.MaxRejects) in {records:N0} records ({allowed} allowed)"), budget.Exceeded(allowed + 1, records));
        Assert.Equal(budget, RejectBudget.Parse(budget.ToString()));
    }

    [Fact]
    public void A_ratio_is_the_same_budget_as_its_percentage_and_may_go_with_a_count()
    {
        Assert.Equal(RejectBudget.Parse("20%"), RejectBudget.OfShare(0.2));
        var both = RejectBudget.Parse("100").And(RejectBudget.OfShare(0.01));
        Assert.Equal("100 and 1%", both.ToString());
        Assert.Equal(50, both.Allowed(5_000));
        Assert.Equal(100, both.Allowed(1_000_000));
        Assert.Same(RejectBudget.Unlimited.And(both), both);
        Assert.Throws<RiverbedException>(() => both.And(RejectBudget.OfShare(0.5)));
    }

    [Fact]
    public void No_budget_allows_everything()
    {
        Assert.True(RejectBudget.Unlimited.IsUnlimited);
        Assert.Null(RejectBudget.Unlimited.Exceeded(1_000_000, 1_000_000));
        Assert.Equal("unlimited", RejectBudget.Unlimited.ToString());
    }
}
