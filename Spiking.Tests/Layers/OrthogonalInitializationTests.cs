using System;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>PyTorch's <c>orthogonal_</c>: the rows (wide) or columns (tall) are orthogonal with norm <c>gain</c>, checked in double.</summary>
public sealed class OrthogonalInitializationTests
{
    [Theory]
    [InlineData(16, 16, 1.0)]
    [InlineData(64, 16, 2.0)]
    [InlineData(11, 40, 0.5)]
    [InlineData(512, 128, 1.0)]
    [InlineData(63, 128, 1.1224972e-3)]
    public void Rows_or_columns_are_orthogonal_with_norm_gain(int rows, int columns, double gain)
    {
        using var w = Tensor.Empty(rows, columns);
        Initialization.Orthogonal(w, gain, new PhiloxGenerator(17));
        var x = w.AsReadOnlySpan().ToArray();
        bool wide = rows < columns;
        int count = wide ? rows : columns, length = wide ? columns : rows;
        double Element(int vector, int i) => wide ? x[vector * columns + i] : x[i * columns + vector];
        for (int a = 0; a < count; a++)
        {
            for (int b = a; b < count; b++)
            {
                double dot = 0;
                for (int i = 0; i < length; i++) dot += Element(a, i) * Element(b, i);
                double expected = a == b ? gain * gain : 0;
                Assert.True(Math.Abs(dot - expected) <= 1e-5 * gain * gain, $"vectors {a}·{b} = {dot:G9}, expected {expected:G9}");
            }
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_bits_and_bad_arguments_are_named()
    {
        using var a = Tensor.Empty(8, 5);
        using var b = Tensor.Empty(8, 5);
        Initialization.Orthogonal(a, 1, new PhiloxGenerator(3));
        Initialization.Orthogonal(b, 1, new PhiloxGenerator(3));
        Assert.Equal(a.AsReadOnlySpan().ToArray(), b.AsReadOnlySpan().ToArray());
        using var vector = Tensor.Empty(8);
        var e = Assert.Throws<ArgumentException>(() => Initialization.Orthogonal(vector, 1, new PhiloxGenerator(3)));
        Assert.Contains("shape [8]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Initialization.Orthogonal(a, double.NaN, new PhiloxGenerator(3)));
    }
}
