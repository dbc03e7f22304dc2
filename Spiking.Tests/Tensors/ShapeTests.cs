using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Tensors;

public sealed class ShapeTests
{
    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool Counts_match_the_product_of_dimensions(TensorCase c)
    {
        var shape = c.Shape;
        long product = 1;
        foreach (int d in c.Dims) product *= d;
        long leading = product / c.Dims[^1];
        return shape.Rank == c.Dims.Length
            && shape.ElementCount == product
            && shape.LastDimension == c.Dims[^1]
            && shape.RowCount == leading
            && shape.ProductOfLeading(shape.Rank - 1) == leading
            && shape.ProductOfTrailing(0) == product;
    }

    [Fact]
    public void Counts_of_a_rank_three_shape()
    {
        var s = new Shape(2, 3, 4);
        Assert.Equal(3, s.Rank);
        Assert.Equal(24, s.ElementCount);
        Assert.Equal(6, s.RowCount);
        Assert.Equal(4, s.LastDimension);
        Assert.Equal(3, s[1]);
        Assert.Equal(4, s[-1]);
        Assert.Equal(2, s[-3]);
        Assert.Equal("[2, 3, 4]", s.ToString());
    }

    [Fact]
    public void Zero_dimensions_give_zero_elements_but_keep_row_structure()
    {
        var inner = new Shape(3, 0, 5);
        Assert.Equal(0, inner.ElementCount);
        Assert.Equal(0, inner.RowCount);
        Assert.Equal(5, inner.LastDimension);

        var last = new Shape(3, 5, 0);
        Assert.Equal(0, last.ElementCount);
        Assert.Equal(15, last.RowCount);
        Assert.Equal(0, last.LastDimension);
    }

    [Fact]
    public void A_rank_zero_shape_is_a_scalar_with_one_element()
    {
        foreach (var s in new[] { new Shape(), new Shape(ReadOnlySpan<int>.Empty), default, Shape.FromList(Array.Empty<int>()) })
        {
            Assert.Equal(0, s.Rank);
            Assert.Equal(1, s.ElementCount);
            Assert.Equal(1, s.RowCount);
            Assert.Equal(1, s.LastDimension);
            Assert.Equal("[]", s.ToString());
        }
        Assert.Equal(new Shape(), default);
        Assert.Equal(new Shape().GetHashCode(), default(Shape).GetHashCode());
    }

    [Theory]
    [InlineData(new[] { -1 }, "[-1]")]
    [InlineData(new[] { 2, -3 }, "[2, -3]")]
    [InlineData(new[] { 4, 0, -1, 5 }, "[4, 0, -1, 5]")]
    public void Negative_dimensions_throw_naming_the_shape(int[] dims, string formatted)
    {
        var e = Assert.Throws<ArgumentException>(() => new Shape(dims));
        Assert.Contains(formatted, e.Message, StringComparison.Ordinal);
        Assert.Equal("dims", e.ParamName);
    }

