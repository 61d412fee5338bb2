using System.Globalization;
using System.Numerics;

namespace Riverbed.Inference.ModelFolders;

/// <summary>The element types a model declares for the contract's inputs; <see cref="TypeIds"/> is null when it takes no token_type_ids.</summary>
public readonly record struct ContractInputTypes(TensorElementType Ids, TensorElementType Mask, TensorElementType? TypeIds);

/// <summary>Rows of token ids to feed as one batch.</summary>
public interface ITokenRows
{
    int Count { get; }

    /// <summary>Row <paramref name="row"/>'s ids, special tokens included; at least one.</summary>
    ReadOnlySpan<int> Ids(int row);

    /// <summary>Row <paramref name="row"/>'s token type ids, one per id; empty when the row has none (all type 0).</summary>
    ReadOnlySpan<int> TypeIds(int row);
}

/// <summary>
/// The contract's inputs for one batch, padded to its longest row: <c>input_ids</c> (the pad id after a row's end),
/// <c>attention_mask</c> (1 over the row, 0 over padding) and, when the model takes it, <c>token_type_ids</c> (the row's
/// type ids, 0 over padding), each in the element type the model declares (int64 or int32) and from the pinned pool.
/// It is the one place token rows become a model's inputs: the runner's batches and the folder check's probe Run both
/// go through it, so the probe feeds a model exactly as scoring will.
/// </summary>
public sealed class ModelInputBatch : IDisposable
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";

    /// <summary>The contract's input names: the first two required, the last optional.</summary>
    public static IReadOnlyList<string> InputNames { get; } = [InputIds, AttentionMask, TokenTypeIds];

    private readonly NamedTensor[] _feeds;

    private ModelInputBatch(NamedTensor[] feeds, int rows, int length)
    {
        _feeds = feeds;
        Rows = rows;
        Length = length;
    }

    public int Rows { get; }

    /// <summary>The padded length: the longest row's.</summary>
    public int Length { get; }

    /// <summary>The named inputs, in contract order.</summary>
    public ReadOnlySpan<NamedTensor> Feeds => _feeds;

    /// <summary>Pads <paramref name="rows"/> into one batch of the element types the model declares.</summary>
    /// <exception cref="ArgumentException">No rows, an empty row, or type ids that do not match a row's ids.</exception>
    public static ModelInputBatch Create<TRows>(ContractInputTypes types, TRows rows, int padId)
        where TRows : ITokenRows, allows ref struct
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one row", nameof(rows));
        }
        var length = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var ids = rows.Ids(r).Length;
            var typeIds = rows.TypeIds(r).Length;
            if (ids == 0)
            {
                throw new ArgumentException("a model input needs at least one token", nameof(rows));
            }
            if (typeIds != 0 && typeIds != ids)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"an input has {ids} ids but {typeIds} type ids"), nameof(rows));
            }
            length = Math.Max(length, ids);
        }
        long[] shape = [rows.Count, length];
        var feeds = new NamedTensor[types.TypeIds is null ? 2 : 3];
        try
        {
            feeds[0] = new NamedTensor(InputIds, Tensor(types.Ids, shape, rows, length, Column.Ids, padId));
            feeds[1] = new NamedTensor(AttentionMask, Tensor(types.Mask, shape, rows, length, Column.Mask, padId));
            if (types.TypeIds is { } typeIdsType)
            {
                feeds[2] = new NamedTensor(TokenTypeIds, Tensor(typeIdsType, shape, rows, length, Column.Types, padId));
            }
        }
        catch
        {
            foreach (var feed in feeds)
            {
                feed.Tensor?.Dispose();
            }
            throw;
        }
        return new ModelInputBatch(feeds, rows.Count, length);
    }

    /// <summary>The inputs followed by <paramref name="extra"/> ones (which the caller keeps owning), for graphs with more inputs.</summary>
    public NamedTensor[] FeedsWith(ReadOnlySpan<NamedTensor> extra)
    {
        var all = new NamedTensor[_feeds.Length + extra.Length];
        _feeds.CopyTo(all, 0);
        extra.CopyTo(all.AsSpan(_feeds.Length));
        return all;
    }

    public void Dispose()
    {
        foreach (var feed in _feeds)
        {
            feed.Tensor.Dispose();
        }
    }

    private enum Column
    {
        Ids,
        Mask,
        Types,
    }

    private static OrtTensor Tensor<TRows>(TensorElementType type, long[] shape, TRows rows, int length, Column column, int padId)
        where TRows : ITokenRows, allows ref struct
    {
        if (type == TensorElementType.Int32)
        {
            var narrow = OrtTensor.CreateUninitialized<int>(shape);
            Fill(narrow.Span, rows, length, column, padId);
            return narrow;
        }
        var wide = OrtTensor.CreateUninitialized<long>(shape);
        Fill(wide.Span, rows, length, column, padId);
        return wide;
    }

    private static void Fill<T, TRows>(Span<T> data, TRows rows, int length, Column column, int padId)
        where T : unmanaged, IBinaryInteger<T>
        where TRows : ITokenRows, allows ref struct
    {
        var pad = column == Column.Ids ? T.CreateTruncating(padId) : T.Zero;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = data.Slice(r * length, length);
            var ids = rows.Ids(r);
            var n = ids.Length;
            switch (column)
            {
                case Column.Ids:
                    for (var i = 0; i < n; i++)
                    {
                        row[i] = T.CreateTruncating(ids[i]);
                    }
                    break;
                case Column.Mask:
                    row[..n].Fill(T.One);
                    break;
                default:
                    var typeIds = rows.TypeIds(r);
                    if (typeIds.IsEmpty)
                    {
                        row[..n].Fill(T.Zero);
                    }
                    else
                    {
                        for (var i = 0; i < n; i++)
                        {
                            row[i] = T.CreateTruncating(typeIds[i]);
                        }
                    }
                    break;
            }
            row[n..].Fill(pad);
        }
    }
}
