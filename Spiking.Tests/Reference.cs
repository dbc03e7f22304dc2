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

    /// <summary>The multi-index of row-major element <paramref name="flat"/> of a shape with <paramref name="dims"/>.</summary>
    public static int[] Unravel(int flat, int[] dims)
    {
        var index = new int[dims.Length];
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            index[a] = flat % dims[a];
            flat /= dims[a];
        }
        return index;
    }

    /// <summary>The row-major position of <paramref name="index"/> in a shape with <paramref name="dims"/>.</summary>
    public static int Ravel(int[] index, int[] dims)
    {
        int flat = 0;
        for (int a = 0; a < dims.Length; a++) flat = flat * dims[a] + index[a];
        return flat;
    }

    /// <summary>The element count of <paramref name="dims"/> (1 for a scalar).</summary>
    public static int Count(int[] dims)
    {
        int n = 1;
        foreach (int d in dims) n *= d;
        return n;
    }

    /// <summary>A binary op under NumPy broadcasting, in double, by walking every output multi-index.</summary>
    public static (int[] Dims, double[] Values) Broadcast(float[] x, int[] xd, float[] y, int[] yd, Func<double, double, double> op)
    {
        int rank = Math.Max(xd.Length, yd.Length);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int a = i < rank - xd.Length ? 1 : xd[i - (rank - xd.Length)];
            int b = i < rank - yd.Length ? 1 : yd[i - (rank - yd.Length)];
            dims[i] = a == 1 ? b : a;
        }
        var values = new double[Count(dims)];
        for (int flat = 0; flat < values.Length; flat++)
        {
            var index = Unravel(flat, dims);
            values[flat] = op(x[Gather(index, xd)], y[Gather(index, yd)]);
        }
        return (dims, values);
    }

    /// <summary><c>condition ≠ 0 ? a : b</c> under NumPy broadcasting of all three, in double, by walking every output multi-index.</summary>
    public static (int[] Dims, double[] Values) Where(float[] condition, int[] cd, float[] a, int[] ad, float[] b, int[] bd)
    {
        int rank = Math.Max(cd.Length, Math.Max(ad.Length, bd.Length));
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            dims[i] = 1;
            foreach (var d in new[] { cd, ad, bd })
            {
                int k = i - (rank - d.Length);
                if (k >= 0 && d[k] != 1) dims[i] = d[k];
            }
        }
        var values = new double[Count(dims)];
        for (int flat = 0; flat < values.Length; flat++)
        {
            var index = Unravel(flat, dims);
            values[flat] = condition[Gather(index, cd)] != 0 ? a[Gather(index, ad)] : b[Gather(index, bd)];
        }
        return (dims, values);
    }

    /// <summary>
    /// <paramref name="values"/> (of <paramref name="dims"/>) summed down to <paramref name="to"/>, which broadcasts to
    /// them, in double; with the sum of |terms| of each output as its error scale.
    /// </summary>
    public static (double[] Values, double[] Scale) SumTo(double[] values, int[] dims, int[] to)
    {
        var sum = new double[Count(to)];
        var scale = new double[sum.Length];
        for (int flat = 0; flat < values.Length; flat++)
        {
            int at = Gather(Unravel(flat, dims), to);
            sum[at] += values[flat];
            scale[at] += Math.Abs(values[flat]);
        }
        return (sum, scale);
    }

    /// <summary>Elements <c>[start, start + length)</c> along <paramref name="axis"/>, every other axis whole, by walking every output index.</summary>
    public static (int[] Dims, float[] Values) Narrow(float[] x, int[] dims, int axis, int start, int length)
    {
        var outDims = (int[])dims.Clone();
        outDims[axis] = length;
        var y = new float[Count(outDims)];
        for (int flat = 0; flat < y.Length; flat++)
        {
            var index = Unravel(flat, outDims);
            index[axis] += start;
            y[flat] = x[Ravel(index, dims)];
        }
        return (outDims, y);
    }

    /// <summary>A zero tensor of <paramref name="dims"/> with <paramref name="slice"/> placed at <c>[start, start + length)</c> along <paramref name="axis"/>.</summary>
    public static float[] Scatter(float[] slice, int[] dims, int axis, int start, int length)
    {
        var sliceDims = (int[])dims.Clone();
        sliceDims[axis] = length;
        var y = new float[Count(dims)];
        for (int flat = 0; flat < slice.Length; flat++)
        {
            var index = Unravel(flat, sliceDims);
            index[axis] += start;
            y[Ravel(index, dims)] = slice[flat];
        }
        return y;
    }

    /// <summary>Inputs of <paramref name="dims"/> joined along a new axis <paramref name="axis"/> (in <c>[0, rank]</c>), element by element.</summary>
    public static (int[] Dims, float[] Values) Stack(float[][] xs, int[] dims, int axis)
    {
        var outDims = new int[dims.Length + 1];
        for (int d = 0, k = 0; d < outDims.Length; d++) outDims[d] = d == axis ? xs.Length : dims[k++];
        var y = new float[Count(outDims)];
        var inner = new int[dims.Length];
        for (int flat = 0; flat < y.Length; flat++)
        {
            var index = Unravel(flat, outDims);
            for (int d = 0, k = 0; d < index.Length; d++)
            {
                if (d != axis) inner[k++] = index[d];
            }
            y[flat] = xs[index[axis]][Ravel(inner, dims)];
        }
        return (outDims, y);
    }

    /// <summary>The position in an operand of shape <paramref name="dims"/> broadcast to the output index <paramref name="index"/>.</summary>
    private static int Gather(int[] index, int[] dims)
    {
        int offset = index.Length - dims.Length, flat = 0;
        for (int a = 0; a < dims.Length; a++) flat = flat * dims[a] + (dims[a] == 1 ? 0 : index[a + offset]);
        return flat;
    }

    /// <summary><c>y[i0.., ] = x[index with axis k of y taken from axes[k] of x]</c>: a permutation, element by element.</summary>
    public static float[] Permute(float[] x, int[] dims, int[] axes)
    {
        var outDims = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++) outDims[i] = dims[axes[i]];
        var y = new float[x.Length];
        var src = new int[dims.Length];
        for (int flat = 0; flat < y.Length; flat++)
        {
            var index = Unravel(flat, outDims);
            for (int i = 0; i < dims.Length; i++) src[axes[i]] = index[i];
            y[flat] = x[Ravel(src, dims)];
        }
        return y;
    }

    /// <summary>Softmax (or log-softmax) along <paramref name="axis"/> in double, straight from the definition with a max shift.</summary>
    public static double[] Softmax(float[] x, int[] dims, int axis, bool log)
    {
        var y = new double[x.Length];
        int n = dims[axis];
        var index = new int[dims.Length];
        for (int flat = 0; flat < x.Length; flat++)
        {
            var at = Unravel(flat, dims);
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++)
            {
                at.CopyTo(index, 0);
                index[axis] = j;
                max = Math.Max(max, x[Ravel(index, dims)]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                index[axis] = j;
                sum += Math.Exp(x[Ravel(index, dims)] - max);
            }
            y[flat] = log ? x[flat] - max - Math.Log(sum) : Math.Exp(x[flat] - max) / sum;
        }
        return y;
    }

    /// <summary>Mean cross-entropy of <c>[b, c]</c> logits against labels, in double.</summary>
    public static double CrossEntropy(float[] logits, int b, int c, int[] labels)
    {
        double total = 0;
        for (int r = 0; r < b; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < c; j++) max = Math.Max(max, logits[r * c + j]);
            double sum = 0;
            for (int j = 0; j < c; j++) sum += Math.Exp(logits[r * c + j] - max);
            total += -(logits[r * c + labels[r]] - max - Math.Log(sum));
        }
        return total / b;
    }

    /// <summary>Concatenation along <paramref name="axis"/> in double, by locating each output index in its input.</summary>
    public static (int[] Dims, float[] Values) Concat(float[][] xs, int[][] dims, int axis)
    {
        var outDims = (int[])dims[0].Clone();
        outDims[axis] = 0;
        foreach (var d in dims) outDims[axis] += d[axis];
        var y = new float[Count(outDims)];
        for (int flat = 0; flat < y.Length; flat++)
        {
            var index = Unravel(flat, outDims);
            int i = 0;
            while (index[axis] >= dims[i][axis])
            {
                index[axis] -= dims[i][axis];
                i++;
            }
            y[flat] = xs[i][Ravel(index, dims[i])];
        }
        return (outDims, y);
    }
    /// <summary>
    /// Naive double <c>(Q·Kᵀ)·V</c> per head of <c>[heads, l, d]</c> operands, before the scale, with query i seeing
    /// only keys j ≤ i when <paramref name="causal"/>; and the sum of the absolute values of its terms (the
    /// magnitude float rounding works against).
    /// </summary>
    public static (double[] Sums, double[] Magnitude) Attention(float[] q, float[] k, float[] v, int heads, int l, int d, bool causal)
    {
        var sums = new double[heads * l * d];
        var magnitude = new double[sums.Length];
        for (int head = 0; head < heads; head++)
        {
            int o = head * l * d;
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j < (causal ? i + 1 : l); j++)
                {
                    double a = 0, absA = 0;
                    for (int e = 0; e < d; e++)
                    {
                        a += (double)q[o + i * d + e] * k[o + j * d + e];
                        absA += Math.Abs((double)q[o + i * d + e] * k[o + j * d + e]);
                    }
                    for (int e = 0; e < d; e++)
                    {
                        sums[o + i * d + e] += a * v[o + j * d + e];
                        magnitude[o + i * d + e] += absA * Math.Abs(v[o + j * d + e]);
                    }
                }
            }
        }
        return (sums, magnitude);
    }

    /// <summary>Naive double dQ, dK, dV of <c>s·(Q·Kᵀ)·V</c> (masked to j ≤ i when <paramref name="causal"/>) for output gradient G.</summary>
    public static double[][] AttentionGradients(float[] q, float[] k, float[] v, float[] g, int heads, int l, int d, double scale, bool causal)
    {
        int count = heads * l * d;
        double[] dq = new double[count], dk = new double[count], dv = new double[count];
        for (int head = 0; head < heads; head++)
        {
            int o = head * l * d;
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j < (causal ? i + 1 : l); j++)
                {
                    double a = 0, da = 0;
                    for (int e = 0; e < d; e++)
                    {
                        a += (double)q[o + i * d + e] * k[o + j * d + e];
                        da += scale * g[o + i * d + e] * v[o + j * d + e];
                    }
                    for (int e = 0; e < d; e++)
                    {
                        dv[o + j * d + e] += scale * a * g[o + i * d + e];
                        dq[o + i * d + e] += da * k[o + j * d + e];
                        dk[o + j * d + e] += da * q[o + i * d + e];
                    }
                }
            }
        }
        return [dq, dk, dv];
    }
}
