using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Tensors;

public sealed class TensorTests
{
    [Fact]
    public void Zeros_is_all_zero_even_from_a_dirty_pool()
    {
        for (int round = 0; round < 4; round++)
        {
            using (var dirty = Tensor.Full(new Shape(37, 41), float.NaN)) { }
            using var z = Tensor.Zeros(37, 41);
            Assert.Equal(new Shape(37, 41), z.Shape);
            Assert.Equal(37 * 41, z.Length);
            foreach (float v in z.AsReadOnlySpan()) Assert.Equal(0f, v);
        }
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-0f)]
    [InlineData(float.NegativeInfinity)]
    public void Full_and_Ones_fill_every_element(float value)
    {
        using var t = Tensor.Full(new Shape(3, 5, 7), value);
        Assert.Equal(105, t.Length);
        foreach (float v in t.AsReadOnlySpan()) Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(v));
        using var ones = Tensor.Ones(new Shape(4, 2));
        Assert.Equal(new float[8] { 1, 1, 1, 1, 1, 1, 1, 1 }, ones.ToArray());
    }

    [Fact]
    public void Scalar_has_one_element()
    {
        using var s = Tensor.Scalar(2.5f);
        Assert.Equal(0, s.Rank);
        Assert.Equal(1, s.Length);
        Assert.Equal(2.5f, s.ToScalar());
        Assert.Equal(2.5f, s.GetValue());
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool FromArray_copies_the_values(TensorCase c)
    {
        var values = c.Values();
        using var t = Tensor.FromArray(values, c.Dims);
        bool same = t.Shape == c.Shape && t.ToArray().AsSpan().SequenceEqual(values);
        if (values.Length > 0) values[0] += 1;
        return same && (values.Length == 0 || t.AsReadOnlySpan()[0] != values[0]);
    }

    [Fact]
    public void FromArray_with_the_wrong_count_names_the_count_and_the_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3));
        Assert.Contains("5", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("6", e.Message, StringComparison.Ordinal);
        Assert.Equal("values", e.ParamName);
    }

    [Fact]
    public void Negative_dimensions_throw_from_factories()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        Assert.Throws<ArgumentException>(() => Tensor.Empty(-3));
    }

    [Fact]
    public void Time_index_is_a_view_that_writes_through()
    {
        using var t = Sequential(4, 3, 5);
        using var step = t[2];
        Assert.Equal(new Shape(3, 5), step.Shape);
        for (int i = 0; i < 15; i++) Assert.Equal(2 * 15 + i, step.AsReadOnlySpan()[i]);

        step.SetValue(-7f, 1, 4);
        Assert.Equal(-7f, t.GetValue(2, 1, 4));
        t.SetValue(-9f, 2, 0, 0);
        Assert.Equal(-9f, step.GetValue(0, 0));
        Assert.Equal(15, t.GetValue(1, 0, 0));
        Assert.Equal(45, t.GetValue(3, 0, 0));

        using var row = step[1];
        Assert.Equal(new Shape(5), row.Shape);
        row.Fill(100f);
        for (int i = 0; i < 5; i++) Assert.Equal(100f, t.GetValue(2, 1, i));
        Assert.Equal(2 * 15 + 2 * 5, t.GetValue(2, 2, 0));
    }

    [Fact]
    public void Indexing_a_vector_gives_scalar_views()
    {
        using var t = Sequential(6);
        using var e = t[4];
        Assert.Equal(0, e.Rank);
        Assert.Equal(4f, e.ToScalar());
        e.Fill(40f);
        Assert.Equal(40f, t.GetValue(4));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    [InlineData(int.MaxValue)]
    public void Time_index_out_of_range_throws(int index)
    {
        using var t = Tensor.Zeros(4, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t[index]);
        Assert.Contains("[4, 3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Indexing_or_slicing_a_scalar_throws()
    {
        using var s = Tensor.Scalar(1f);
        Assert.Throws<InvalidOperationException>(() => s[0]);
        Assert.Throws<InvalidOperationException>(() => s.Slice(0, 1));
    }

    [Fact]
    public void Slice_is_a_view_that_writes_through()
    {
        using var t = Sequential(5, 2, 3);
        using var s = t.Slice(1, 3);
        Assert.Equal(new Shape(3, 2, 3), s.Shape);
        for (int i = 0; i < s.Length; i++) Assert.Equal(6 + i, s.AsReadOnlySpan()[i]);
        s.Clear();
        for (int i = 0; i < t.Length; i++) Assert.Equal(i is >= 6 and < 24 ? 0f : i, t.AsReadOnlySpan()[i]);

        using var empty = t.Slice(5, 0);
        Assert.Equal(new Shape(0, 2, 3), empty.Shape);
        Assert.Equal(0, empty.Length);

        using var inner = s.Slice(1, 1);
        t.SetValue(123f, 2, 1, 2);
        Assert.Equal(123f, inner.GetValue(0, 1, 2));
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(0, 6)]
    [InlineData(4, 2)]
    [InlineData(2, -1)]
    [InlineData(int.MaxValue, 1)]
    public void Slice_out_of_range_throws(int start, int length)
    {
        using var t = Tensor.Zeros(5, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(start, length));
        Assert.Contains("[5, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reshape_is_a_view_and_infers_minus_one()
    {
        using var t = Sequential(2, 3, 4);
        using var flat = t.Reshape(-1);
        Assert.Equal(new Shape(24), flat.Shape);
        using var m = t.Reshape(6, -1);
        Assert.Equal(new Shape(6, 4), m.Shape);
        using var n = t.Reshape(new Shape(4, 3, 2));
        Assert.Equal(new Shape(4, 3, 2), n.Shape);
        Assert.Equal(t.ToArray(), n.ToArray());

        m.SetValue(-1f, 5, 3);
        Assert.Equal(-1f, t.GetValue(1, 2, 3));
        Assert.Equal(-1f, flat.GetValue(23));
        Assert.Equal(-1f, n.GetValue(3, 2, 1));
    }

    [Fact]
    public void Reshape_of_a_view_keeps_its_offset()
    {
        using var t = Sequential(3, 2, 2);
        using var step = t[1];
        using var flat = step.Reshape(4);
        Assert.Equal(new float[] { 4, 5, 6, 7 }, flat.ToArray());
    }

    [Fact]
    public void Reshape_to_the_wrong_count_names_both_shapes()
    {
        using var t = Tensor.Zeros(2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => t.Reshape(5, 5));
        Assert.Contains("[5, 5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("25", e.Message, StringComparison.Ordinal);
        Assert.Contains("24", e.Message, StringComparison.Ordinal);

        var inferred = Assert.Throws<ArgumentException>(() => t.Reshape(-1, 5));
        Assert.Contains("[-1, 5]", inferred.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3, 4]", inferred.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
    }

    [Fact]
    public void A_view_outlives_its_disposed_parent()
    {
        var parent = Sequential(8, 16);
        var view = parent[3];
        var reshaped = parent.Reshape(16, 8);
        parent.Dispose();
        Assert.True(parent.IsDisposed);

        // Churn the pool: if the parent's storage had gone back, these would overwrite it.
        for (int i = 0; i < 8; i++)
        {
            using var churn = Tensor.Full(new Shape(8, 16), -1f);
        }
        for (int i = 0; i < 16; i++) Assert.Equal(3 * 16 + i, view.GetValue(i));
        Assert.Equal(127f, reshaped.GetValue(15, 7));

        using var viewOfView = view.Reshape(4, 4);
        view.Dispose();
        reshaped.Dispose();
        Assert.Equal(3 * 16 + 5, viewOfView.GetValue(1, 1));
        viewOfView.Dispose();
        viewOfView.Dispose();
    }

    [Fact]
    public void Members_of_a_disposed_tensor_throw_ObjectDisposedException()
    {
        var t = Sequential(4, 3);
        t.Dispose();
        t.Dispose();
        Assert.True(t.IsDisposed);
        Assert.Equal(new Shape(4, 3), t.Shape);
        Assert.Contains("disposed", t.ToString(), StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => { _ = t.AsSpan(); });
        Assert.Throws<ObjectDisposedException>(() => { _ = t.AsReadOnlySpan(); });
        Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.Throws<ObjectDisposedException>(() => t.GetValue(0, 0));
        Assert.Throws<ObjectDisposedException>(() => t.SetValue(1f, 0, 0));
        Assert.Throws<ObjectDisposedException>(() => t[0]);
        Assert.Throws<ObjectDisposedException>(() => t.Slice(0, 1));
        Assert.Throws<ObjectDisposedException>(() => t.Reshape(12));
        Assert.Throws<ObjectDisposedException>(() => t.Clone());
        Assert.Throws<ObjectDisposedException>(() => t.Fill(1f));
        Assert.Throws<ObjectDisposedException>(() => t.Sum());
        Assert.Throws<ObjectDisposedException>(() => t.Sum(0));
        Assert.Throws<ObjectDisposedException>(() => t.Exp());
        Assert.Throws<ObjectDisposedException>(() => t.Multiply(2f));
        Assert.Throws<ObjectDisposedException>(() => t.TransposeLastTwo());
        Assert.Throws<ObjectDisposedException>(() => t.SumToShape(new Shape(3)));
        Assert.Throws<ObjectDisposedException>(() => t.ToSystemTensor());
        Assert.Throws<ObjectDisposedException>(() => t.AsTensorSpan());
        using var live = Tensor.Zeros(4, 3);
        Assert.Throws<ObjectDisposedException>(() => t.Add(live));
        Assert.Throws<ObjectDisposedException>(() => t.AddInPlace(live));
        Assert.Throws<ObjectDisposedException>(() => t.CopyTo(live));
        Assert.Throws<ObjectDisposedException>(() => t.AddScaledInPlace(live, 2f));
    }

    [Fact]
    public void A_disposed_tensor_passed_as_an_argument_throws_ArgumentException_naming_it()
    {
        using var a = Tensor.Ones(new Shape(4, 3));
        var disposed = Tensor.Ones(new Shape(4, 3));
        disposed.Dispose();

        AssertNamesArgument(Assert.Throws<ArgumentException>(() => a.Add(disposed)), "other");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => a.Maximum(disposed)), "other");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => a.MultiplyInPlace(disposed)), "other");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => a.AddScaledInPlace(disposed, 1f)), "other");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => a.CopyTo(disposed)), "destination");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeTensor.FromThreshold(disposed, 0f)), "values");

        using var spikes = SpikeTensor.Zeros(2, 3);
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(spikes, disposed)), "weight");
        using var weight = Tensor.Ones(new Shape(4, 3));
        var disposedBias = Tensor.Zeros(4);
        disposedBias.Dispose();
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(spikes, weight, disposedBias)), "bias");
        var disposedGrad = Tensor.Zeros(2, 4);
        disposedGrad.Dispose();
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeLinear.WeightGradient(disposedGrad, spikes)), "gradOutput");
        using var cache = new TransposedWeightCache();
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => cache.Get(disposed)), "weight");

        var disposedSpikes = SpikeTensor.Zeros(2, 3);
        disposedSpikes.Dispose();
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeLinear.Forward(disposedSpikes, weight)), "input");
        using var grad = Tensor.Zeros(2, 4);
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => SpikeLinear.WeightGradient(grad, disposedSpikes)), "input");
    }

    [Fact]
    public void Version_moves_on_mutable_access_only()
    {
        using var t = Tensor.Zeros(3, 3);
        int v0 = t.Version;
        _ = t.AsReadOnlySpan();
        _ = t.ToArray();
        _ = t.GetValue(1, 1);
        _ = t.Sum();
        using (var e = t.Exp()) { }
        Assert.Equal(v0, t.Version);

        _ = t.AsSpan();
        Assert.Equal(v0 + 1, t.Version);
        t.SetValue(1f, 0, 0);
        Assert.True(t.Version > v0 + 1);
        int v1 = t.Version;
        t.Fill(2f);
        Assert.True(t.Version > v1);
        int v2 = t.Version;
        using (var other = Tensor.Ones(new Shape(3, 3))) t.AddInPlace(other);
        Assert.True(t.Version > v2);
        int v3 = t.Version;
        _ = t.AsTensorSpan();
        Assert.True(t.Version > v3);
    }

    [Fact]
    public void Writes_through_a_view_move_the_parents_version()
    {
        using var t = Tensor.Zeros(3, 4);
        int v0 = t.Version;
        using (var row = t[1]) row.AsSpan()[0] = 5f;
        Assert.True(t.Version > v0, "a write through a view must be visible to caches keyed on the parent's version");
        int v1 = t.Version;
        using (var flat = t.Reshape(-1)) flat.SetValue(3f, 0);
        Assert.True(t.Version > v1);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool GetValue_and_SetValue_follow_row_major_order(TensorCase c)
    {
        var values = c.Values();
        using var t = c.Create();
        var index = new int[c.Dims.Length];
        for (int flat = 0; flat < values.Length; flat += 1 + values.Length / 50)
        {
            int rest = flat;
            for (int a = index.Length - 1; a >= 0; a--)
            {
                index[a] = rest % c.Dims[a];
                rest /= c.Dims[a];
            }
            if (t.GetValue(index) != values[flat]) return false;
            t.SetValue(flat, index);
            if (t.AsReadOnlySpan()[flat] != flat) return false;
        }
        return true;
    }

    [Fact]
    public void GetValue_and_SetValue_check_the_index()
    {
        using var t = Tensor.Zeros(2, 3);
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => t.GetValue(0)), "index");
        AssertNamesArgument(Assert.Throws<ArgumentException>(() => t.GetValue(0, 0, 0)), "index");
        var e = Assert.Throws<ArgumentException>(() => t.GetValue(2, 0));
        Assert.Contains("[2, 0]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => t.GetValue(0, 3));
        Assert.Throws<ArgumentException>(() => t.GetValue(-1, 0));
        Assert.Throws<ArgumentException>(() => t.SetValue(1f, 1, -1));
        Assert.Throws<ArgumentException>(() => t.SetValue(1f, 1));
        Assert.Equal(0f, t.Sum());
    }

    [Fact]
    public void ToScalar_needs_one_element()
    {
        using var t = Tensor.Zeros(2);
        Assert.Throws<InvalidOperationException>(() => t.ToScalar());
        using var one = Tensor.Full(new Shape(1, 1), 3f);
        Assert.Equal(3f, one.ToScalar());
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool Clone_and_CopyTo_copy(TensorCase c)
    {
        using var t = c.Create();
        using var clone = t.Clone();
        using var target = Tensor.Zeros(c.Shape);
        t.CopyTo(target);
        bool same = clone.ToArray().AsSpan().SequenceEqual(t.ToArray()) && target.ToArray().AsSpan().SequenceEqual(t.ToArray());
        t.Fill(42f);
        return same && (t.Length == 0 || clone.AsReadOnlySpan()[0] != 42f || c.Values()[0] == 42f);
    }

    [Fact]
    public void CopyTo_a_different_shape_names_both_shapes()
    {
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(3, 2);
        var e = Assert.Throws<ArgumentException>(() => a.CopyTo(b));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_tensors_work()
    {
        using var t = Tensor.Zeros(0, 5);
        Assert.Equal(0, t.Length);
        Assert.Empty(t.ToArray());
        using var r = t.Reshape(5, 0);
        Assert.Equal(new Shape(5, 0), r.Shape);
        Assert.Equal(0f, t.Sum());
    }

    private static Tensor Sequential(params int[] dims)
    {
        var t = Tensor.Zeros(dims);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++) s[i] = i;
        return t;
    }

    private static void AssertNamesArgument(ArgumentException e, string name)
    {
        Assert.Equal(name, e.ParamName);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
    }
}