    [Fact]
    public void Element_count_overflow_throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Shape(65536, 65536));
        Assert.Contains("[65536, 65536]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { -1, 4 }, 12, new[] { 3, 4 })]
    [InlineData(new[] { 2, -1, 3 }, 12, new[] { 2, 2, 3 })]
    [InlineData(new[] { -1 }, 7, new[] { 7 })]
    [InlineData(new[] { 5, -1 }, 0, new[] { 5, 0 })]
    [InlineData(new[] { 6, 2 }, 12, new[] { 6, 2 })]
    [InlineData(new int[0], 1, new int[0])]
    public void Resolve_infers_one_dimension(int[] requested, int count, int[] expected)
    {
        var s = Shape.Resolve(requested, count, "dims");
        Assert.Equal(new Shape(expected), s);
        Assert.Equal(count, s.ElementCount);
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool Resolve_with_minus_one_at_any_axis_recovers_the_dimension(TensorCase c)
    {
        for (int axis = 0; axis < c.Dims.Length; axis++)
        {
            var requested = (int[])c.Dims.Clone();
            requested[axis] = -1;
            if (Shape.Resolve(requested, c.Shape.ElementCount, "dims") != c.Shape) return false;
        }
        return true;
    }

    [Fact]
    public void Resolve_rejects_two_inferred_dimensions()
    {
        var e = Assert.Throws<ArgumentException>(() => Shape.Resolve([-1, 2, -1], 8, "dims"));
        Assert.Equal("dims", e.ParamName);
        Assert.Contains("[-1, 2, -1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_rejects_other_negative_values()
    {
        var e = Assert.Throws<ArgumentException>(() => Shape.Resolve([2, -2], 4, "dims"));
        Assert.Contains("[2, -2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_with_a_mismatched_count_names_both_counts()
    {
        var e = Assert.Throws<ArgumentException>(() => Shape.Resolve([3, 4], 10, "newShape"));
        Assert.Equal("newShape", e.ParamName);
        Assert.Contains("12", e.Message, StringComparison.Ordinal);
        Assert.Contains("10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_with_an_indivisible_inferred_dimension_throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Shape.Resolve([-1, 4], 10, "dims"));
        Assert.Contains("[-1, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("10", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Shape.Resolve([-1, 0], 0, "dims"));
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool Equal_dimensions_give_equal_shapes_and_hashes(TensorCase c)
    {
        var a = new Shape(c.Dims);
        var b = Shape.FromList((int[])c.Dims.Clone());
        return a == b && !(a != b) && a.Equals(b) && a.Equals((object)b) && a.GetHashCode() == b.GetHashCode();
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public bool Changing_a_dimension_or_the_rank_gives_a_different_shape(TensorCase c)
    {
        var a = c.Shape;
        var bigger = a.WithDimension(-1, c.Dims[^1] + 1);
        var padded = new Shape([.. c.Dims, 1]);
        return a != bigger && a != padded && !a.Equals((object)padded) && !a.Equals("not a shape");
    }

    [Fact]
    public void Shapes_with_the_same_elements_but_different_rank_differ()
    {
        Assert.NotEqual(new Shape(6), new Shape(6, 1));
        Assert.NotEqual(new Shape(1, 6), new Shape(6));
        Assert.NotEqual(new Shape(2, 3), new Shape(3, 2));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 2)]
    [InlineData(-1, 2)]
    [InlineData(-3, 0)]
    public void NormalizeAxis_maps_negative_axes(int axis, int expected) => Assert.Equal(expected, new Shape(4, 5, 6).NormalizeAxis(axis));

    [Theory]
    [InlineData(3)]
    [InlineData(-4)]
    [InlineData(100)]
    [InlineData(int.MinValue)]
    public void NormalizeAxis_out_of_range_throws(int axis)
    {
        var s = new Shape(4, 5, 6);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s.NormalizeAxis(axis));
        Assert.Equal("axis", e.ParamName);
        Assert.Contains("[4, 5, 6]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[axis]);
    }

    [Fact]
    public void A_scalar_has_no_axis()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape().NormalizeAxis(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Shape().NormalizeAxis(-1));
        Assert.Throws<InvalidOperationException>(() => new Shape().DropLeading());
    }

    [Fact]
    public void DropLeading_and_WithDimension_build_new_shapes()
    {
        var s = new Shape(4, 5, 6);
        Assert.Equal(new Shape(5, 6), s.DropLeading());
        Assert.Equal(new Shape(), new Shape(7).DropLeading());
        Assert.Equal(1, new Shape(7).DropLeading().ElementCount);
        Assert.Equal(new Shape(4, 9, 6), s.WithDimension(1, 9));
        Assert.Equal(new Shape(4, 5, 1), s.WithDimension(-1, 1));
        Assert.Equal(new Shape(4, 5, 6), s);
        Assert.Throws<ArgumentException>(() => s.WithDimension(0, -2));
    }

    [Fact]
    public void Dimensions_are_copied_from_the_caller()
    {
        int[] dims = [2, 3];
        var s = new Shape(dims);
        dims[0] = 99;
        Assert.Equal(2, s[0]);
    }
}
