using System.Globalization;

namespace Riverbed.IO;

/// <summary>
/// How many bad records one shard may have before it fails instead of committing: records the reader rejected
/// (<c>--max-rejects</c>, kept in {base}.rejects.jsonl with file, line and reason) or rows that failed to score
/// (<c>--max-failures</c>, kept in {base}.failures.jsonl). One type and one syntax for every such limit: a count
/// (<c>100</c>; <c>0</c> tolerates none) or a percentage of the shard's records (<c>0.5%</c>).
/// <para>
/// A percentage is of the records seen so far: the failure budget is checked as rows are written (in input order, so
/// the verdict does not depend on timing, and a burst stops a shard early instead of scoring the rest for nothing);
/// the reject budget once the shard is read, i.e. of all its records. <see cref="Floor"/> keeps a small shard from
/// failing a percentage on one unlucky record (the failure budget's default: 0.1%, at least 10, after the reject
/// ratios of trusted loaders such as BigQuery's maxBadRecords). No limit for rejects by default: every reject is kept
/// and counted in the manifest and stats, so nothing is lost and one broken line does not stop a long job.
/// </para>
/// </summary>
public sealed record RejectBudget
{
    /// <summary>The setting of the reject budget, named in its messages.</summary>
    public const Setting RejectsOption = Setting.MaxRejects;

    /// <summary>The setting of the failure budget, named in its messages.</summary>
    public const Setting FailuresOption = Setting.MaxFailures;

    /// <summary>Failed rows a shard may always have under a percentage failure budget, however few rows it has read.</summary>
    public const long FailureFloor = 10;

    /// <summary>No limit on rejects (the default of <c>score</c> and <c>convert</c>).</summary>
    public static RejectBudget Unlimited { get; } = new();

    /// <summary>The default failure budget: 0.1% of the rows read so far, and at least <see cref="FailureFloor"/>.</summary>
    public static RejectBudget DefaultFailures { get; } = new() { MaxShare = 0.001, Floor = FailureFloor };

    /// <summary>Most bad records a shard may have; null for no count limit.</summary>
    public long? MaxCount { get; init; }

    /// <summary>Largest share (0 … 1) of the shard's records seen so far that may be bad; null for no share limit.</summary>
    public double? MaxShare { get; init; }

    /// <summary>Bad records always allowed under a share, however few records were seen.</summary>
    public long Floor { get; init; }

    /// <summary>
    /// "100" (at most 100) or "0.5%" (at most 0.5% of the records) for <paramref name="option"/>.
    /// </summary>
    /// <exception cref="RiverbedException">Neither form, a negative count, or a percentage outside 0%–100%; the message names both forms.</exception>
    public static RejectBudget Parse(string text, Setting option = RejectsOption)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.EndsWith('%') && double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            return OfShare(percent / 100, option);
        }
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return OfCount(count, option);
        }
        throw new RiverbedException(
            $"{SettingNames.Of(option)} must be a count of records per shard (e.g. 100; 0 for none) or a percentage of its records (e.g. 0.5%); '{text}' is neither a count nor a percentage");
    }

    /// <summary>The failure budget <c>--max-failures</c>: the same syntax, with <see cref="FailureFloor"/> under a percentage.</summary>
    public static RejectBudget ParseFailures(string text)
    {
        var budget = Parse(text, FailuresOption);
        return budget.MaxShare is null ? budget : budget with { Floor = FailureFloor };
    }

    public static RejectBudget OfCount(long count, Setting option = RejectsOption)
    {
        if (count < 0)
        {
            throw new RiverbedException($"{SettingNames.Of(option)} must be a count of 0 or more (got {count})");
        }
        return new RejectBudget { MaxCount = count };
    }

    /// <summary>A share of the records, 0 … 1 (<c>--max-reject-ratio 0.2</c> is the same as <c>--max-rejects 20%</c>).</summary>
    public static RejectBudget OfShare(double share, Setting option = RejectsOption)
    {
        if (!(share is >= 0 and <= 1))
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture,
                $"{SettingNames.Of(option)} must be a percentage from 0% to 100% (got {share * 100}%)"));
        }
        return new RejectBudget { MaxShare = share };
    }

    /// <summary>Both limits: a shard fails when it passes either (e.g. <c>--max-rejects 100 --max-reject-ratio 0.01</c>).</summary>
    public RejectBudget And(RejectBudget other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (IsUnlimited || other.IsUnlimited)
        {
            return IsUnlimited ? other : this;
        }
        if ((MaxCount is not null && other.MaxCount is not null) || (MaxShare is not null && other.MaxShare is not null))
        {
            throw new RiverbedException($"the reject budget is given twice as a {(MaxCount is not null && other.MaxCount is not null ? "count" : "percentage")}; give it once");
        }
        return this with { MaxCount = MaxCount ?? other.MaxCount, MaxShare = MaxShare ?? other.MaxShare, Floor = Math.Max(Floor, other.Floor) };
    }

    public bool IsUnlimited => MaxCount is null && MaxShare is null;

    /// <summary>Bad records allowed once <paramref name="seen"/> records of the shard were seen (long.MaxValue without a limit).</summary>
    public long Allowed(long seen)
    {
        var allowed = MaxCount ?? long.MaxValue;
        if (MaxShare is { } share)
        {
            // The tiny addend keeps 29% of 100 at 29, not 28.999… rounded down.
            allowed = Math.Min(allowed, Math.Max(Floor, (long)Math.Floor((share * seen) + 1e-9)));
        }
        return allowed;
    }

    public bool IsExceeded(long bad, long seen) => bad > Allowed(seen);

    /// <summary>Why <paramref name="rejects"/> of <paramref name="records"/> records are over this reject budget, or null when they are not.</summary>
    public string? Exceeded(long rejects, long records) => IsExceeded(rejects, records)
        ? string.Create(CultureInfo.InvariantCulture,
            $"{rejects:N0} rejects exceed the budget of {this} ({SettingNames.Of(RejectsOption)}) in {records:N0} records ({Allowed(records):N0} allowed)")
        : null;

    /// <summary>The budget as a user writes it: "100", "0.5%", "100 and 0.5%", or "unlimited".</summary>
    public override string ToString()
    {
        var count = MaxCount?.ToString(CultureInfo.InvariantCulture);
        var share = MaxShare is { } value ? (value * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%" : null;
        return (count, share) switch
        {
            (null, null) => "unlimited",
            ({ } c, null) => c,
            (null, { } s) => s,
            ({ } c, { } s) => $"{c} and {s}",
        };
    }
}
