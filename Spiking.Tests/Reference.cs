using System;

namespace Spiking.Tests;

/// <summary>Naive double-precision references and comparison helpers, independent of the engine's kernels.</summary>
public static class Reference
{
    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary><c>C = op(A) · op(B)</c> in double, row-major; op transposes when asked.</summary>
    public static double[] MatMul(float[] a, bool transposeA, float[] b, bool transposeB, int m, int n, int k)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transposeA ? a[p * m + i] : a[i * k + p];
                    double y = transposeB ? b[j * k + p] : b[p * n + j];
                    s += x * y;
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    /// <summary>
    /// Asserts every element is within <c>abs + rel * scale</c>, where scale is the magnitude that the
    /// float32 sum could have lost precision against (for products, the sum of |terms|).
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, ReadOnlySpan<double> scale, double rel, double abs, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = abs + rel * (scale.IsEmpty ? Math.Abs(expected[i]) : scale[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tol}).");
            }
        }
    }
}
