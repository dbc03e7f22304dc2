using System;
using Spiking.Autograd;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class BatchNormKernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(784)]
    [InlineData(787)]
    public void Vectorised_rows_match_the_plain_loops(int length)
    {
        var x = new TensorCase([length], 11).Values();
        var g = new TensorCase([length], 12).Values();
        for (int i = 0; i < length; i++) x[i] += 3f;
        const double mean = 3.1, invStd = 1.7, scale = 0.9, shift = -0.4, meanG = 0.05, meanGXhat = -0.2;

        var (sum, squares) = BatchNormKernel.ShiftedSums(x, x[0]);
        var (sumRef, squaresRef) = BatchNormKernel.ShiftedSumsReference(x, x[0]);
        Assert.Equal(sumRef, sum, 1e-9 * length);
        Assert.Equal(squaresRef, squares, 1e-9 * length);

        var (sumG, sumGc) = BatchNormKernel.GradientSums(g, x, mean);
        var (sumGRef, sumGcRef) = BatchNormKernel.GradientSumsReference(g, x, mean);
        Assert.Equal(sumGRef, sumG, 1e-9 * length);
        Assert.Equal(sumGcRef, sumGc, 1e-9 * length);

        var y = new float[length];
        var yRef = new float[length];
        BatchNormKernel.Normalize(x, mean, scale, shift, y);
        BatchNormKernel.NormalizeReference(x, mean, scale, shift, yRef);
        Reference.AssertBitwise(yRef, y, "normalised");

        BatchNormKernel.InputGradient(g, x, mean, invStd, scale, meanG, meanGXhat, y);
        BatchNormKernel.InputGradientReference(g, x, mean, invStd, scale, meanG, meanGXhat, yRef);
        Reference.AssertBitwise(yRef, y, "dx");
    }

    [Fact]
    public void Training_statistics_match_a_double_reference_on_a_conv_sized_batch()
    {
        int[] dims = [16, 3, 28, 28];
        var values = new TensorCase(dims, 21).Values();
        for (int i = 0; i < values.Length; i++) values[i] = values[i] * 0.5f + 100f;
        using var x = Variable.Constant(Spiking.Tensors.Tensor.FromArray(values, dims));
        using var gamma = Variable.Constant(Spiking.Tensors.Tensor.FromArray([1f, 2f, -1f], 3));
        using var beta = Variable.Constant(Spiking.Tensors.Tensor.FromArray([0f, 0.5f, 1f], 3));
        using var rm = Spiking.Tensors.Tensor.Zeros(3);
        using var rv = Spiking.Tensors.Tensor.Zeros(3);
        using var y = Functional.BatchNorm(x, gamma, beta, rm, rv, training: true, momentum: 1.0);
        int inner = 28 * 28, count = 16 * inner;
        var expected = new double[values.Length];
        for (int c = 0; c < 3; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < 16; n++)
            for (int i = 0; i < inner; i++) sum += values[(n * 3 + c) * inner + i];
            double m = sum / count;
            for (int n = 0; n < 16; n++)
            for (int i = 0; i < inner; i++) squares += Math.Pow(values[(n * 3 + c) * inner + i] - m, 2);
            double variance = squares / count, gc = c == 0 ? 1 : c == 1 ? 2 : -1, bc = c * 0.5;
            Assert.Equal(m, rm.AsReadOnlySpan()[c], m * 1e-6);
            Assert.Equal(variance * count / (count - 1), rv.AsReadOnlySpan()[c], variance * 1e-5);
            for (int n = 0; n < 16; n++)
            for (int i = 0; i < inner; i++)
            {
                int at = (n * 3 + c) * inner + i;
                expected[at] = (values[at] - m) / Math.Sqrt(variance + 1e-5) * gc + bc;
            }
        }
        Golden.AssertClose(expected, y.Dense.AsReadOnlySpan(), "y");
    }
}
