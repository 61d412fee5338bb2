using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>Ranks from options, Slurm arrays, Kubernetes Indexed Jobs and Riverbed's variables; conflicts are errors.</summary>
public sealed class RankResolverTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void Nothing_given_means_a_single_process()
    {
        var rank = RankResolver.Resolve(null, null, Env());
        Assert.Equal((0, 1, RankSource.SingleProcess), (rank.Rank, rank.WorldSize, rank.Source));
        var explicitOne = RankResolver.Resolve(null, 1, Env());
        Assert.Equal((0, 1, RankSource.SingleProcess), (explicitOne.Rank, explicitOne.WorldSize, explicitOne.Source));
    }

    [Fact]
    public void Command_line_options_give_the_rank_and_world_size()
    {
        var rank = RankResolver.Resolve(2, 4, Env());
        Assert.Equal((2, 4, RankSource.CommandLine), (rank.Rank, rank.WorldSize, rank.Source));
        Assert.Equal("rank 2 of 4 (Setting.Rank 2, Setting.WorldSize 4)", rank.ToString());
    }

    [Fact]
    public void A_slurm_array_task_takes_its_id_and_the_array_size()
    {
        var rank = RankResolver.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_MAX", "2")));
        Assert.Equal((1, 3, RankSource.Slurm), (rank.Rank, rank.WorldSize, rank.Source));
        Assert.Contains("SLURM_ARRAY_TASK_ID=1", rank.Description, StringComparison.Ordinal);
        Assert.Contains("SLURM_ARRAY_TASK_COUNT=3", rank.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_world_size_takes_the_place_of_a_resubmitted_sparse_arrays_count()
    {
        // sbatch --array=2,5 to redo two ranks of six: the count is 2, the world size is still 6.
        var rank = RankResolver.Resolve(null, 6, Env(("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "2"), ("SLURM_ARRAY_TASK_MIN", "2"), ("SLURM_ARRAY_TASK_MAX", "5")));
        Assert.Equal((5, 6, RankSource.Slurm), (rank.Rank, rank.WorldSize, rank.Source));
    }

    [Fact]
    public void A_slurm_array_that_does_not_number_ranks_from_zero_is_refused_without_a_world_size()
    {
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, null,
            Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_MAX", "3"))));
        Assert.Contains("--array=0-2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kubernetes_indexed_job_needs_its_completions_as_the_world_size()
    {
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "3"))));
        Assert.Contains("JOB_COMPLETION_INDEX=3", error.Message, StringComparison.Ordinal);
        Assert.Contains("RIVERBED_WORLD_SIZE", error.Message, StringComparison.Ordinal);

        var fromEnv = RankResolver.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "3"), ("RIVERBED_WORLD_SIZE", "8")));
        Assert.Equal((3, 8, RankSource.Kubernetes), (fromEnv.Rank, fromEnv.WorldSize, fromEnv.Source));
        var fromOption = RankResolver.Resolve(null, 8, Env(("JOB_COMPLETION_INDEX", "3")));
        Assert.Equal((3, 8, RankSource.Kubernetes), (fromOption.Rank, fromOption.WorldSize, fromOption.Source));
    }

    [Fact]
    public void Riverbed_variables_serve_any_other_launcher()
    {
        var rank = RankResolver.Resolve(null, null, Env(("RIVERBED_RANK", "0"), ("RIVERBED_WORLD_SIZE", "2")));
        Assert.Equal((0, 2, RankSource.Environment), (rank.Rank, rank.WorldSize, rank.Source));
    }

    [Fact]
    public void Sources_that_agree_are_accepted_and_reported()
    {
        var rank = RankResolver.Resolve(1, 3, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")));
        Assert.Equal((1, 3, RankSource.CommandLine), (rank.Rank, rank.WorldSize, rank.Source));
        Assert.Contains("agrees with SLURM_ARRAY_TASK_ID=1", rank.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, null, "SLURM_ARRAY_TASK_ID", "2", "Setting.Rank 1", "SLURM_ARRAY_TASK_ID=2")]
    [InlineData(0, null, "JOB_COMPLETION_INDEX", "1", "Setting.Rank 0", "JOB_COMPLETION_INDEX=1")]
    [InlineData(null, null, "RIVERBED_RANK", "3", "SLURM_ARRAY_TASK_ID=0", "RIVERBED_RANK=3")]
    public void Ranks_that_disagree_are_an_error_naming_both(int? rankOption, int? worldOption, string variable, string value, string first, string second)
    {
        var variables = new List<(string, string)> { (variable, value), ("SLURM_ARRAY_TASK_COUNT", "4"), ("RIVERBED_WORLD_SIZE", "4") };
        if (rankOption is null)
        {
            variables.Add(("SLURM_ARRAY_TASK_ID", "0"));
        }
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(rankOption, worldOption, Env([.. variables])));
        Assert.Contains(first, error.Message, StringComparison.Ordinal);
        Assert.Contains(second, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void World_sizes_that_disagree_are_an_error_naming_both()
    {
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(0, 4, Env(("RIVERBED_WORLD_SIZE", "5"))));
        Assert.Contains("Setting.WorldSize 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("RIVERBED_WORLD_SIZE=5", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(5, 2)]
    public void A_rank_outside_zero_to_world_size_is_refused(int rank, int world)
    {
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(rank, world, Env()));
        Assert.Contains($"ranks run from 0 to {world - 1}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_or_zero_values_and_garbage_in_variables_are_refused()
    {
        Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(-1, 2, Env()));
        Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(0, 0, Env()));
        Assert.Contains("must be at least 1", Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, null, Env(("RIVERBED_RANK", "0"), ("RIVERBED_WORLD_SIZE", "0")))).Message, StringComparison.Ordinal);
        var error = Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "two"))));
        Assert.Contains("SLURM_ARRAY_TASK_ID='two'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rank_without_a_world_size_or_a_world_size_without_a_rank_is_refused()
    {
        Assert.Contains("no world size", Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(1, null, Env())).Message, StringComparison.Ordinal);
        Assert.Contains("no rank", Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, 3, Env())).Message, StringComparison.Ordinal);
        Assert.Contains("SLURM_ARRAY_TASK_COUNT", Assert.Throws<WorkerRankException>(() => RankResolver.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "0")))).Message, StringComparison.Ordinal);
    }
}
