using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Batch normalisation of <c>x[outer, C, inner]</c> per channel, in double: the batch statistics, the normalisation
/// and the backward through them. Channel-major input (<c>inner &gt; 1</c>) runs one work item per channel; the
/// channels-last form (<c>inner = 1</c>) goes to <see cref="BatchNormRows"/>, with the same formulas. The batch-norm
/// op and <see cref="Backends.ComputeBackend.Cpu"/> both compute through here.
/// </summary>
internal static class BatchNormChannels
{
    /// <summary>
    /// The per-channel mean and biased variance, from sums of <c>x − K</c> and <c>(x − K)²</c> with <c>K</c> the
    /// channel's first value: one pass, and no cancellation when the mean is large next to the spread.
    /// </summary>
    public static void Statistics(Tensor x, int outer, int channels, int inner, double[] mean, double[] variance)
    {
        if (inner == 1)
        {
            BatchNormRows.Statistics(x, outer, channels, mean, variance);
            return;
        }
        Parallelism.For(channels, (long)outer * inner, (x, outer, channels, inner, mean, variance), static (c, s) =>
        {
            ReadOnlySpan<float> v = s.x.AsReadOnlySpan();
            double shift = v[c * s.inner], sum = 0, squares = 0;
            for (int n = 0; n < s.outer; n++)
            {
                var (rowSum, rowSquares) = BatchNormKernel.ShiftedSums(v.Slice((n * s.channels + c) * s.inner, s.inner), shift);
                sum += rowSum;
                squares += rowSquares;
            }
            double count = (double)s.outer * s.inner, d = sum / count;
            s.mean[c] = shift + d;
            s.variance[c] = Math.Max(0, squares / count - d * d);
        });
    }

    /// <summary>
    /// <c>running = (1 − momentum)·running + momentum·batch</c>, the variance made unbiased over
    /// <paramref name="counted"/> values (the values per channel times the copies they stand for).
    /// </summary>
    public static void UpdateRunning(Tensor runningMean, Tensor runningVar, ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double momentum, double counted)
    {
        var rm = runningMean.AsSpan();
        var rv = runningVar.AsSpan();
        for (int c = 0; c < rm.Length; c++)
        {
            rm[c] = (float)((1 - momentum) * rm[c] + momentum * mean[c]);
            rv[c] = (float)((1 - momentum) * rv[c] + momentum * variance[c] * counted / (counted - 1));
        }
    }

    /// <summary><c>y = (float)((x − mean)·γ·invStd + β)</c> per channel.</summary>
    public static void Normalize(Tensor x, Tensor gamma, Tensor beta, Tensor y, int outer, int channels, int inner, double[] mean, double[] invStd)
    {
        if (inner == 1)
        {
            ReadOnlySpan<float> gv = gamma.AsReadOnlySpan(), bv = beta.AsReadOnlySpan();
            var scale = new double[channels];
            var offset = new double[channels];
            for (int c = 0; c < channels; c++) (scale[c], offset[c]) = (gv[c] * invStd[c], bv[c]);
            BatchNormRows.Normalize(x, y, outer, channels, mean, scale, offset);
            return;
        }
        Parallelism.For(channels, (long)outer * inner, (x, gamma, beta, y, outer, channels, inner, mean, invStd), static (c, s) =>
        {
            ReadOnlySpan<float> v = s.x.AsReadOnlySpan();
            var dst = s.y.StorageArray.AsSpan(s.y.StorageOffset, s.y.Length);
            double scale = s.gamma.AsReadOnlySpan()[c] * s.invStd[c], shift = s.beta.AsReadOnlySpan()[c], m = s.mean[c];
            for (int n = 0; n < s.outer; n++)
            {
                int at = (n * s.channels + c) * s.inner;
                BatchNormKernel.Normalize(v.Slice(at, s.inner), m, scale, shift, dst.Slice(at, s.inner));
            }
        });
    }

    /// <summary>
    /// The backward: <c>dγ = Σ g·x̂</c>, <c>dβ = Σ g</c> and, when <paramref name="dx"/> is given,
    /// <c>dx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂))</c> in training (the batch statistics depend on x) or
    /// <c>γ·invStd·g</c> in evaluation.
    /// </summary>
    public static void Backward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor? dx, int outer, int channels, int inner,
        double[] mean, double[] invStd, bool training, double[] dGamma, double[] dBeta)
    {
        if (inner == 1)
        {
            BackwardRows(x, gradOutput, gamma, dx, outer, channels, mean, invStd, training, dGamma, dBeta);
            return;
        }
        var state = (x, gradOutput, gamma, dx, outer, channels, inner, mean, invStd, training, dGamma, dBeta);
        Parallelism.For(channels, (long)outer * inner, state, static (c, s) =>
        {
            ReadOnlySpan<float> v = s.x.AsReadOnlySpan(), g = s.gradOutput.AsReadOnlySpan();
            double m = s.mean[c], inv = s.invStd[c];
            double sumG = 0, sumGCentred = 0;
            for (int n = 0; n < s.outer; n++)
            {
                int at = (n * s.channels + c) * s.inner;
                var (rowG, rowGCentred) = BatchNormKernel.GradientSums(g.Slice(at, s.inner), v.Slice(at, s.inner), m);
                sumG += rowG;
                sumGCentred += rowGCentred;
            }
            double sumGXhat = sumGCentred * inv;
            s.dGamma[c] = sumGXhat;
            s.dBeta[c] = sumG;
            if (s.dx is null) return;
            var dst = s.dx.StorageArray.AsSpan(s.dx.StorageOffset, s.dx.Length);
            double scale = s.gamma.AsReadOnlySpan()[c] * inv;
            double count = (double)s.outer * s.inner;
            double meanG = s.training ? sumG / count : 0, meanGXhat = s.training ? sumGXhat / count : 0;
            for (int n = 0; n < s.outer; n++)
            {
                int at = (n * s.channels + c) * s.inner;
                BatchNormKernel.InputGradient(g.Slice(at, s.inner), v.Slice(at, s.inner), m, inv, scale, meanG, meanGXhat, dst.Slice(at, s.inner));
            }
        });
    }

    // The channels-last form ([rows, C], inner 1) of the loop above, with the same formulas.
    private static void BackwardRows(Tensor x, Tensor gradOutput, Tensor gamma, Tensor? dx, int rows, int channels,
        double[] mean, double[] invStd, bool training, double[] dGamma, double[] dBeta)
    {
        var sumG = new double[channels];
        var sumGCentred = new double[channels];
        BatchNormRows.GradientSums(x, gradOutput, rows, channels, mean, sumG, sumGCentred);
        var gammas = gamma.AsReadOnlySpan();
        var scale = new double[channels];
        var meanG = new double[channels];
        var meanGXhat = new double[channels];
        double count = rows;
        for (int c = 0; c < channels; c++)
        {
            double sumGXhat = sumGCentred[c] * invStd[c];
            dGamma[c] = sumGXhat;
            dBeta[c] = sumG[c];
            scale[c] = gammas[c] * invStd[c];
            meanG[c] = training ? sumG[c] / count : 0;
            meanGXhat[c] = training ? sumGXhat / count : 0;
        }
        if (dx is not null) BatchNormRows.InputGradient(x, gradOutput, dx, rows, channels, mean, invStd, scale, meanG, meanGXhat);
    }
}
