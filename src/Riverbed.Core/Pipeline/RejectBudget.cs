using System.Globalization;

namespace Riverbed.Pipeline;

/// <summary>
/// How many records of one shard the reader may reject (kept in {base}.rejects.jsonl with file, line and reason) before
/// the shard counts as failed rather than committed. No limit by default: a curated dataset with a few broken lines
/// should still be scored, and no reject is lost, because every one is kept and counted in the manifest and stats.
/// A curator who wants every record to be valid (BigQuery's default) passes <c>--max-rejects 0</c>.
/// </summary>
public sealed record RejectBudget
{
    public static RejectBudget None { get; } = new();

    /// <summary>Most rejects a shard may have; null for no limit.</summary>
    public long? MaxRejects { get; init; }

    /// <summary>Largest fraction of a shard's records that may be rejected (0 … 1); null for no limit.</summary>
    public double? MaxRatio { get; init; }

    public void Validate()
    {
        if (MaxRejects is < 0)
        {
            throw new RiverbedException($"--max-rejects must be 0 or more (got {MaxRejects})");
        }
        if (MaxRatio is { } ratio && !(ratio >= 0 && ratio <= 1))
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture, $"--max-reject-ratio must lie between 0 and 1 (got {ratio})"));
        }
    }

    /// <summary>Why a shard with <paramref name="rejects"/> of <paramref name="records"/> records is over budget, or null when it is not.</summary>
    public string? Exceeded(long rejects, long records)
    {
        if (MaxRejects is { } most && rejects > most)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{rejects:N0} rejects exceed the budget of {most:N0} (--max-rejects) in {records:N0} records");
        }
        if (MaxRatio is { } ratio && rejects > ratio * records)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{rejects:N0} rejects exceed the budget of {ratio:0.####} of {records:N0} records (--max-reject-ratio)");
        }
        return null;
    }
}
