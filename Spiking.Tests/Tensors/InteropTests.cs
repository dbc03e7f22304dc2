using System;
using System.Buffers;
using System.Numerics.Tensors;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;
using Tensor = Spiking.Tensors.Tensor;
using Shape = Spiking.Tensors.Shape;

namespace Spiking.Tests.Tensors;

public sealed class InteropTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void ToSystemTensor_and_back_preserves_shape_and_values(TensorCase c)
    {
        var values = c.Values();
        using var t = c.Create();
        var sys = t.ToSystemTensor();
        Assert.Equal(c.Dims.Length, sys.Rank);
        for (int i = 0; i < c.Dims.Length; i++) Assert.Equal(c.Dims[i], (int)sys.Lengths[i]);

        // Element by element through the System.Numerics.Tensors indexer, in row-major order.
        var index = new nint[c.Dims.Length];
        for (int flat = 0; flat < values.Length; flat += 1 + values.Length / 64)
        {
            int rest = flat;
            for (int a = index.Length - 1; a >= 0; a--)
            {
                index[a] = rest % c.Dims[a];
                rest /= c.Dims[a];
            }
            Assert.Equal(values[flat], sys[index]);
        }

        using var back = Tensor.FromSystemTensor(sys);
        Assert.Equal(c.Shape, back.Shape);
        Reference.AssertBitwise(values, back.AsReadOnlySpan(), "round trip");
    }

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 17, 1 })]
    [InlineData(new[] { 1, 1, 5 })]
    [InlineData(new[] { 0, 3 })]
    [InlineData(new[] { 3, 0 })]
    public void Unit_and_empty_axes_round_trip(int[] dims)
    {
        var c = new TensorCase(dims, 3);
        using var t = c.Create();
        var sys = t.ToSystemTensor();
        using var back = Tensor.FromSystemTensor(sys);
        Assert.Equal(c.Shape, back.Shape);
        Reference.AssertBitwise(c.Values(), back.AsReadOnlySpan(), "round trip");
        var span = t.AsTensorSpan();
        Assert.Equal(t.Length, (int)span.FlattenedLength);
        using var fromSpan = Tensor.FromSystemTensor(span);
        Reference.AssertBitwise(c.Values(), fromSpan.AsReadOnlySpan(), "from the tensor's own span");
    }

    [Fact]
    public void A_scalar_comes_out_as_a_one_element_vector()
    {
        using var s = Tensor.Scalar(2.5f);
        var sys = s.ToSystemTensor();
        Assert.Equal(1, sys.Rank);
        Assert.Equal(1, (int)sys.FlattenedLength);
        Assert.Equal(2.5f, sys[[0]]);
        using var back = Tensor.FromSystemTensor(sys);
        Assert.Equal(new Shape(1), back.Shape);
        Assert.Equal(2.5f, back.ToScalar());

        var span = s.AsTensorSpan();
        Assert.Equal(1, (int)span.FlattenedLength);
        span[[0]] = -4f;
        Assert.Equal(-4f, s.ToScalar());
    }

    [Fact]
    public void ToSystemTensor_is_a_copy()
    {
        using var t = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var sys = t.ToSystemTensor();
        t.Fill(0f);
        Assert.Equal(4f, sys[[1, 1]]);
        sys[[0, 0]] = 9f;
        Assert.Equal(0f, t.GetValue(0, 0));
    }

    [Fact]
    public void A_view_round_trips_its_own_elements()
    {
        using var t = Tensor.FromArray([0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f], 4, 2);
        using var view = t.Slice(1, 2);
        var sys = view.ToSystemTensor();
        Assert.Equal(2, (int)sys.Lengths[0]);
        Assert.Equal(2f, sys[[0, 0]]);
        Assert.Equal(5f, sys[[1, 1]]);
        using var back = Tensor.FromSystemTensor(sys);
        Assert.Equal(new float[] { 2f, 3f, 4f, 5f }, back.ToArray());
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void AsTensorSpan_has_row_major_lengths_and_strides_and_writes_through(TensorCase c)
    {
        using var t = c.Create();
        int version = t.Version;
        var span = t.AsTensorSpan();
        Assert.True(t.Version > version, "handing out a writable span counts as mutable access");
        Assert.Equal(c.Dims.Length, span.Rank);
        nint stride = 1;
        for (int a = c.Dims.Length - 1; a >= 0; a--)
        {
            Assert.Equal(c.Dims[a], (int)span.Lengths[a]);
            if (c.Dims[a] > 1) Assert.Equal(stride, span.Strides[a]);
            stride *= c.Dims[a];
        }
        Assert.Equal(t.Length, (int)span.FlattenedLength);

        // Write the last element and one in the middle through the span; the tensor must see both.
        var last = new nint[c.Dims.Length];
        var mid = new nint[c.Dims.Length];
        for (int a = 0; a < last.Length; a++)
        {
            last[a] = c.Dims[a] - 1;
            mid[a] = c.Dims[a] / 2;
        }
        span[last] = 1234.5f;
        span[mid] = -42f;
        bool same = last.AsSpan().SequenceEqual(mid);
        Assert.Equal(same ? -42f : 1234.5f, t.AsReadOnlySpan()[t.Length - 1]);
        Assert.Equal(-42f, t.GetValue(Array.ConvertAll(mid, i => (int)i)));
        t.SetValue(7f, Array.ConvertAll(last, i => (int)i));
        Assert.Equal(7f, span[last]);
    }

    [Fact]
    public void AsTensorSpan_of_a_view_writes_into_the_parent()
    {
        using var t = Tensor.Zeros(3, 2, 4);
        using var step = t[1];
        var span = step.AsTensorSpan();
        Assert.Equal(2, span.Rank);
        Assert.Equal(4, span.Strides[0]);
        Assert.Equal(1, span.Strides[1]);
        span[[1, 3]] = 5f;
        span.Fill(0.5f);
        span[[0, 1]] = 6f;
        Assert.Equal(6f, t.GetValue(1, 0, 1));
        Assert.Equal(0.5f, t.GetValue(1, 1, 3));
        Assert.Equal(0f, t.GetValue(0, 1, 3));
        Assert.Equal(0f, t.GetValue(2, 0, 0));
        Assert.Equal(8 * 0.5f - 0.5f + 6f, t.Sum());
    }

    [Fact]
    public void FromSystemTensor_of_a_transposed_span_copies_in_row_major_order()
    {
        // A 3x4 row-major array viewed as its 4x3 transpose through strides [1, 4].
        var data = new float[12];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        var transposed = new ReadOnlyTensorSpan<float>(data, 0, [4, 3], [1, 4]);
        Assert.False(transposed.IsDense);
        using var t = Tensor.FromSystemTensor(transposed);
        Assert.Equal(new Shape(4, 3), t.Shape);
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 3; c++) Assert.Equal(data[c * 4 + r], t.GetValue(r, c));
        }
    }

    [Fact]
    public void FromSystemTensor_of_a_sliced_span_copies_only_the_slice()
    {
        var data = new float[5 * 6 * 3];
        for (int i = 0; i < data.Length; i++) data[i] = i * 0.5f;
        var sys = System.Numerics.Tensors.Tensor.Create(data, [5, 6, 3]);
        var slice = sys.AsReadOnlyTensorSpan(new NRange(1, 4), new NRange(2, 6), new NRange(1, 3));
        Assert.False(slice.IsDense);
        using var t = Tensor.FromSystemTensor(slice);
        Assert.Equal(new Shape(3, 4, 2), t.Shape);
        int at = 0;
        var got = t.AsReadOnlySpan();
        for (int i = 1; i < 4; i++)
        {
            for (int j = 2; j < 6; j++)
            {
                for (int k = 1; k < 3; k++) Assert.Equal(data[(i * 6 + j) * 3 + k], got[at++]);
            }
        }
    }

    [Fact]
    public void FromSystemTensor_of_an_offset_strided_span()
    {
        // Every other element of rows 1..3 of a [4, 8] array, starting at column 1.
        var data = new float[32];
        for (int i = 0; i < data.Length; i++) data[i] = 100 + i;
        var strided = new ReadOnlyTensorSpan<float>(data, 9, [3, 4], [8, 2]);
        using var t = Tensor.FromSystemTensor(strided);
        Assert.Equal(new Shape(3, 4), t.Shape);
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 4; c++) Assert.Equal(data[9 + r * 8 + c * 2], t.GetValue(r, c));
        }
    }

    [Fact]
    public void FromSystemTensor_of_a_broadcast_span_repeats_values()
    {
        float[] row = [1f, 2f, 3f];
        var broadcast = new ReadOnlyTensorSpan<float>(row, 0, [4, 3], [0, 1]);
        using var t = Tensor.FromSystemTensor(broadcast);
        Assert.Equal(new Shape(4, 3), t.Shape);
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 3; c++) Assert.Equal(row[c], t.GetValue(r, c));
        }
    }

    [Fact]
    public void FromSystemTensor_of_an_empty_tensor()
    {
        var sys = System.Numerics.Tensors.Tensor.CreateFromShape<float>([0, 3]);
        using var t = Tensor.FromSystemTensor(sys);
        Assert.Equal(new Shape(0, 3), t.Shape);
        Assert.Equal(0, t.Length);
    }

    [Fact]
    public void FromSystemTensor_rejects_null() => Assert.Throws<ArgumentNullException>(() => Tensor.FromSystemTensor((Tensor<float>)null!));
}
