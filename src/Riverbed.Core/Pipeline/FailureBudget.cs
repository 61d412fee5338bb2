using System.Globalization;

namespace Riverbed.Pipeline;

/// <summary>
/// How many failed rows (examples kept aside with a reason: untokenizable, or a model request that failed even alone)
/// one shard may have before it is stopped and failed, nothing of it committed (<c>--max-failures</c>). Either a count,
/// or a share of the rows read so far with a floor of <see cref="Floor"/>.
/// <para>
/// The default, 0.1% with a floor of 10, follows reject budgets of trusted loaders (BigQuery's maxBadRecords, a reject
/// ratio): a few failures in a large shard are kept and counted, while a shard failing more than one row in a
/// thousand points at a cause (a model, a device, a format) that a rerun should fix rather than bury in failures. The
/// share is of the rows read so far (in input order, so the verdict does not depend on timing), which lets a burst
/// stop a shard early instead of scoring the rest of it for nothing; the floor keeps small shards from failing on
/// one unlucky row.
/// </para>
/// </summary>
public sealed record FailureBudget
{
    /// <summary>Failed rows a shard may always have under a ratio budget, however few rows it has read.</summary>
    public const long Floor = 10;

    private FailureBudget(long? count, double? fraction) => (Count, Fraction) = (count, fraction);

    /// <summary>0.1% of the rows read so far, and at least <see cref="Floor"/>.</summary>
    public static FailureBudget Default { get; } = new(null, 0.001);

    /// <summary>A fixed number of failed rows per shard (0: none tolerated).</summary>
    public long? Count { get; }

    /// <summary>A share of the shard's rows read so far (0.001 = 0.1%).</summary>
    public double? Fraction { get; }

    public static FailureBudget OfCount(long count)
    {
        if (count < 0)
        {
            throw new RiverbedException($"--max-failures must be 0 or more (got {count})");
        }
        return new FailureBudget(count, null);
    }

    public static FailureBudget OfFraction(double fraction)
    {
        if (!(fraction is >= 0 and <= 1))
        {
            throw new RiverbedException(string.Create(CultureInfo.InvariantCulture, $"--max-failures must be a percentage from 0% to 100% (got {fraction * 100}%)"));
        }
        return new FailureBudget(null, fraction);
    }

    /// <summary>"25" (a count) or "0.5%" (a share of the rows read so far, at least <see cref="Floor"/>).</summary>
    /// <exception cref="RiverbedException">Neither form.</exception>
    public static FailureBudget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.EndsWith('%') && double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            return OfFraction(percent / 100);
        }
        if (long.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
        {
            return OfCount(count);
        }
        throw new RiverbedException($"--max-failures must be a number of failed rows per shard (e.g. 25) or a percentage of its rows (e.g. 0.1%); got '{text}'");
    }

    /// <summary>Failed rows allowed once <paramref name="rowsRead"/> rows of the shard have been read.</summary>
    public long Allowed(long rowsRead) =>
        // The tiny addend keeps 29% of 100 at 29, not 28.999… rounded down.
        Count ?? Math.Max(Floor, (long)Math.Floor((Fraction!.Value * rowsRead) + 1e-9));

    public bool IsExceeded(long failedRows, long rowsRead) => failedRows > Allowed(rowsRead);

    public override string ToString() => Count is { } count
        ? count.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Fraction!.Value * 100:0.###}%");
}
