using System;
using FsCheck.Xunit;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Tensors;

public sealed class PermuteConcatTests
{
    /// <summary>A permutation of <paramref name="rank"/> axes drawn from <paramref name="seed"/>.</summary>
    public static int[] RandomPermutation(int rank, int seed)
    {
        var axes = new int[rank];
        for (int i = 0; i < rank; i++) axes[i] = i;
        new Random(seed).Shuffle(axes);
        return axes;
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 200)]
    public void Permute_matches_the_naive_gather(TensorCase c)
    {
        var axes = RandomPermutation(c.Dims.Length, c.Seed);
        using var x = c.Create();
        using var y = x.Permute(axes);
        var expectedDims = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) expectedDims[i] = c.Dims[axes[i]];
        Assert.Equal(new Shape(expectedDims), y.Shape);
        Reference.AssertBitwise(Reference.Permute(c.Values(), c.Dims, axes), y.AsReadOnlySpan(), $"{c} permuted {Shape.Format(axes)}");
    }

    public static TheoryData<int[], int[]> PermutePatterns => new()
    {
        { [70, 45], [1, 0] },               // tiled transpose, not multiples of the tile
        { [3, 33, 65], [0, 2, 1] },         // batched transpose
        { [2, 3, 4, 5], [0, 1, 3, 2] },     // batched transpose after merging the batch axes
        { [2, 3, 4, 5], [2, 3, 0, 1] },     // two blocks of axes swapped: a transpose of [6, 20]
        { [2, 3, 4, 5], [1, 0, 2, 3] },     // last axes kept: whole runs copied
        { [2, 3, 4, 5], [3, 1, 2, 0] },     // general gather
        { [4, 1, 5], [1, 2, 0] },           // unit axes dropped
        { [1, 1, 1], [2, 0, 1] },
        { [6], [0] },
        { [], [] },
        { [0, 3], [1, 0] },
        { [3, 4, 5], [-1, 0, -2] },         // negative axes
    };

    [Theory]
    [MemberData(nameof(PermutePatterns))]
    public void Permute_patterns(int[] dims, int[] axes)
    {
        var c = new TensorCase(dims, 5);
        var normalized = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) normalized[i] = axes[i] < 0 ? axes[i] + axes.Length : axes[i];
        using var x = c.Create();
        using var y = x.Permute(axes);
        Reference.AssertBitwise(Reference.Permute(c.Values(), dims, normalized), y.AsReadOnlySpan(), $"{Shape.Format(dims)} by {Shape.Format(axes)}");
    }

    [Theory]
    [InlineData(new[] { 0, 1 }, "has 2 entries")]
    [InlineData(new[] { 0, 1, 3 }, "names axis 3")]
    [InlineData(new[] { 0, 1, -4 }, "names axis -4")]
    [InlineData(new[] { 0, 2, 2 }, "more than once")]
    [InlineData(new[] { 0, -1, 2 }, "more than once")]
    public void Permute_rejects_a_bad_permutation_naming_axes_and_shape(int[] axes, string fragment)
    {
        using var x = Tensor.Zeros(2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => x.Permute(axes));
        Assert.Equal("axes", e.ParamName);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 100)]
    public void Concat_then_Narrow_round_trips(TensorCase c)
    {
        int axis = c.Seed % c.Dims.Length;
        var parts = new float[3][];
        var dims = new int[3][];
        var tensors = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            dims[i] = (int[])c.Dims.Clone();
            dims[i][axis] = (c.Dims[axis] + i) % 4;   // lengths may be 0
            var part = new TensorCase(dims[i], c.Seed + i);
            parts[i] = part.Values();
            tensors[i] = part.Create();
        }
        try
        {
            using var joined = Tensor.Concat(tensors, axis - c.Dims.Length);
            var (expectedDims, expected) = Reference.Concat(parts, dims, axis);
            Assert.Equal(new Shape(expectedDims), joined.Shape);
            Reference.AssertBitwise(expected, joined.AsReadOnlySpan(), $"{c} concat along {axis}");
            int start = 0;
            for (int i = 0; i < 3; i++)
            {
                using var back = joined.Narrow(axis, start, dims[i][axis]);
                Assert.Equal(new Shape(dims[i]), back.Shape);
                Reference.AssertBitwise(parts[i], back.AsReadOnlySpan(), $"{c} part {i}");
                start += dims[i][axis];
            }
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 100)]
    public void Stack_is_Concat_along_an_inserted_unit_axis(TensorCase c)
    {
        int rank = c.Dims.Length;
        int axis = c.Seed % (rank + 1);
        var unit = new int[rank + 1];
        for (int d = 0, s = 0; d <= rank; d++) unit[d] = d == axis ? 1 : c.Dims[s++];
        var parts = new float[3][];
        var tensors = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            var part = new TensorCase(c.Dims, c.Seed + i);
            parts[i] = part.Values();
            tensors[i] = part.Create();
        }
        try
        {
            // Negative axes count from the end of the result: -1 appends a last axis.
            using var stacked = Tensor.Stack(tensors, c.Seed % 2 == 0 ? axis : axis - (rank + 1));
            var (expectedDims, expected) = Reference.Concat(parts, [unit, unit, unit], axis);
            Assert.Equal(new Shape(expectedDims), stacked.Shape);
            Reference.AssertBitwise(expected, stacked.AsReadOnlySpan(), $"{c} stacked along {axis}");
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [Fact]
    public void Stack_of_scalars_is_a_vector()
    {
        using var a = Tensor.Scalar(1f);
        using var b = Tensor.Scalar(2f);
        using var s = Tensor.Stack([a, b]);
        Assert.Equal(new Shape(2), s.Shape);
        Assert.Equal([1f, 2f], s.ToArray());
    }

    [Fact]
    public void Concat_and_Stack_name_the_mismatched_tensor_and_shapes()
    {
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(2, 4);
        using var c = Tensor.Zeros(3, 3);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Concat([a, b], 0));
        Assert.Contains("tensors[1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        using var ok = Tensor.Concat([a, b], 1);
        Assert.Equal(new Shape(2, 7), ok.Shape);
        using var okRows = Tensor.Concat([a, c], 0);
        Assert.Equal(new Shape(5, 3), okRows.Shape);
        var s = Assert.Throws<ArgumentException>(() => Tensor.Stack([a, c]));
        Assert.Contains("[3, 3]", s.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tensor.Concat(Array.Empty<Tensor>(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Concat([a, b], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Stack([a, a], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Stack([a, a], -4));
        using var scalar = Tensor.Scalar(1f);
        Assert.Throws<ArgumentException>(() => Tensor.Concat([scalar], 0));
        var disposed = Tensor.Zeros(2, 3);
        disposed.Dispose();
        var d = Assert.Throws<ArgumentException>(() => Tensor.Concat([a, disposed], 0));
        Assert.Contains("disposed", d.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Narrow(1, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Narrow(1, -1, 1));
    }
}
