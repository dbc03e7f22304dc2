using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class BatchNormRowsTests
{
    [Theory]
    [InlineData(300, 7, true)]
    [InlineData(513, 64, true)]
    [InlineData(40, 3, false)]
    public void Channels_last_rows_equal_the_channel_major_layout(int rows, int channels, bool training)
    {
        var gen = new PhiloxGenerator((ulong)(rows * 100 + channels));
        using var x = gen.Normal(new Shape(rows, channels), 0.3f, 2f);
        using var g = gen.Normal(new Shape(rows, channels));
        using var gamma = gen.Normal(new Shape(channels), 1f, 0.2f);
        using var beta = gen.Normal(new Shape(channels));
        var (y1, dx1, dg1, db1, rm1, rv1) = Run(x, g, gamma, beta, training, transposed: false);
        var (y2, dx2, dg2, db2, rm2, rv2) = Run(x, g, gamma, beta, training, transposed: true);
        AssertClose(y1, y2, "y");
        AssertClose(dx1, dx2, "dx");
        AssertClose(dg1, dg2, "dgamma");
        AssertClose(db1, db2, "dbeta");
        AssertClose(rm1, rm2, "running mean");
        AssertClose(rv1, rv2, "running var");
    }

    // transposed: the same values laid out [1, C, rows] (channel-major, one long run per channel), results brought back to [rows, C].
    private static (float[], float[], float[], float[], float[], float[]) Run(Tensor x, Tensor g, Tensor gamma, Tensor beta, bool training, bool transposed)
    {
        int rows = x.Shape[0], channels = x.Shape[1];
        using var scope = DisposeScope.Begin();
        using var input = Variable.Parameter(transposed ? x.TransposeLastTwo().Reshape(1, channels, rows) : x.Clone());
        using var gm = Variable.Parameter(gamma.Clone());
        using var bt = Variable.Parameter(beta.Clone());
        using var rm = Tensor.Zeros(channels);
        using var rv = Tensor.Ones(new Shape(channels));
        var y = Functional.BatchNorm(input, gm, bt, rm, rv, training);
        using var grad = transposed ? g.TransposeLastTwo().Reshape(1, channels, rows) : g.Clone();
        y.Backward(grad);
        float[] Back(Tensor t) => transposed ? t.Reshape(channels, rows).TransposeLastTwo().ToArray() : t.ToArray();
        return (Back(y.Dense), Back(input.Grad!), gm.Grad!.ToArray(), bt.Grad!.ToArray(), rm.ToArray(), rv.ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }
}
