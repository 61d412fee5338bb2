using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;
using Riverbed.Pipeline.Execution;

namespace Riverbed.Core.Tests.Pipeline;

public sealed class ThreadBudgetTests
{
    private static readonly ModelRole[] ThreeRoles = [ModelRole.MaskedLm, ModelRole.Nli, ModelRole.ReplacedTokenDetection];

    [Fact]
    public void Eight_cores_go_half_to_the_mlm_and_a_quarter_to_each_other_role()
    {
        var threads = ThreadBudget.Divide(8, ThreeRoles, sessionsPerRole: 1);
        Assert.Equal(4, threads[ModelRole.MaskedLm]);
        Assert.Equal(2, threads[ModelRole.Nli]);
        Assert.Equal(2, threads[ModelRole.ReplacedTokenDetection]);
    }

    [Fact]
    public void Every_session_gets_at_least_one_thread_however_few_the_cores()
    {
        var threads = ThreadBudget.Divide(2, ThreeRoles, sessionsPerRole: 2);
        Assert.All(threads.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Sessions_per_role_share_their_role_s_part()
    {
        var threads = ThreadBudget.Divide(16, ThreeRoles, sessionsPerRole: 2);
        Assert.Equal(4, threads[ModelRole.MaskedLm]);
        Assert.Equal(2, threads[ModelRole.Nli]);
    }

    [Fact]
    public void Sessions_that_share_the_cores_do_not_spin_and_keep_every_other_option()
    {
        var given = new SessionOptions { InterOpThreads = 1, MemoryPattern = false, ConfigEntries = new Dictionary<string, string> { ["a"] = "b" } };
        var shared = ThreadBudget.Apply(given, 3, sharedCores: true);
        Assert.Equal(3, shared.IntraOpThreads);
        Assert.Equal(1, shared.InterOpThreads);
        Assert.False(shared.MemoryPattern);
        Assert.Equal("0", shared.ConfigEntries[ThreadBudget.AllowSpinningKey]);
        Assert.Equal("b", shared.ConfigEntries["a"]);
        Assert.False(ThreadBudget.Apply(given, 3, sharedCores: false).ConfigEntries.ContainsKey(ThreadBudget.AllowSpinningKey));
    }
}
