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

    /// <summary>Asserts the two arrays hold the same float bit patterns (so -0 differs from +0 and NaNs compare by payload).</summary>
    public static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected exactly {expected[i]}.");
            }
        }
    }

    /// <summary>Asserts each float equals the double rounded to float (NaN matches NaN).</summary>
    public static void AssertRounded(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
        for (int i = 0; i < expected.Length; i++)
        {
            float e = (float)expected[i];
            if (!(e == actual[i] || (float.IsNaN(e) && float.IsNaN(actual[i]))))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {e}.");
            }
        }
    }

    /// <summary>Packs a row-major <c>[rows, cols]</c> boolean matrix bit by bit: LSB first, rows padded to whole words with zeros.</summary>
    public static ulong[] Pack(ReadOnlySpan<bool> bits, int rows, int cols)
    {
        int wpr = (cols + 63) / 64;
        var words = new ulong[rows * wpr];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                if (bits[r * cols + c]) words[r * wpr + c / 64] |= 1UL << (c % 64);
            }
        }
        return words;
    }

    /// <summary>Packs a 0/1 float matrix (non-zero is a spike).</summary>
    public static ulong[] Pack(ReadOnlySpan<float> dense, int rows, int cols)
    {
        var bits = new bool[dense.Length];
        for (int i = 0; i < bits.Length; i++) bits[i] = dense[i] != 0;
        return Pack(bits, rows, cols);
    }

    /// <summary>Bit <c>(r, c)</c> of a packed matrix whose rows have <paramref name="cols"/> bits.</summary>
    public static bool Bit(ReadOnlySpan<ulong> words, int cols, int r, int c) => ((words[r * ((cols + 63) / 64) + c / 64] >> (c % 64)) & 1) != 0;

    /// <summary>
    /// <c>Y[m, n] = Σ_k S[m, k]·W[n, k] + b[n]</c> in double, with the sum of |terms| of each output as its error scale.
    /// <paramref name="spikes"/> is a 0/1 <c>[m, k]</c> matrix and <paramref name="weight"/> is <c>[n, k]</c>.
    /// </summary>
    public static (double[] Values, double[] Scale) SpikeForward(float[] spikes, float[] weight, float[]? bias, int m, int k, int n)
    {
        var y = new double[m * n];
        var scale = new double[m * n];
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = bias is null ? 0 : bias[j];
                double a = bias is null ? 0 : Math.Abs(bias[j]);
                for (int c = 0; c < k; c++)
                {
                    double term = (double)spikes[r * k + c] * weight[j * k + c];
                    s += term;
                    a += Math.Abs(term);
                }
                y[r * n + j] = s;
                scale[r * n + j] = a;
            }
        }
        return (y, scale);
    }

    /// <summary><c>dW[n, k] = Σ_m G[m, n]·S[m, k]</c> in double with the sum of |terms| as error scale.</summary>
    public static (double[] Values, double[] Scale) SpikeWeightGradient(float[] gradOutput, float[] spikes, int m, int k, int n)
    {
        var dw = new double[n * k];
        var scale = new double[n * k];
        for (int j = 0; j < n; j++)
        {
            for (int c = 0; c < k; c++)
            {
                double s = 0, a = 0;
                for (int r = 0; r < m; r++)
                {
                    double term = (double)gradOutput[r * n + j] * spikes[r * k + c];
                    s += term;
                    a += Math.Abs(term);
                }
                dw[j * k + c] = s;
                scale[j * k + c] = a;
            }
        }
        return (dw, scale);
    }

    /// <summary>The shape of <paramref name="dims"/> without <paramref name="axis"/>, or with it set to 1.</summary>
    public static int[] Reduced(int[] dims, int axis, bool keepDim)
    {
        var list = new System.Collections.Generic.List<int>(dims);
        if (keepDim) list[axis] = 1;
        else list.RemoveAt(axis);
        return list.ToArray();
    }

    /// <summary>
    /// Reduces along <paramref name="axis"/> in double by walking every element's multi-index; returns the values in
    /// row-major order of the reduced shape and, per output, the sum of |x| over the reduced elements.
    /// </summary>
    public static (double[] Values, double[] Scale) ReduceAxis(float[] x, int[] dims, int axis, Func<double, double, double> combine)
    {
        var outDims = Reduced(dims, axis, keepDim: true);
        int count = 1;
        foreach (int d in outDims) count *= d;
        var values = new double[count];
        var scale = new double[count];
        var seen = new bool[count];
        var index = new int[dims.Length];
        for (int flat = 0; flat < x.Length; flat++)
        {
            int rest = flat;
            for (int a = dims.Length - 1; a >= 0; a--)
            {
                index[a] = rest % dims[a];
                rest /= dims[a];
            }
            int o = 0;
            for (int a = 0; a < dims.Length; a++) o = o * outDims[a] + (a == axis ? 0 : index[a]);
            values[o] = seen[o] ? combine(values[o], x[flat]) : x[flat];
            scale[o] += Math.Abs(x[flat]);
            seen[o] = true;
        }
        return (values, scale);
    }
}
