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

    /// <summary><c>sum += g·(x − s)</c> in double (s empty: zeros).</summary>
    public static void AccumulateDifferenceProducts(ReadOnlySpan<float> g, ReadOnlySpan<float> x, ReadOnlySpan<float> s, Span<double> sum)
    {
        int width = Vector<float>.Count, half = Vector<double>.Count, i = 0;
        var acc = MemoryMarshal.Cast<double, Vector<double>>(sum);
        for (; i <= g.Length - width; i += width)
        {
            Vector.Widen(new Vector<float>(g.Slice(i)), out var gl, out var gh);
            Vector.Widen(new Vector<float>(x.Slice(i)), out var xl, out var xh);
            if (!s.IsEmpty)
            {
                Vector.Widen(new Vector<float>(s.Slice(i)), out var sl, out var sh);
                xl -= sl;
                xh -= sh;
            }
            acc[i / half] += gl * xl;
            acc[i / half + 1] += gh * xh;
        }
        for (; i < g.Length; i++) sum[i] += (double)g[i] * (s.IsEmpty ? x[i] : (double)x[i] - s[i]);
    }
}
