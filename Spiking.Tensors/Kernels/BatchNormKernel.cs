using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Batch normalisation's per-row loops, vectorised: floats are widened to doubles a vector at a time so the
/// statistics accumulate in double and every element is computed in double as the plain loops do, which makes
/// the elementwise results bitwise those of the references beside them (the sums differ only in order).
/// </summary>
internal static class BatchNormKernel
{
    /// <summary><c>(Σ (x − shift), Σ (x − shift)²)</c> in double.</summary>
    public static (double Sum, double Squares) ShiftedSums(ReadOnlySpan<float> x, double shift)
    {
        int i = 0;
        double sum = 0, squares = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var k = new Vector<double>(shift);
            Vector<double> s0 = Vector<double>.Zero, s1 = Vector<double>.Zero, q0 = Vector<double>.Zero, q1 = Vector<double>.Zero;
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            foreach (var v in xv)
            {
                Vector.Widen(v, out var lo, out var hi);
                lo -= k;
                hi -= k;
                s0 += lo;
                s1 += hi;
                q0 += lo * lo;
                q1 += hi * hi;
            }
            sum = Vector.Sum(s0 + s1);
            squares = Vector.Sum(q0 + q1);
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
        {
            double d = x[i] - shift;
            sum += d;
            squares += d * d;
        }
        return (sum, squares);
    }

    /// <summary>The plain version of <see cref="ShiftedSums"/>.</summary>
    public static (double Sum, double Squares) ShiftedSumsReference(ReadOnlySpan<float> x, double shift)
    {
        double sum = 0, squares = 0;
        foreach (float e in x)
        {
            sum += e - shift;
            squares += (e - shift) * (e - shift);
        }
        return (sum, squares);
    }

    /// <summary><c>y = (float)((x − mean)·scale + shift)</c>.</summary>
    public static void Normalize(ReadOnlySpan<float> x, double mean, double scale, double shift, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            Vector<double> m = new(mean), a = new(scale), b = new(shift);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int j = 0; j < xv.Length; j++)
            {
                Vector.Widen(xv[j], out var lo, out var hi);
                yv[j] = Vector.Narrow((lo - m) * a + b, (hi - m) * a + b);
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) y[i] = (float)((x[i] - mean) * scale + shift);
    }

    /// <summary>The plain version of <see cref="Normalize"/>.</summary>
    public static void NormalizeReference(ReadOnlySpan<float> x, double mean, double scale, double shift, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)((x[i] - mean) * scale + shift);
    }

    /// <summary><c>(Σ g, Σ g·(x − mean))</c> in double.</summary>
    public static (double SumG, double SumGCentred) GradientSums(ReadOnlySpan<float> g, ReadOnlySpan<float> x, double mean)
    {
        int i = 0;
        double sumG = 0, sumGc = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var m = new Vector<double>(mean);
            Vector<double> s0 = Vector<double>.Zero, s1 = Vector<double>.Zero, c0 = Vector<double>.Zero, c1 = Vector<double>.Zero;
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int j = 0; j < xv.Length; j++)
            {
                Vector.Widen(xv[j], out var xlo, out var xhi);
                Vector.Widen(gv[j], out var glo, out var ghi);
                s0 += glo;
                s1 += ghi;
                c0 += glo * (xlo - m);
                c1 += ghi * (xhi - m);
            }
            sumG = Vector.Sum(s0 + s1);
            sumGc = Vector.Sum(c0 + c1);
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
        {
            sumG += g[i];
            sumGc += g[i] * (x[i] - mean);
        }
        return (sumG, sumGc);
    }

    /// <summary>The plain version of <see cref="GradientSums"/>.</summary>
    public static (double SumG, double SumGCentred) GradientSumsReference(ReadOnlySpan<float> g, ReadOnlySpan<float> x, double mean)
    {
        double sumG = 0, sumGc = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sumG += g[i];
            sumGc += g[i] * (x[i] - mean);
        }
        return (sumG, sumGc);
    }

    /// <summary><c>dx = (float)(scale·(g − meanG − (x − mean)·invStd·meanGXhat))</c>.</summary>
    public static void InputGradient(ReadOnlySpan<float> g, ReadOnlySpan<float> x, double mean, double invStd, double scale, double meanG, double meanGXhat, Span<float> dx)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            Vector<double> m = new(mean), inv = new(invStd), a = new(scale), mg = new(meanG), mgx = new(meanGXhat);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(dx);
            for (int j = 0; j < xv.Length; j++)
            {
                Vector.Widen(xv[j], out var xlo, out var xhi);
                Vector.Widen(gv[j], out var glo, out var ghi);
                dv[j] = Vector.Narrow(a * (glo - mg - (xlo - m) * inv * mgx), a * (ghi - mg - (xhi - m) * inv * mgx));
            }
            i = xv.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) dx[i] = (float)(scale * (g[i] - meanG - (x[i] - mean) * invStd * meanGXhat));
    }

    /// <summary>The plain version of <see cref="InputGradient"/>.</summary>
    public static void InputGradientReference(ReadOnlySpan<float> g, ReadOnlySpan<float> x, double mean, double invStd, double scale, double meanG, double meanGXhat, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = (float)(scale * (g[i] - meanG - (x[i] - mean) * invStd * meanGXhat));
    }
}
