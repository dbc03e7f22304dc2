using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Autograd;

/// <summary>
/// Row kernels that read float32 and accumulate in double (layer normalisation's statistics and gradients), vectorised
/// with <see cref="Vector{T}"/>: each float vector widens into two double vectors, so one loop serves every hardware
/// width; the tail runs the same operations on scalars. Each element's arithmetic is the scalar formula's, operation
/// for operation, so only the order of the sums depends on the width.
/// </summary>
internal static class WideRows
{
    private static int Width => Vector<float>.Count;

    private static Vector<float> Load(ReadOnlySpan<float> x, int i) => new(x.Slice(i));

    /// <summary><c>Σ x</c> in double.</summary>
    public static double Sum(ReadOnlySpan<float> x)
    {
        var acc = Vector<double>.Zero;
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var lo, out var hi);
            acc += lo + hi;
        }
        double sum = Vector.Sum(acc);
        for (; i < x.Length; i++) sum += x[i];
        return sum;
    }

    /// <summary><c>Σ (x − mean)²</c> in double.</summary>
    public static double SquaredDeviations(ReadOnlySpan<float> x, double mean)
    {
        var acc = Vector<double>.Zero;
        var m = new Vector<double>(mean);
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var lo, out var hi);
            var dl = lo - m;
            var dh = hi - m;
            acc += dl * dl + dh * dh;
        }
        double sum = Vector.Sum(acc);
        for (; i < x.Length; i++)
        {
            double d = x[i] - mean;
            sum += d * d;
        }
        return sum;
    }

    /// <summary><c>y = (float)((x − mean)·invStd·w + b)</c>.</summary>
    public static void Normalize(ReadOnlySpan<float> x, double mean, double invStd, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y)
    {
        var m = new Vector<double>(mean);
        var s = new Vector<double>(invStd);
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var xl, out var xh);
            Vector.Widen(Load(w, i), out var wl, out var wh);
            Vector.Widen(Load(b, i), out var bl, out var bh);
            Vector.Narrow((xl - m) * s * wl + bl, (xh - m) * s * wh + bh).CopyTo(y.Slice(i));
        }
        for (; i < x.Length; i++) y[i] = (float)((x[i] - mean) * invStd * w[i] + b[i]);
    }

    /// <summary><c>(Σ g·w, Σ g·w·x̂)</c> with <c>x̂ = (x − mean)·invStd</c>, in double.</summary>
    public static (double SumG, double SumGX) GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> g, ReadOnlySpan<float> w, double mean, double invStd)
    {
        var m = new Vector<double>(mean);
        var s = new Vector<double>(invStd);
        var sumG = Vector<double>.Zero;
        var sumGX = Vector<double>.Zero;
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var xl, out var xh);
            Vector.Widen(Load(g, i), out var gl, out var gh);
            Vector.Widen(Load(w, i), out var wl, out var wh);
            var a = gl * wl;
            var c = gh * wh;
            sumG += a + c;
            sumGX += a * ((xl - m) * s) + c * ((xh - m) * s);
        }
        double g1 = Vector.Sum(sumG), g2 = Vector.Sum(sumGX);
        for (; i < x.Length; i++)
        {
            double a = (double)g[i] * w[i];
            g1 += a;
            g2 += a * ((x[i] - mean) * invStd);
        }
        return (g1, g2);
    }

    /// <summary><c>dx = (float)((g·w − meanG − x̂·meanGX)·invStd)</c>.</summary>
    public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> g, ReadOnlySpan<float> w, double mean, double invStd,
        double meanG, double meanGX, Span<float> dx)
    {
        var m = new Vector<double>(mean);
        var s = new Vector<double>(invStd);
        var mg = new Vector<double>(meanG);
        var mgx = new Vector<double>(meanGX);
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var xl, out var xh);
            Vector.Widen(Load(g, i), out var gl, out var gh);
            Vector.Widen(Load(w, i), out var wl, out var wh);
            var lo = (gl * wl - mg - (xl - m) * s * mgx) * s;
            var hi = (gh * wh - mg - (xh - m) * s * mgx) * s;
            Vector.Narrow(lo, hi).CopyTo(dx.Slice(i));
        }
        for (; i < x.Length; i++)
        {
            double a = (double)g[i] * w[i];
            dx[i] = (float)((a - meanG - (x[i] - mean) * invStd * meanGX) * invStd);
        }
    }

    /// <summary><c>dw += g·x̂</c>, <c>db += g</c> over one row, in double.</summary>
    public static void AccumulateAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> g, double mean, double invStd, Span<double> dw, Span<double> db)
    {
        var m = new Vector<double>(mean);
        var s = new Vector<double>(invStd);
        int half = Vector<double>.Count;
        var dwv = MemoryMarshal.Cast<double, Vector<double>>(dw);
        var dbv = MemoryMarshal.Cast<double, Vector<double>>(db);
        int i = 0;
        for (; i <= x.Length - Width; i += Width)
        {
            Vector.Widen(Load(x, i), out var xl, out var xh);
            Vector.Widen(Load(g, i), out var gl, out var gh);
            int v = i / half;
            dwv[v] += gl * ((xl - m) * s);
            dwv[v + 1] += gh * ((xh - m) * s);
            dbv[v] += gl;
            dbv[v + 1] += gh;
        }
        for (; i < x.Length; i++)
        {
            dw[i] += g[i] * ((x[i] - mean) * invStd);
            db[i] += g[i];
        }
    }

    /// <summary>
    /// <c>sumᵢ += Σ gᵢ·(x − s)</c> in double for up to three <c>gᵢ</c> (<paramref name="g1"/>, <paramref name="g2"/>
    /// empty: absent) over rows of <c>sum0.Length</c> channels (s empty: zeros). Each strip of channels widens
    /// <c>x − s</c> once for every <c>gᵢ</c> and sums every row in registers before it goes back to the sums, rows in
    /// order, so each element gets the same operations in the same order as one row and one <c>g</c> at a time.
    /// </summary>
    public static void AccumulateDifferenceProducts(ReadOnlySpan<float> x, ReadOnlySpan<float> s,
        ReadOnlySpan<float> g0, Span<double> sum0, ReadOnlySpan<float> g1, Span<double> sum1, ReadOnlySpan<float> g2, Span<double> sum2)
    {
        int c = sum0.Length, length = c == 0 ? 0 : g0.Length / c * c, width = Vector<float>.Count, half = Vector<double>.Count, j = 0;
        bool has1 = !g1.IsEmpty, has2 = !g2.IsEmpty, shifted = !s.IsEmpty;
        var acc0 = MemoryMarshal.Cast<double, Vector<double>>(sum0);
        var acc1 = MemoryMarshal.Cast<double, Vector<double>>(sum1);
        var acc2 = MemoryMarshal.Cast<double, Vector<double>>(sum2);
        for (; j <= c - width; j += width)
        {
            int v = j / half;
            var lo0 = acc0[v];
            var hi0 = acc0[v + 1];
            var lo1 = has1 ? acc1[v] : default;
            var hi1 = has1 ? acc1[v + 1] : default;
            var lo2 = has2 ? acc2[v] : default;
            var hi2 = has2 ? acc2[v + 1] : default;
            for (int at = j; at < length; at += c)
            {
                Vector.Widen(new Vector<float>(x.Slice(at)), out var dl, out var dh);
                if (shifted)
                {
                    Vector.Widen(new Vector<float>(s.Slice(at)), out var sl, out var sh);
                    dl -= sl;
                    dh -= sh;
                }
                Vector.Widen(new Vector<float>(g0.Slice(at)), out var gl, out var gh);
                lo0 += gl * dl;
                hi0 += gh * dh;
                if (has1)
                {
                    Vector.Widen(new Vector<float>(g1.Slice(at)), out gl, out gh);
                    lo1 += gl * dl;
                    hi1 += gh * dh;
                }
                if (has2)
                {
                    Vector.Widen(new Vector<float>(g2.Slice(at)), out gl, out gh);
                    lo2 += gl * dl;
                    hi2 += gh * dh;
                }
            }
            (acc0[v], acc0[v + 1]) = (lo0, hi0);
            if (has1) (acc1[v], acc1[v + 1]) = (lo1, hi1);
            if (has2) (acc2[v], acc2[v + 1]) = (lo2, hi2);
        }
        for (; j < c; j++)
        {
            double total0 = sum0[j], total1 = has1 ? sum1[j] : 0, total2 = has2 ? sum2[j] : 0;
            for (int at = j; at < length; at += c)
            {
                double d = shifted ? (double)x[at] - s[at] : x[at];
                total0 += g0[at] * d;
                if (has1) total1 += g1[at] * d;
                if (has2) total2 += g2[at] * d;
            }
            sum0[j] = total0;
            if (has1) sum1[j] = total1;
            if (has2) sum2[j] = total2;
        }
    }
}
