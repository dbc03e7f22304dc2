using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>
/// The CPU backend's convolution, pooling and batch-norm kernels (the reference the CUDA ones are checked against)
/// against plain loops in double and against the autograd ops the host training path runs.
/// </summary>
public sealed class CpuBackendWindowTests
{
    private static readonly ComputeBackend Cpu = ComputeBackend.Cpu;

    public static TheoryData<SlidingWindow> Windows =>
    [
        new SlidingWindow(3, 2, 7, 9, 3, 3, 1, 1),
        new SlidingWindow(2, 3, 8, 5, 3, 2, 2, 1),
        new SlidingWindow(1, 1, 4, 4, 2, 2, 2, 0),
    ];

    [Fact]
    public void TransposeBatchedTransposesEachMatrix()
    {
        using var x = new PhiloxGenerator(1).Normal(new Shape(3, 4, 5));
        using var y = Tensor.Empty(3, 5, 4);
        Cpu.TransposeBatched(x, 3, 4, 5, y);
        for (int b = 0; b < 3; b++)
        for (int r = 0; r < 4; r++)
        for (int c = 0; c < 5; c++) Assert.Equal(x.GetValue(b, r, c), y.GetValue(b, c, r));
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void Im2ColAndCol2ImAreThePlainLoopsAndAdjoint(SlidingWindow w)
    {
        var generator = new PhiloxGenerator(2);
        using var x = generator.Normal(new Shape(w.Images, w.Channels, w.Height, w.Width));
        int all = w.Images * w.Positions;
        using var cols = Tensor.Empty(w.Patch, all);
        Cpu.Im2Col(x, w, cols);
        using var g = generator.Normal(new Shape(w.Patch, all));
        using var dx = Tensor.Empty(x.Shape);
        Cpu.Col2Im(g, w, dx);

        var expectedDx = new double[x.Length];
        for (int n = 0; n < w.Images; n++)
        for (int c = 0; c < w.Channels; c++)
        for (int i = 0; i < w.KernelHeight; i++)
        for (int j = 0; j < w.KernelWidth; j++)
        for (int oy = 0; oy < w.OutHeight; oy++)
        for (int ox = 0; ox < w.OutWidth; ox++)
        {
            int row = (c * w.KernelHeight + i) * w.KernelWidth + j, col = n * w.Positions + oy * w.OutWidth + ox;
            int y = oy * w.Stride - w.Padding + i, xx = ox * w.Stride - w.Padding + j;
            bool inside = y >= 0 && y < w.Height && xx >= 0 && xx < w.Width;
            Assert.Equal(inside ? x.GetValue(n, c, y, xx) : 0f, cols.GetValue(row, col));
            if (inside) expectedDx[((n * w.Channels + c) * w.Height + y) * w.Width + xx] += g.GetValue(row, col);
        }
        var actual = dx.AsReadOnlySpan();
        for (int e = 0; e < expectedDx.Length; e++) Assert.True(Math.Abs(expectedDx[e] - actual[e]) <= 1e-5, $"dx[{e}]: {expectedDx[e]} vs {actual[e]}");
    }

    [Theory]
    [InlineData(2, 2, 0)]
    [InlineData(3, 2, 1)]
    [InlineData(2, 1, 0)]
    public void MaxPoolEqualsTheOpOnDenseAndSpikes(int kernel, int stride, int padding)
    {
        var generator = new PhiloxGenerator(4);
        using var raw = generator.Normal(new Shape(2, 3, 7, 9));
        // A coarse grid, so that windows hold ties and the first maximum has to be chosen.
        using var x = Tensor.FromSpan(Array.ConvertAll(raw.ToArray(), v => MathF.Round(v * 2) / 2), raw.Shape);
        var w = new SlidingWindow(2, 3, 7, 9, kernel, kernel, stride, padding);
        var outShape = new Shape(2, 3, w.OutHeight, w.OutWidth);
        using var grad = generator.Normal(outShape);

        using var dense = Variable.Parameter(x.Clone());
        using var pooled = Functional.MaxPool2d(dense, kernel, stride, padding);
        pooled.Backward(grad);
        using var y = Tensor.Empty(outShape);
        using var dx = Tensor.Empty(x.Shape);
        Cpu.MaxPool(x, w, y);
        Cpu.MaxPoolBackward(grad, x, w, dx);
        Assert.Equal(pooled.Tensor!.ToArray(), y.ToArray());
        Assert.Equal(dense.Grad!.ToArray(), dx.ToArray());

        using var spikes = SpikeTensor.FromThreshold(x, 0.5f);
        using var spikeInput = Variable.Constant(spikes);
        using var bitsOp = Functional.MaxPool2d(spikeInput, kernel, stride, padding);
        using var bits = SpikeTensor.Zeros(outShape);
        Cpu.MaxPool(spikes, w, bits);
        Assert.Equal(bitsOp.Spikes!.Words.ToArray(), bits.Words.ToArray());
        using var gradSpikes = Tensor.Empty(x.Shape);
        Cpu.MaxPoolBackward(grad, spikes, w, gradSpikes);
        using var expected = Tensor.Empty(x.Shape);
        Spiking.Tensors.Kernels.Pool.MaxBackwardBitsReference(grad, spikes, 6, new Spiking.Tensors.Kernels.ConvGeometry(6, 7, 9, kernel, kernel, stride, padding), expected);
        Assert.Equal(expected.ToArray(), gradSpikes.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormIsTheDoubleFormulaAndTheOpsGradient(bool training)
    {
        var generator = new PhiloxGenerator(6);
        using var x = generator.Normal(new Shape(5, 3, 4, 6), 3f, 0.5f);
        using var gamma = generator.Normal(new Shape(3), 1f, 0.2f);
        using var beta = generator.Normal(new Shape(3));
        using var grad = generator.Normal(x.Shape);
        using var runningMean = Tensor.FromArray([0.1f, -0.2f, 0.3f], 3);
        using var runningVar = Tensor.FromArray([1.5f, 0.5f, 2f], 3);
        using var rm = runningMean.Clone();
        using var rv = runningVar.Clone();
        using var y = Tensor.Empty(x.Shape);
        using var statistics = Tensor.Empty(2, 3);
        Cpu.BatchNormForward(x, gamma, beta, rm, rv, new BatchNormSpec(training, 0.1, 1e-5, 2), y, statistics);

        const int Count = 5 * 4 * 6;
        for (int c = 0; c < 3; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < 5; n++) for (int e = 0; e < 24; e++) sum += x.GetValue(n, c, e / 6, e % 6);
            double mean = sum / Count;
            for (int n = 0; n < 5; n++) for (int e = 0; e < 24; e++) squares += Math.Pow(x.GetValue(n, c, e / 6, e % 6) - mean, 2);
            double variance = squares / Count;
            double usedMean = training ? mean : runningMean.GetValue(c), usedVar = training ? variance : runningVar.GetValue(c);
            Near(usedMean, statistics.GetValue(0, c), 1e-5);
            Near(1 / Math.Sqrt(usedVar + 1e-5), statistics.GetValue(1, c), 1e-5);
            double expectedMean = training ? 0.9 * runningMean.GetValue(c) + 0.1 * mean : runningMean.GetValue(c);
            double expectedVar = training ? 0.9 * runningVar.GetValue(c) + 0.1 * variance * (2.0 * Count) / (2.0 * Count - 1) : runningVar.GetValue(c);
            Near(expectedMean, rm.GetValue(c), 1e-5);
            Near(expectedVar, rv.GetValue(c), 1e-5);
            for (int n = 0; n < 5; n++)
            for (int e = 0; e < 24; e++)
            {
                double expected = (x.GetValue(n, c, e / 6, e % 6) - usedMean) / Math.Sqrt(usedVar + 1e-5) * gamma.GetValue(c) + beta.GetValue(c);
                Near(expected, y.GetValue(n, c, e / 6, e % 6), 1e-5);
            }
        }

        using var input = Variable.Parameter(x.Clone());
        using var g = Variable.Parameter(gamma.Clone());
        using var b = Variable.Parameter(beta.Clone());
        using var opMean = runningMean.Clone();
        using var opVar = runningVar.Clone();
        using var output = Functional.BatchNorm(input, g, b, opMean, opVar, training, replicas: 2);
        output.Backward(grad);
        using var dx = Tensor.Empty(x.Shape);
        using var dGamma = Tensor.Empty(3);
        using var dBeta = Tensor.Empty(3);
        Cpu.BatchNormBackward(x, grad, gamma, statistics, training, dx, dGamma, dBeta);
        AssertClose(input.Grad!, dx, 1e-5);
        AssertClose(g.Grad!, dGamma, 1e-5);
        AssertClose(b.Grad!, dBeta, 1e-5);
    }

    private static void Near(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{expected} vs {actual}");

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(e[i])), $"[{i}]: {e[i]} vs {a[i]}");
    }
}
