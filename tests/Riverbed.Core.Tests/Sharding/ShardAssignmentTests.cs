using FsCheck;
using FsCheck.Fluent;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>Units are dealt by size (equal sizes: round-robin in name order); pinned lists keep their order; every unit has exactly one rank.</summary>
public sealed class ShardAssignmentTests
{
    [Fact]
    public void Equal_shards_are_dealt_round_robin_in_name_order_whatever_order_the_inputs_were_named_in()
    {
        using var job = new ShardedJob(5);
        var files = Enumerable.Range(0, 5).Select(job.InputPath).Reverse().ToList();
        var assignment = ShardAssignment.BySize(InputResolver.Resolve(files), 2);
        Assert.Equal(["part-00.jsonl", "part-02.jsonl", "part-04.jsonl"], assignment.ForRank(0).Select(s => s.Name));
        Assert.Equal(["part-01.jsonl", "part-03.jsonl"], assignment.ForRank(1).Select(s => s.Name));
        Assert.Equal(ShardAssignment.BySize(job.Inputs(), 2).ListSha256, assignment.ListSha256);
    }

    [Fact]
    public void Every_shard_belongs_to_exactly_one_rank_for_any_count_and_world_size()
    {
        using var job = new ShardedJob(1);
        var input = job.Inputs()[0];
        Prop.ForAll(Gen.Choose(0, 60).ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), (count, world) =>
        {
            var inputs = Enumerable.Range(0, count)
                .Select(i => ShardInput.FromFile(input.Path, $"s{i:D3}.jsonl"))
                .ToList();
            var assignment = ShardAssignment.BySize(inputs, world);
            var dealt = Enumerable.Range(0, world).SelectMany(assignment.ForRank).Select(s => s.Name).ToList();
            var sizes = Enumerable.Range(0, world).Select(rank => assignment.ForRank(rank).Count).ToList();
            return dealt.Count == count
                && dealt.Distinct().Count() == count
                && sizes.Max() - sizes.Min() <= 1;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_pinned_list_keeps_its_order_and_skips_comments_and_blank_lines()
    {
        using var job = new ShardedJob(4);
        var list = Path.Combine(job.Root, "left.txt");
        File.WriteAllText(list, "# the shards left\npart-03.jsonl\n\n  part-01.jsonl  \n");
        var assignment = ShardAssignment.Pinned(job.Inputs(), list, 2);
        Assert.Equal(["part-03.jsonl", "part-01.jsonl"], assignment.Shards.Select(s => s.Name));
        Assert.Equal(["part-03.jsonl"], assignment.ForRank(0).Select(s => s.Name));
        Assert.Equal(["part-01.jsonl"], assignment.ForRank(1).Select(s => s.Name));
        Assert.Equal(Path.GetFullPath(list), assignment.PinnedFile);
    }

    [Fact]
    public void A_written_list_reads_back_the_same()
    {
        using var job = new ShardedJob(3);
        var list = Path.Combine(job.Root, "list.txt");
        File.WriteAllText(list, ShardAssignment.FormatList(["part-02.jsonl", "part-00.jsonl"], "two shards\nfor a test"));
        var assignment = ShardAssignment.Pinned(job.Inputs(), list, 1);
        Assert.Equal(["part-02.jsonl", "part-00.jsonl"], assignment.Shards.Select(s => s.Name));
        Assert.Equal(ShardAssignment.HashNames(["part-02.jsonl", "part-00.jsonl"]), assignment.ListSha256);
        Assert.Throws<ShardListException>(() => ShardAssignment.FormatList(["#odd"], "x"));
    }

    [Fact]
    public void A_pinned_list_naming_an_unknown_or_repeated_shard_is_refused_with_file_and_line()
    {
        using var job = new ShardedJob(2);
        var list = Path.Combine(job.Root, "bad.txt");
        File.WriteAllText(list, "part-00.jsonl\npart-09.jsonl\n");
        var unknown = Assert.Throws<ShardListException>(() => ShardAssignment.Pinned(job.Inputs(), list, 1));
        Assert.StartsWith($"{list}:2: 'part-09.jsonl' is not one of the 2 input shard(s)", unknown.Message, StringComparison.Ordinal);

        File.WriteAllText(list, "part-00.jsonl\n# again\npart-00.jsonl\n");
        Assert.StartsWith($"{list}:3: 'part-00.jsonl' is listed twice", Assert.Throws<ShardListException>(() => ShardAssignment.Pinned(job.Inputs(), list, 1)).Message, StringComparison.Ordinal);

        File.WriteAllText(list, "# nothing\n");
        Assert.Contains("names no shard", Assert.Throws<ShardListException>(() => ShardAssignment.Pinned(job.Inputs(), list, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ShardListException>(() => ShardAssignment.Pinned(job.Inputs(), list + ".missing", 1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Units_go_largest_first_to_the_rank_with_the_least_input_so_far()
    {
        // 10 → 0, 9 → 1, 8 → 2, 7 → 2 (8), 6 → 1 (9), 5 → 0 (10), 4 → 0 (all at 15: the lowest rank): loads 19, 15, 15.
        Assert.Equal([0, 1, 2, 2, 1, 0, 0], ShardAssignment.LongestFirst([10, 9, 8, 7, 6, 5, 4], 3));
    }

    [Fact]
    public void Equal_sizes_are_dealt_in_list_order_and_equal_loads_go_to_the_lowest_rank()
    {
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], ShardAssignment.LongestFirst([5, 5, 5, 5, 5, 5, 5], 3));
        Assert.Equal([1, 0, 2, 1], ShardAssignment.LongestFirst([3, 8, 3, 3], 3));
    }

    [Fact]
    public void One_huge_file_and_many_small_ones_are_balanced_where_round_robin_gave_one_rank_hundreds_of_times_the_work()
    {
        // The case: one big file among small ones. Split into units it balances within a unit of the mean.
        var sizes = Enumerable.Repeat(64L << 20, 16).Concat(Enumerable.Repeat(1L << 20, 40)).Concat([23L << 20]).ToList();
        var ranks = ShardAssignment.LongestFirst(sizes, 3);
        var loads = Enumerable.Range(0, 3).Select(rank => sizes.Where((_, i) => ranks[i] == rank).Sum()).ToList();
        Assert.True(loads.Max() <= loads.Min() * 1.2, string.Join(", ", loads));
    }

    [Fact]
    public void No_rank_ever_carries_more_than_the_mean_plus_one_unit_for_any_sizes_and_world_size()
    {
        Prop.ForAll(Gen.ListOf(Gen.Choose(1, 1000)).ToArbitrary(), Gen.Choose(1, 9).ToArbitrary(), (sizes, world) =>
        {
            var longs = sizes.Select(size => (long)size).ToList();
            var ranks = ShardAssignment.LongestFirst(longs, world);
            var loads = Enumerable.Range(0, world).Select(rank => longs.Where((_, i) => ranks[i] == rank).Sum()).ToList();
            var again = ShardAssignment.LongestFirst(longs, world);
            return ranks.SequenceEqual(again)
                && ranks.All(rank => rank >= 0 && rank < world)
                && (longs.Count == 0 || loads.Max() <= (double)longs.Sum() / world + longs.Max());
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_split_file_is_dealt_as_units_sorted_with_the_other_files_and_every_rank_gets_a_share()
    {
        using var job = new ShardedJob(2, rowsPerShard: 3);
        job.WriteShard("big.jsonl", 3000);
        var files = job.Inputs();
        var units = UnitPlanner.Plan(files, 4 << 10);
        var assignment = ShardAssignment.BySize(units, 3, 4 << 10);

        Assert.True(units.Count > 6, $"{units.Count} unit(s)");
        Assert.Equal(units.Select(unit => unit.Name), assignment.Shards.Select(unit => unit.Name));
        Assert.StartsWith("big.u00000-of-", assignment.Shards[0].Name, StringComparison.Ordinal);
        Assert.Equal(["part-00.jsonl", "part-01.jsonl"], assignment.Shards.TakeLast(2).Select(unit => unit.Name));
        var bytes = assignment.BytesPerRank();
        Assert.Equal(files.Sum(file => file.Size), bytes.Sum());
        Assert.True(bytes.Max() <= bytes.Min() * 1.2, string.Join(", ", bytes));
        Assert.Equal(units.Count, Enumerable.Range(0, 3).Sum(rank => assignment.ForRank(rank).Count));
    }
}
