using FsCheck;
using FsCheck.Fluent;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>Shard i of the sorted list goes to rank i mod W; pinned lists keep their order; every shard has exactly one rank.</summary>
public sealed class ShardAssignmentTests
{
    [Fact]
    public void Shards_are_dealt_round_robin_in_name_order_whatever_order_the_inputs_were_named_in()
    {
        using var job = new ShardedJob(5);
        var files = Enumerable.Range(0, 5).Select(job.InputPath).Reverse().ToList();
        var assignment = ShardAssignment.RoundRobin(InputResolver.Resolve(files), 2);
        Assert.Equal(["part-00.jsonl", "part-02.jsonl", "part-04.jsonl"], assignment.ForRank(0).Select(s => s.Name));
        Assert.Equal(["part-01.jsonl", "part-03.jsonl"], assignment.ForRank(1).Select(s => s.Name));
        Assert.Equal(ShardAssignment.RoundRobin(job.Inputs(), 2).ListSha256, assignment.ListSha256);
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
            var assignment = ShardAssignment.RoundRobin(inputs, world);
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
}
