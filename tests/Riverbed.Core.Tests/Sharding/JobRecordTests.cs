using System.Text.Json;
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
        Assert.Equal(ShardAssignment.RoundRobin(job.Inputs(), 2).ListSha256, record.ShardListSha256);
        Assert.Equal([0, 1, 0], Enumerable.Range(0, 3).Select(i => record.RankOf(i)!.Value));
        using var json = JsonDocument.Parse(File.ReadAllBytes(JobRecord.PathIn(job.OutputFolder)));
        Assert.Equal("riverbed-assignment/1", json.RootElement.GetProperty("format").GetString());
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
        Assert.Contains("--force-reassign", error.Message, StringComparison.Ordinal);
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
        Assert.Contains("the inputs differ from the 3 recorded shard(s) (1 added: part-07.jsonl, 1 missing: part-00.jsonl)", error.Message, StringComparison.Ordinal);
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
            records[i] = JobRecord.Establish(job.OutputFolder, ShardAssignment.RoundRobin(inputs, 3), inputs, job.ConfigHash, forceReassign: false));
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
}
