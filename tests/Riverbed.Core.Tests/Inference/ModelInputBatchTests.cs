using Riverbed.Inference;
using Riverbed.Inference.ModelFolders;

namespace Riverbed.Core.Tests.Inference;

public sealed class ModelInputBatchTests
{
    private static readonly ContractInputTypes WideWithTypes = new(TensorElementType.Int64, TensorElementType.Int64, TensorElementType.Int64);

    [Fact]
    public void Rows_are_padded_to_the_longest_with_the_pad_id_and_a_zero_mask()
    {
        using var batch = ModelInputBatch.Create(WideWithTypes, new Rows([[5, 6, 7], [8]], [[0, 0, 1], []]), padId: 1);

        Assert.Equal((2, 3), (batch.Rows, batch.Length));
        Assert.Equal([ModelInputBatch.InputIds, ModelInputBatch.AttentionMask, ModelInputBatch.TokenTypeIds], batch.Feeds.ToArray().Select(f => f.Name));
        Assert.Equal([5L, 6, 7, 8, 1, 1], Values<long>(batch, 0));
        Assert.Equal([1L, 1, 1, 1, 0, 0], Values<long>(batch, 1));
        Assert.Equal([0L, 0, 1, 0, 0, 0], Values<long>(batch, 2));
        Assert.All(batch.Feeds.ToArray(), feed => Assert.Equal([2L, 3], feed.Tensor.Shape.ToArray()));
    }

    [Fact]
    public void Each_input_takes_the_element_type_the_model_declares_and_token_type_ids_only_when_it_has_them()
    {
        using var batch = ModelInputBatch.Create(new ContractInputTypes(TensorElementType.Int32, TensorElementType.Int64, null),
            new Rows([[3, 4], [9, 10]], [[], []]), padId: 0);

        Assert.Equal([ModelInputBatch.InputIds, ModelInputBatch.AttentionMask], batch.Feeds.ToArray().Select(f => f.Name));
        Assert.Equal([3, 4, 9, 10], Values<int>(batch, 0));
        Assert.Equal([1L, 1, 1, 1], Values<long>(batch, 1));
    }

    [Fact]
    public void Extra_inputs_follow_the_contract_inputs()
    {
        using var batch = ModelInputBatch.Create(WideWithTypes, new Rows([[3]], [[]]), padId: 0);
        using var extra = OrtTensor.Create<long>([1], [2]);

        var feeds = batch.FeedsWith([new NamedTensor("riverbed_top_k", extra)]);

        Assert.Equal([ModelInputBatch.InputIds, ModelInputBatch.AttentionMask, ModelInputBatch.TokenTypeIds, "riverbed_top_k"], feeds.Select(f => f.Name));
        Assert.Same(extra, feeds[^1].Tensor);
    }

    [Fact]
    public void An_empty_row_or_type_ids_of_another_length_are_refused()
    {
        var empty = Assert.Throws<ArgumentException>(() => ModelInputBatch.Create(WideWithTypes, new Rows([[3], []], [[], []]), 0));
        var mismatch = Assert.Throws<ArgumentException>(() => ModelInputBatch.Create(WideWithTypes, new Rows([[3, 4]], [[0]]), 0));

        Assert.StartsWith("a model input needs at least one token", empty.Message, StringComparison.Ordinal);
        Assert.StartsWith("an input has 2 ids but 1 type ids", mismatch.Message, StringComparison.Ordinal);
    }

    private static T[] Values<T>(ModelInputBatch batch, int input)
        where T : unmanaged => ((OrtTensor<T>)batch.Feeds[input].Tensor).Span.ToArray();

    private readonly struct Rows(int[][] ids, int[][] typeIds) : ITokenRows
    {
        public int Count => ids.Length;

        public ReadOnlySpan<int> Ids(int row) => ids[row];

        public ReadOnlySpan<int> TypeIds(int row) => typeIds[row];
    }
}
