using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Tensors;

public sealed class SpikeTensorTests
{
    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void FromBinary_then_ToTensor_round_trips(SpikeCase c)
    {
        var dense = c.Dense();
        using var s = c.Create();
        Assert.Equal(new Shape(c.Rows, c.Cols), s.Shape);
        Assert.Equal(c.Rows, s.RowCount);
        Assert.Equal(c.Cols, s.RowLength);
        Assert.Equal((c.Cols + 63) / 64, s.WordsPerRow);
        Assert.Equal(Reference.Pack(dense, c.Rows, c.Cols), s.Words.ToArray());
        using var back = s.ToTensor();
        Assert.Equal(s.Shape, back.Shape);
        Reference.AssertBitwise(dense, back.AsReadOnlySpan(), "unpacked");
        var into = new float[dense.Length];
        into.AsSpan().Fill(float.NaN);
        s.UnpackTo(into);
        Reference.AssertBitwise(dense, into, "unpacked into a span");
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void FromThreshold_sets_a_bit_exactly_where_x_is_at_least_the_threshold(ThresholdCase c)
    {
        var x = c.Values();
        using var values = Tensor.FromArray(x, c.Rows, c.Cols);
        using var s = SpikeTensor.FromThreshold(values, c.Threshold);
        var words = s.Words;
        for (int r = 0; r < c.Rows; r++)
        {
            for (int col = 0; col < c.Cols; col++)
            {
                float v = x[r * c.Cols + col];
                bool expected = !float.IsNaN(v) && v >= c.Threshold;
                if (Reference.Bit(words, c.Cols, r, col) != expected)
                {
                    throw new Xunit.Sdk.XunitException($"{c}: bit ({r}, {col}) for value {v} should be {expected}.");
                }
                if (s[r, col] != expected) throw new Xunit.Sdk.XunitException($"{c}: indexer disagrees at ({r}, {col}).");
            }
        }
        AssertPaddingZero(s);
    }

    [Fact]
    public void FromThreshold_edge_values()
    {
        float[] x = [1f, float.NaN, 0.99999994f, float.PositiveInfinity, float.NegativeInfinity, 1.0000001f, -0f, 2f];
        using var t = Tensor.FromArray(x, 1, x.Length);
        using var s = SpikeTensor.FromThreshold(t, 1f);
        Assert.Equal(0b1010_1001UL, s.Words[0]);
        using var z = SpikeTensor.FromThreshold(t, 0f);
        Assert.True(z[0, 6], "-0 >= 0");
        Assert.False(z[0, 1], "NaN never spikes");
        Assert.False(z[0, 4]);
        using var nanThreshold = SpikeTensor.FromThreshold(t, float.NaN);
        Assert.Equal(0, nanThreshold.PopCount());
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void PackGreaterOrEqual_matches_PackReference(ThresholdCase c)
    {
        var x = c.Values();
        int wpr = SpikeTensor.WordsFor(c.Cols);
        var fast = new ulong[c.Rows * wpr];
        var slow = new ulong[c.Rows * wpr];
        fast.AsSpan().Fill(0xDEAD_BEEF_DEAD_BEEFUL);
        slow.AsSpan().Fill(0x1234_5678_9ABC_DEF0UL);
        BitPack.PackGreaterOrEqual(x, c.Cols, c.Threshold, fast);
        BitPack.PackReference(x, c.Cols, c.Threshold, slow);
        Assert.Equal(slow, fast);
        var bits = new bool[x.Length];
        for (int i = 0; i < x.Length; i++) bits[i] = x[i] >= c.Threshold;
        Assert.Equal(Reference.Pack(bits, c.Rows, c.Cols), slow);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Unpack_matches_UnpackReference_and_ignores_padding(SpikeCase c)
    {
        var dense = c.Dense();
        var words = Reference.Pack(dense, c.Rows, c.Cols);
        var fast = new float[dense.Length];
        var slow = new float[dense.Length];
        BitPack.Unpack(words, c.Cols, fast);
        BitPack.UnpackReference(words, c.Cols, slow);
        Reference.AssertBitwise(dense, slow, "reference unpack");
        Reference.AssertBitwise(dense, fast, "unpack");

        // Padding bits past the row are not part of the row; garbage there must not leak into the values.
        int wpr = SpikeTensor.WordsFor(c.Cols);
        ulong mask = BitPack.LastWordMask(c.Cols);
        for (int r = 0; r < c.Rows; r++) words[r * wpr + wpr - 1] |= ~mask;
        BitPack.Unpack(words, c.Cols, fast);
        Reference.AssertBitwise(dense, fast, "unpack with dirty padding");
    }

    [Theory]
    [InlineData(1, 1UL)]
    [InlineData(63, 0x7FFF_FFFF_FFFF_FFFFUL)]
    [InlineData(64, ulong.MaxValue)]
    [InlineData(65, 1UL)]
    [InlineData(128, ulong.MaxValue)]
    [InlineData(130, 3UL)]
    public void LastWordMask_keeps_only_the_valid_bits(int rowLength, ulong expected) => Assert.Equal(expected, BitPack.LastWordMask(rowLength));

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Counts_and_rate_match_the_dense_input(SpikeCase c)
    {
        var dense = c.Dense();
        using var s = c.Create();
        long total = 0;
        var rows = new int[c.Rows];
        for (int r = 0; r < c.Rows; r++)
        {
            for (int col = 0; col < c.Cols; col++)
            {
                if (dense[r * c.Cols + col] != 0) rows[r]++;
            }
            total += rows[r];
        }
        Assert.Equal(total, s.PopCount());
        var counts = new int[c.Rows];
        s.RowPopCounts(counts);
        Assert.Equal(rows, counts);
        Assert.Equal((double)total / dense.Length, s.FiringRate, 12);
        Assert.Throws<ArgumentException>(() => s.RowPopCounts(new int[c.Rows + 1]));
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Bitwise_ops_match_dense_boolean_ops(SpikeCase c)
    {
        var other = c with { Seed = c.Seed + 1, Rate = 1 - c.Rate };
        var a = c.Dense();
        var b = other.Dense();
        using var sa = c.Create();
        using var sb = other.Create();
        var ops = new (string, Func<SpikeTensor>, Func<bool, bool, bool>)[]
        {
            ("and", () => sa.And(sb), (x, y) => x & y),
            ("or", () => sa.Or(sb), (x, y) => x | y),
            ("xor", () => sa.Xor(sb), (x, y) => x ^ y),
            ("operator &", () => sa & sb, (x, y) => x & y),
            ("operator |", () => sa | sb, (x, y) => x | y),
            ("operator ^", () => sa ^ sb, (x, y) => x ^ y),
            ("not", () => sa.Not(), (x, _) => !x),
            ("operator ~", () => ~sa, (x, _) => !x),
        };
        foreach (var (name, op, reference) in ops)
        {
            using var r = op();
            Assert.Equal(sa.Shape, r.Shape);
            var bits = new bool[a.Length];
            for (int i = 0; i < a.Length; i++) bits[i] = reference(a[i] != 0, b[i] != 0);
            Assert.Equal(Reference.Pack(bits, c.Rows, c.Cols), r.Words.ToArray());
            AssertPaddingZero(r);
        }
        using var notNot = ~~sa;
        Assert.Equal(sa.Words.ToArray(), notNot.Words.ToArray());
    }

    [Theory]
    [InlineData(new[] { 3, 64 }, new[] { 3, 65 })]
    [InlineData(new[] { 3, 64 }, new[] { 64, 3 })]
    [InlineData(new[] { 2, 3, 8 }, new[] { 6, 8 })]
    public void Bitwise_ops_on_different_shapes_name_both_shapes(int[] left, int[] right)
    {
        using var a = SpikeTensor.Zeros(left);
        using var b = SpikeTensor.Zeros(right);
        foreach (var op in new Func<SpikeTensor>[] { () => a.And(b), () => a.Or(b), () => a.Xor(b) })
        {
            var e = Assert.Throws<ArgumentException>(() => op());
            Assert.Equal("other", e.ParamName);
            Assert.Contains(Shape.Format(left), e.Message, StringComparison.Ordinal);
            Assert.Contains(Shape.Format(right), e.Message, StringComparison.Ordinal);
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Time_step_views_share_storage(SpikeCase c)
    {
        // Fold the rows into [T, B, N] with T = rows and B = 1, then also [T', B', N] when the rows factor.
        int t = c.Rows, b = 1;
        for (int f = 2; f * f <= c.Rows; f++)
        {
            if (c.Rows % f == 0) (t, b) = (c.Rows / f, f);
        }
        var dense = c.Dense();
        using var flat = c.Create();
        using var s = flat.Reshape(t, b, c.Cols);
        Assert.Equal(new Shape(t, b, c.Cols), s.Shape);
        for (int step = 0; step < t; step++)
        {
            using var view = s[step];
            Assert.Equal(new Shape(b, c.Cols), view.Shape);
            using var unpacked = view.ToTensor();
            Reference.AssertBitwise(dense.AsSpan(step * b * c.Cols, b * c.Cols), unpacked.AsReadOnlySpan(), $"step {step}");
        }

        // A write through a step view is seen by the parent and by a fold back to [T*B, N].
        int last = t - 1;
        using (var view = s[last])
        {
            bool before = view[b - 1, c.Cols - 1];
            view[b - 1, c.Cols - 1] = !before;
            Assert.Equal(!before, s[last, b - 1, c.Cols - 1]);
            Assert.Equal(!before, flat[c.Rows - 1, c.Cols - 1]);
            using var folded = s.Reshape(-1, c.Cols);
            Assert.Equal(new Shape(t * b, c.Cols), folded.Shape);
            Assert.Equal(!before, folded[c.Rows - 1, c.Cols - 1]);
            view[b - 1, c.Cols - 1] = before;
        }

        int start = t / 3, length = t - t / 3;
        using var slice = s.Slice(start, length);
        Assert.Equal(new Shape(length, b, c.Cols), slice.Shape);
        using var sliced = slice.ToTensor();
        Reference.AssertBitwise(dense.AsSpan(start * b * c.Cols, length * b * c.Cols), sliced.AsReadOnlySpan(), "slice");
        slice[0, 0, 0] = true;
        Assert.True(flat[start * b, 0]);
        Assert.Equal(flat.Words[(start * b) * flat.WordsPerRow], slice.Words[0]);
    }

    [Fact]
    public void Reshape_must_keep_the_packed_dimension()
    {
        using var s = SpikeTensor.Zeros(4, 6, 10);
        var e = Assert.Throws<ArgumentException>(() => s.Reshape(4, 60));
        Assert.Contains("[4, 6, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 60]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => s.Reshape(240));
        Assert.Throws<ArgumentException>(() => s.Reshape(-1, 20));
        var count = Assert.Throws<ArgumentException>(() => s.Reshape(5, 10));
        Assert.Contains("240", count.Message, StringComparison.Ordinal);
        using var ok = s.Reshape(2, 2, 6, 10);
        Assert.Equal(24, ok.RowCount);
        Assert.Equal(new Shape(2, 2, 6, 10), ok.Shape);
    }

    [Fact]
    public void Step_views_need_a_time_axis_and_check_ranges()
    {
        using var v = SpikeTensor.Zeros(70);
        Assert.Throws<InvalidOperationException>(() => v[0]);
        Assert.Throws<InvalidOperationException>(() => v.Slice(0, 1));
        using var s = SpikeTensor.Zeros(3, 70);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[-1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Slice(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Slice(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Slice(int.MaxValue, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Slice(1, int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Row(3));
        using var empty = s.Slice(3, 0);
        Assert.Equal(0, empty.RowCount);
        Assert.Throws<ArgumentException>(() => SpikeTensor.Zeros(new Shape()));
    }

    [Fact]
    public void Indexer_gets_and_sets_single_bits()
    {
        using var s = SpikeTensor.Zeros(2, 3, 130);
        s[1, 2, 129] = true;
        s[0, 0, 64] = true;
        s[0, 0, 0] = true;
        s[0, 0, 0] = false;
        s[1, 2, 129] = true;
        Assert.True(s[1, 2, 129]);
        Assert.True(s[0, 0, 64]);
        Assert.False(s[0, 0, 0]);
        Assert.Equal(2, s.PopCount());
        Assert.Equal(3, s.WordsPerRow);
        Assert.Equal(2UL, s.Row(5)[2]);
        Assert.Equal(1UL, s.Row(0)[1]);
        AssertPaddingZero(s);

        using var vector = SpikeTensor.Zeros(5);
        vector[[4]] = true;
        Assert.True(vector[[4]]);
        Assert.Equal(16UL, vector.Words[0]);

        Assert.Throws<ArgumentException>(() => s[0, 0]);
        Assert.Throws<ArgumentException>(() => s[0, 0, 130]);
        Assert.Throws<ArgumentException>(() => s[2, 0, 0]);
        Assert.Throws<ArgumentException>(() => s[0, -1, 0]);
        Assert.Throws<ArgumentException>(() => { s[0, 3, 0] = true; });
    }

    [Fact]
    public void A_view_outlives_its_disposed_parent()
    {
        var parent = SpikeTensor.Zeros(4, 100);
        parent[2, 99] = true;
        var step = parent[2];
        parent.Dispose();
        for (int i = 0; i < 4; i++)
        {
            using var churn = SpikeTensor.Zeros(4, 100);
            churn.Words.Fill(ulong.MaxValue);
        }
        Assert.True(step[[99]]);
        Assert.Equal(1, step.PopCount());
        step.Dispose();
    }

    [Fact]
    public void A_disposed_spike_tensor_throws()
    {
        using var live = SpikeTensor.Zeros(2, 10);
        var s = SpikeTensor.Zeros(2, 10);
        s.Dispose();
        s.Dispose();
        Assert.True(s.IsDisposed);
        Assert.Contains("disposed", s.ToString(), StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => { _ = s.Words; });
        Assert.Throws<ObjectDisposedException>(() => s.PopCount());
        Assert.Throws<ObjectDisposedException>(() => s.ToTensor());
        Assert.Throws<ObjectDisposedException>(() => s[0, 0]);
        Assert.Throws<ObjectDisposedException>(() => s[0]);
        Assert.Throws<ObjectDisposedException>(() => s.Slice(0, 1));
        Assert.Throws<ObjectDisposedException>(() => s.Reshape(2, 10));
        Assert.Throws<ObjectDisposedException>(() => s.Not());
        Assert.Throws<ObjectDisposedException>(() => s.Clone());
        Assert.Throws<ObjectDisposedException>(() => s.And(live));
        var e = Assert.Throws<ArgumentException>(() => live.Or(s));
        Assert.Equal("other", e.ParamName);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Clone_copies_the_bits(SpikeCase c)
    {
        using var s = c.Create();
        using var clone = s.Clone();
        Assert.Equal(s.Words.ToArray(), clone.Words.ToArray());
        clone[0, 0] = !clone[0, 0];
        Assert.NotEqual(s[0, 0], clone[0, 0]);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Narrow_and_Select_copy_the_bits_along_any_axis(SliceCase c)
    {
        int a = c.NormalAxis;
        var bits = c.Bits();
        using var s = c.Spikes();
        using var narrowed = s.Narrow(c.Axis, c.Start, c.Length);
        var (dims, expected) = Reference.Narrow(bits, c.Dims, a, c.Start, c.Length);
        Assert.Equal(new Shape(dims), narrowed.Shape);
        Assert.Equal(Reference.Pack(expected, narrowed.RowCount, narrowed.RowLength), narrowed.Words.ToArray());
        if (c.Dims.Length == 1) return;
        using var selected = s.Select(c.Axis, c.Index);
        var (_, step) = Reference.Narrow(bits, c.Dims, a, c.Index, 1);
        Assert.Equal(new Shape(Reference.Reduced(c.Dims, a, keepDim: false)), selected.Shape);
        Assert.Equal(Reference.Pack(step, selected.RowCount, selected.RowLength), selected.Words.ToArray());
    }

    [Fact]
    public void Concat_Stack_Narrow_and_Select_check_their_arguments()
    {
        using var a = SpikeTensor.Zeros(2, 3);
        using var b = SpikeTensor.Zeros(2, 4);
        using var row = SpikeTensor.Zeros(5);
        var c = Assert.Throws<ArgumentException>(() => SpikeTensor.Concat([a, b], 0));
        Assert.Contains("tensors[1] has shape [2, 4] but tensors[0] has [2, 3]", c.Message, StringComparison.Ordinal);
        using (var joined = SpikeTensor.Concat([a, b], 1)) Assert.Equal(new Shape(2, 7), joined.Shape);
        Assert.Throws<ArgumentException>(() => SpikeTensor.Stack([a, b]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpikeTensor.Stack([a, a], 3));
        Assert.Throws<ArgumentException>(() => SpikeTensor.Concat(Array.Empty<SpikeTensor>(), 0));
        var n = Assert.Throws<ArgumentOutOfRangeException>(() => a.Narrow(1, 2, 2));
        Assert.Contains("[2, 4)", n.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Select(0, 2));
        var scalar = Assert.Throws<InvalidOperationException>(() => row.Select(0, 1));
        Assert.Contains("Narrow(0, 1, 1)", scalar.Message, StringComparison.Ordinal);
        b.Dispose();
        Assert.Throws<ArgumentException>(() => SpikeTensor.Concat([a, b], 1));
    }

    [Fact]
    public void UnpackTo_checks_the_destination_length()
    {
        using var s = SpikeTensor.Zeros(3, 5);
        var e = Assert.Throws<ArgumentException>(() => s.UnpackTo(new float[14]));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("14", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 5]", e.Message, StringComparison.Ordinal);
    }

    private static void AssertPaddingZero(SpikeTensor s)
    {
        if (s.WordsPerRow == 0) return;
        ulong padding = ~BitPack.LastWordMask(s.RowLength);
        for (int r = 0; r < s.RowCount; r++)
        {
            ulong last = s.Row(r)[s.WordsPerRow - 1];
            if ((last & padding) != 0) throw new Xunit.Sdk.XunitException($"Row {r} of {s.Shape} has padding bits set: {last:X16}.");
        }
    }
}
