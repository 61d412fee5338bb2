using System.Text.Json;
using Riverbed.IO;
using Riverbed.Sharding;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>The output folder's job record: written once, checked by every rank, changed only with --force-reassign.</summary>
public sealed class JobRecordTests
{
    [Fact]
    public void The_first_run_records_the_sorted_shards_world_size_and_configuration()
    {
        using var job = new ShardedJob(3);
        job.Record(2);
        var record = JobRecord.TryLoad(job.OutputFolder)!;
        Assert.Equal(2, record.WorldSize);
        Assert.Equal(job.ConfigHash, record.ConfigHash);
        Assert.Equal(["part-00.jsonl", "part-01.jsonl", "part-02.jsonl"], record.Shards.Select(s => s.Name));
        Assert.Equal(job.InputPath(1), record.Shards[1].Path);
        Assert.Equal("part-01", record.Shards[1].BaseName);
        Assert.Equal(ShardAssignment.BySize(job.Inputs(), 2).ListSha256, record.ShardListSha256);
        Assert.Equal([0, 1, 0], Enumerable.Range(0, 3).Select(i => record.RankOf(i)!.Value));
        using var json = JsonDocument.Parse(File.ReadAllBytes(JobRecord.PathIn(job.OutputFolder)));
        Assert.Equal("riverbed-assignment/2", json.RootElement.GetProperty("format").GetString());
        Assert.Equal(Path.Combine(job.OutputFolder, ".riverbed", "assignment.json"), JobRecord.PathIn(job.OutputFolder));
    }

    [Fact]
    public void A_rerun_with_the_same_world_size_leaves_the_record_untouched()
    {
        using var job = new ShardedJob(3);
        job.Record(2);
        var before = File.ReadAllBytes(JobRecord.PathIn(job.OutputFolder));
        job.Record(2);
        Assert.Equal(before, File.ReadAllBytes(JobRecord.PathIn(job.OutputFolder)));
    }

