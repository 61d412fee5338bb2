namespace Riverbed.Pipeline;

/// <summary>
/// A sum of doubles that is exact until the end and then rounded once (Shewchuk's non-overlapping partials, as in
/// Python's math.fsum), so the result does not depend on the order or grouping of the values. Merged statistics use it
/// for their sums and sums of squares: merging shard statistics in any order, over any number of ranks, gives the same
/// bits.
/// </summary>
internal sealed class ExactSum
{
    private readonly List<double> _partials = [];
    private double _nonFinite;
    private bool _sawNonFinite;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            // Infinities and NaN have no exact partials; they decide the result on their own (as in naive addition).
            _nonFinite = _sawNonFinite ? _nonFinite + value : value;
            _sawNonFinite = true;
            return;
        }
        var x = value;
        var kept = 0;
        for (var j = 0; j < _partials.Count; j++)
        {
            var y = _partials[j];
            if (Math.Abs(x) < Math.Abs(y))
            {
                (x, y) = (y, x);
            }
            var high = x + y;
            var low = y - (high - x);
            if (low != 0.0)
            {
                _partials[kept++] = low;
            }
            x = high;
        }
        _partials.RemoveRange(kept, _partials.Count - kept);
        _partials.Add(x);
    }

    /// <summary>
    /// Adds everything <paramref name="other"/> holds: its partials sum exactly to its unrounded total, so merging sums
    /// in any grouping gives the same bits as adding every value to one sum.
    /// </summary>
    public void Add(ExactSum other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._sawNonFinite)
        {
            Add(other._nonFinite);
        }
        foreach (var partial in other._partials.ToArray())
        {
            Add(partial);
        }
    }

    /// <summary>The sum of every value added, correctly rounded to the nearest double (ties to even).</summary>
    public double Value
    {
        get
        {
            if (_sawNonFinite)
            {
                return _nonFinite;
            }
            var n = _partials.Count;
            if (n == 0)
            {
                return 0.0;
            }
            n--;
            var high = _partials[n];
            var low = 0.0;
            while (n > 0)
            {
                var x = high;
                n--;
                var y = _partials[n];
                high = x + y;
                var rounded = high - x;
                low = y - rounded;
                if (low != 0.0)
                {
                    break;
                }
            }
            // Round half to even across the remaining partials: when the error left over lies exactly halfway and the
            // next partial pushes the same way, the sum must round away from the current result.
            if (n > 0 && ((low < 0 && _partials[n - 1] < 0) || (low > 0 && _partials[n - 1] > 0)))
            {
                var y = low * 2;
                var x = high + y;
                if (y == x - high)
                {
                    high = x;
                }
            }
            return high;
        }
    }

    public static double Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sum = new ExactSum();
        foreach (var value in values)
        {
            sum.Add(value);
        }
        return sum.Value;
    }
}
