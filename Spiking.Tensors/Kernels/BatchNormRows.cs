using System;
using Spiking.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Batch normalisation of a channels-last matrix <c>[rows, C]</c> (tokens normalised over their channels, where
/// the channel-major loops would read one strided element per row): per-channel sums run along each row, in
/// fixed blocks of rows whose partial sums are added in block order, so results do not depend on the thread count.
/// The per-element formulas are those of <see cref="BatchNormKernel"/>'s references.
/// </summary>
internal static class BatchNormRows
{
    private const int BlockRows = 256;

    private static int Blocks(int rows) => (rows + BlockRows - 1) / BlockRows;

    /// <summary>Mean and biased variance per channel, the sums shifted by each channel's first value.</summary>
    public static void Statistics(Tensor x, int rows, int channels, double[] mean, double[] variance)
    {
        int blocks = Blocks(rows);
        var partial = new double[blocks * channels * 2];
        var shift = new double[channels];
        var values = x.AsReadOnlySpan();
        for (int c = 0; c < channels; c++) shift[c] = values[c];
        Parallelism.For(blocks, (long)BlockRows * channels, (x, rows, channels, shift, partial), static (b, s) =>
        {
            var v = s.x.AsReadOnlySpan();
            var sums = s.partial.AsSpan(b * s.channels * 2, s.channels);
            var squares = s.partial.AsSpan(b * s.channels * 2 + s.channels, s.channels);
            int r1 = Math.Min(s.rows, (b + 1) * BlockRows);
            for (int r = b * BlockRows; r < r1; r++)
            {
                var row = v.Slice(r * s.channels, s.channels);
                for (int c = 0; c < row.Length; c++)
                {
                    double d = row[c] - s.shift[c];
                    sums[c] += d;
                    squares[c] += d * d;
                }
            }
        });
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, sq = 0;
            for (int b = 0; b < blocks; b++)
            {
                sum += partial[b * channels * 2 + c];
                sq += partial[b * channels * 2 + channels + c];
            }
            double d = sum / rows;
            mean[c] = shift[c] + d;
            variance[c] = Math.Max(0, sq / rows - d * d);
        }
    }

    /// <summary><c>y = (x − mean)·scale + shift</c> per channel.</summary>
    public static void Normalize(Tensor x, Tensor y, int rows, int channels, double[] mean, double[] scale, double[] shift)
    {
        Parallelism.For(Blocks(rows), (long)BlockRows * channels, (x, y, rows, channels, mean, scale, shift), static (b, s) =>
        {
            var v = s.x.AsReadOnlySpan();
            var dst = s.y.StorageArray.AsSpan(s.y.StorageOffset, s.y.Length);
            int r1 = Math.Min(s.rows, (b + 1) * BlockRows);
            for (int r = b * BlockRows; r < r1; r++)
            {
                int at = r * s.channels;
                for (int c = 0; c < s.channels; c++) dst[at + c] = (float)((v[at + c] - s.mean[c]) * s.scale[c] + s.shift[c]);
            }
        });
    }

    /// <summary>Per channel, <c>Σ g</c> and <c>Σ g·(x − mean)</c>.</summary>
    public static void GradientSums(Tensor x, Tensor g, int rows, int channels, double[] mean, double[] sumG, double[] sumGCentred)
    {
        int blocks = Blocks(rows);
        var partial = new double[blocks * channels * 2];
        Parallelism.For(blocks, (long)BlockRows * channels, (x, g, rows, channels, mean, partial), static (b, s) =>
        {
            ReadOnlySpan<float> v = s.x.AsReadOnlySpan(), grad = s.g.AsReadOnlySpan();
            var sg = s.partial.AsSpan(b * s.channels * 2, s.channels);
            var sgc = s.partial.AsSpan(b * s.channels * 2 + s.channels, s.channels);
            int r1 = Math.Min(s.rows, (b + 1) * BlockRows);
            for (int r = b * BlockRows; r < r1; r++)
            {
                int at = r * s.channels;
                for (int c = 0; c < s.channels; c++)
                {
                    double gv = grad[at + c];
                    sg[c] += gv;
                    sgc[c] += gv * (v[at + c] - s.mean[c]);
                }
            }
        });
        for (int c = 0; c < channels; c++)
        {
            double a = 0, bsum = 0;
            for (int b = 0; b < blocks; b++)
            {
                a += partial[b * channels * 2 + c];
                bsum += partial[b * channels * 2 + channels + c];
            }
            sumG[c] = a;
            sumGCentred[c] = bsum;
        }
    }

    /// <summary><c>dx = scale·(g − meanG − (x − mean)·invStd·meanGXhat)</c> per channel.</summary>
    public static void InputGradient(Tensor x, Tensor g, Tensor dx, int rows, int channels, double[] mean, double[] invStd, double[] scale, double[] meanG, double[] meanGXhat)
    {
        Parallelism.For(Blocks(rows), (long)BlockRows * channels, (x, g, dx, rows, channels, mean, invStd, scale, meanG, meanGXhat), static (b, s) =>
        {
            ReadOnlySpan<float> v = s.x.AsReadOnlySpan(), grad = s.g.AsReadOnlySpan();
            var dst = s.dx.StorageArray.AsSpan(s.dx.StorageOffset, s.dx.Length);
            int r1 = Math.Min(s.rows, (b + 1) * BlockRows);
            for (int r = b * BlockRows; r < r1; r++)
            {
                int at = r * s.channels;
                for (int c = 0; c < s.channels; c++)
                {
                    dst[at + c] = (float)(s.scale[c] * (grad[at + c] - s.meanG[c] - (v[at + c] - s.mean[c]) * s.invStd[c] * s.meanGXhat[c]));
                }
            }
        });
    }
}
