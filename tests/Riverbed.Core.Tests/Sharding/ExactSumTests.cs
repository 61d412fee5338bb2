using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using Riverbed.Pipeline;

namespace Riverbed.Core.Tests.Sharding;

/// <summary>The merged sums of statistics: exact until one final rounding, so order and grouping never change the bits.</summary>
public sealed class ExactSumTests
{
    /// <summary>The exact sum as an integer count of 2^-1074 (every finite double is one), rounded to nearest, ties to even.</summary>
    private static double Reference(IEnumerable<double> values)
    {
        var total = BigInteger.Zero;
        foreach (var value in values)
        {
            var bits = BitConverter.DoubleToInt64Bits(value);
            var exponent = (int)((bits >> 52) & 0x7FF);
            var mantissa = bits & 0xFFFFFFFFFFFFFL;
            BigInteger units = exponent == 0 ? mantissa : (mantissa | (1L << 52)) * BigInteger.Pow(2, exponent - 1);
            total += value < 0 ? -units : units;
        }
        if (total.IsZero)
        {
            return 0.0;
        }
        var negative = total.Sign < 0;
        var magnitude = BigInteger.Abs(total);
        var shift = (int)magnitude.GetBitLength() - 53;
        double result;
        if (shift <= 0)
        {
            result = Math.ScaleB((double)magnitude, -1074);
        }
        else
        {
            var quotient = magnitude >> shift;
            var remainder = magnitude - (quotient << shift);
            var half = BigInteger.One << (shift - 1);
            if (remainder > half || (remainder == half && !quotient.IsEven))
            {
                quotient += 1;
            }
            result = Math.ScaleB((double)quotient, shift - 1074);
        }
        return negative ? -result : result;
    }

    [Theory]
    [InlineData(new[] { 1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50 }, 1e-100)]
    [InlineData(new[] { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 }, 1.0)]
    [InlineData(new[] { 1.0, 1e-16, 1e-16 }, 1.0000000000000002)]
    [InlineData(new double[0], 0.0)]
    public void Known_hard_sums_come_out_exactly(double[] values, double expected) =>
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(ExactSum.Of(values)));

    [Fact]
    public void Any_values_in_any_order_sum_to_the_correctly_rounded_exact_sum()
    {
        var value = from mantissa in Gen.Choose(-1_000_000, 1_000_000)
                    from scale in Gen.Choose(-60, 60)
                    select Math.ScaleB(mantissa / 1_000_000.0, scale);
        Prop.ForAll(Gen.ListOf(value).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (values, seed) =>
        {
            var list = values.ToList();
            var random = new Random(seed);
            var shuffled = list.OrderBy(_ => random.Next()).ToList();
            var reversed = list.AsEnumerable().Reverse().ToList();
            var expected = BitConverter.DoubleToInt64Bits(Reference(list));
            return BitConverter.DoubleToInt64Bits(ExactSum.Of(list)) == expected
                && BitConverter.DoubleToInt64Bits(ExactSum.Of(shuffled)) == expected
                && BitConverter.DoubleToInt64Bits(ExactSum.Of(reversed)) == expected;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Halfway_cases_round_to_even()
    {
        // 2^53 + 1 is halfway between two doubles; the tie goes to the even one, 2^53. Adding 2^-20 breaks the tie upward.
        var big = Math.ScaleB(1, 53);
        Assert.Equal(big, ExactSum.Of([big, 1.0]));
        Assert.Equal(big + 2, ExactSum.Of([big, 1.0, Math.ScaleB(1, -20)]));
        Assert.Equal(big + 4, ExactSum.Of([big + 2, 1.0]));
    }

    [Fact]
    public void Infinities_and_nan_propagate_as_in_plain_addition()
    {
        Assert.Equal(double.PositiveInfinity, ExactSum.Of([1.0, double.PositiveInfinity]));
        Assert.True(double.IsNaN(ExactSum.Of([double.PositiveInfinity, double.NegativeInfinity])));
    }
}