    [Fact]
    public void Changing_the_world_size_is_refused_with_both_numbers_unless_forced()
    {
        using var job = new ShardedJob(4);
        job.Record(2);
        var error = Assert.Throws<JobRecordException>(() => job.Record(3));
        Assert.Contains("assigned over 2 rank(s), this run has world size 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("Setting.ForceReassign", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, JobRecord.TryLoad(job.OutputFolder)!.WorldSize);

        job.Record(3, force: true);
        Assert.Equal(3, JobRecord.TryLoad(job.OutputFolder)!.WorldSize);
        job.Record(3);
    }

    [Fact]
    public void Other_inputs_are_refused_naming_what_was_added_and_what_is_missing()
    {
        using var job = new ShardedJob(3);
        job.Record(1);
        File.Delete(job.InputPath(0));
        job.WriteShard("part-07.jsonl", 2);
        var error = Assert.Throws<JobRecordException>(() => job.Record(1));
        Assert.Contains("the inputs differ from the 3 recorded file(s) (1 added: part-07.jsonl, 1 missing: part-00.jsonl)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_configuration_is_refused_rather_than_mixed()
    {
        using var job = new ShardedJob(2);
        job.Record(1);
        var error = Assert.Throws<JobRecordException>(() => job.Record(1, configHash: "0123456789abcdef"));
        Assert.Contains($"made with another configuration ({job.ConfigHash}; this run's is 0123456789abcdef)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pinned_run_leaves_the_jobs_world_size_alone_but_fixes_its_own()
    {
        using var job = new ShardedJob(4);
        job.Record(4);
        var list = Path.Combine(job.Root, "left.txt");
        File.WriteAllText(list, "part-01.jsonl\npart-03.jsonl\n");
        JobRecord.Establish(job.OutputFolder, ShardAssignment.Pinned(job.Inputs(), list, 2), job.Inputs(), job.ConfigHash, forceReassign: false);
        Assert.Equal(4, JobRecord.TryLoad(job.OutputFolder)!.WorldSize);

        var error = Assert.Throws<JobRecordException>(() =>
            JobRecord.Establish(job.OutputFolder, ShardAssignment.Pinned(job.Inputs(), list, 1), job.Inputs(), job.ConfigHash, forceReassign: false));
        Assert.Contains("was run over 2 rank(s) before, this run has world size 1", error.Message, StringComparison.Ordinal);
        JobRecord.Establish(job.OutputFolder, ShardAssignment.Pinned(job.Inputs(), list, 1), job.Inputs(), job.ConfigHash, forceReassign: true);
        JobRecord.Establish(job.OutputFolder, ShardAssignment.Pinned(job.Inputs(), list, 1), job.Inputs(), job.ConfigHash, forceReassign: false);
    }

    [Fact]
    public void A_first_pinned_run_records_the_job_without_a_world_size_and_the_first_full_run_fills_it_in()
    {
        using var job = new ShardedJob(3);
        var list = Path.Combine(job.Root, "one.txt");
        File.WriteAllText(list, "part-02.jsonl\n");
        JobRecord.Establish(job.OutputFolder, ShardAssignment.Pinned(job.Inputs(), list, 1), job.Inputs(), job.ConfigHash, forceReassign: false);
        Assert.Null(JobRecord.TryLoad(job.OutputFolder)!.WorldSize);
        job.Record(3);
        Assert.Equal(3, JobRecord.TryLoad(job.OutputFolder)!.WorldSize);
    }

    [Fact]
    public void Ranks_racing_to_create_the_record_all_agree_with_the_one_that_wins()
    {
        using var job = new ShardedJob(5);
        var inputs = job.Inputs();
        var records = new JobRecord[8];
        Parallel.For(0, records.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            records[i] = JobRecord.Establish(job.OutputFolder, ShardAssignment.BySize(inputs, 3), inputs, job.ConfigHash, forceReassign: false));
        Assert.All(records, record => Assert.Equal(3, record.WorldSize));
        Assert.Single(records.Select(record => record.ShardListSha256).Distinct());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(job.OutputFolder, ".riverbed"), "*.tmp"));
    }

    [Fact]
    public void A_record_that_cannot_be_read_is_an_error_naming_it()
    {
        using var job = new ShardedJob(1);
        job.Record(1);
        File.WriteAllText(JobRecord.PathIn(job.OutputFolder), "{\"format\": \"riverbed-assignment/1\", ");
        var error = Assert.Throws<JobRecordException>(() => JobRecord.TryLoad(job.OutputFolder));
        Assert.StartsWith(JobRecord.PathIn(job.OutputFolder) + " cannot be read as a job record", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Units_are_recorded_with_their_ranges_bytes_and_ranks_and_read_back_the_same()
    {
        using var job = new ShardedJob(1);
        job.WriteShard("big.jsonl", 2000);
        var units = UnitPlanner.Plan(job.Inputs(), 16 << 10);
        var assignment = ShardAssignment.BySize(units, 3, 16 << 10);
        JobRecord.Establish(job.OutputFolder, assignment, units, job.ConfigHash, forceReassign: false);

        var record = JobRecord.TryLoad(job.OutputFolder)!;

        Assert.Equal(16 << 10, record.UnitSize);
        Assert.Equal(units.Select(unit => unit.Name), record.Shards.Select(shard => shard.Name));
        Assert.Equal(Enumerable.Range(0, units.Count).Select(assignment.RankOf), Enumerable.Range(0, units.Count).Select(i => record.RankOf(i)!.Value));
        Assert.Equal(units.Select(unit => unit.Unit), record.Shards.Select(shard => shard.Unit));
        Assert.All(record.Shards.Where(shard => shard.Unit is not null), shard => Assert.Equal("big.jsonl", shard.SourceName));
        Assert.Equal(units.Select(unit => unit.Name), record.Shards.Select(shard => shard.ToInput().Name));
    }

    [Fact]
    public void Another_unit_size_is_refused_naming_both_sizes()
    {
        using var job = new ShardedJob(1);
        job.WriteShard("big.jsonl", 2000);
        JobRecord Establish(long size) => JobRecord.Establish(job.OutputFolder,
            ShardAssignment.BySize(UnitPlanner.Plan(job.Inputs(), size), 2, size), UnitPlanner.Plan(job.Inputs(), size), job.ConfigHash, forceReassign: false);
        Establish(16 << 10);

        var error = Assert.Throws<JobRecordException>(() => Establish(32 << 10));

        Assert.Contains("its files are split into work units of 16KB, this run's are 32KB; rerun with Setting.UnitSize 16KB", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("inputs differ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_of_the_previous_layout_is_read_with_round_robin_ranks_but_a_run_into_it_is_refused_unless_forced()
    {
        using var job = new ShardedJob(3);
        var inputs = job.Inputs();
        var previous = "{\"format\": \"riverbed-assignment/1\", \"world_size\": 2, \"shard_list_sha256\": \"" + ShardAssignment.HashNames(inputs.Select(input => input.Name)) +
            "\", \"config_hash\": \"" + job.ConfigHash + "\", \"assignment\": \"shard i (in this order) goes to rank i mod world_size\", \"shards\": [" +
            string.Join(", ", inputs.Select(input => $"{{\"name\": \"{input.Name}\", \"base\": \"{input.BaseName}\", \"path\": \"{input.Path}\"}}")) +
            "], \"created_utc\": \"2026-01-01T00:00:00.0000000Z\"}\n";
        Directory.CreateDirectory(Path.GetDirectoryName(JobRecord.PathIn(job.OutputFolder))!);
        File.WriteAllText(JobRecord.PathIn(job.OutputFolder), previous);

        var record = JobRecord.TryLoad(job.OutputFolder)!;
        Assert.True(record.IsPreviousLayout);
        Assert.Equal([0, 1, 0], Enumerable.Range(0, 3).Select(i => record.RankOf(i)!.Value));
        Assert.Equal(3, JobStatus.Scan(job.OutputFolder).Count(ShardProgress.Pending));

        var error = Assert.Throws<JobRecordException>(() => job.Record(2));
        Assert.Contains("written by an earlier Riverbed that gave each rank whole files round-robin (riverbed-assignment/1, 3 file(s))", error.Message, StringComparison.Ordinal);
        Assert.Contains("status, merge-stats, filter and report still read it", error.Message, StringComparison.Ordinal);

        job.Record(2, force: true);
        Assert.False(JobRecord.TryLoad(job.OutputFolder)!.IsPreviousLayout);
    }
}
