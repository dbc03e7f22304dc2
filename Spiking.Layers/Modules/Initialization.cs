using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Weight initialisations as PyTorch's: the default of Linear and Conv2d (<c>kaiming_uniform_(a=√5)</c>, which
/// comes to <c>U(−1/√fan_in, 1/√fan_in)</c> for weights and biases alike) and <c>orthogonal_</c>, drawn from a Philox
/// generator so that a seed builds the same model on every machine and thread count.
/// </summary>
public static class Initialization
{
    /// <summary>Fills <paramref name="destination"/> from <c>U(−1/√fanIn, 1/√fanIn)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanIn"/> is not positive.</exception>
    public static void FanInUniform(Tensor destination, int fanIn, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        float bound = 1f / MathF.Sqrt(fanIn);
        var span = destination.AsSpan();
        generator.FillUniform(span);
        for (int i = 0; i < span.Length; i++) span[i] = (2f * span[i] - 1f) * bound;
    }

    /// <summary>
    /// PyTorch's <c>nn.init.orthogonal_(destination, gain)</c>: the first axis is the rows, the rest fold into
    /// columns; a matrix of standard normal draws is orthonormalised (its Q factor, with the signs that make R's
    /// diagonal positive) and scaled by <paramref name="gain"/>, so the rows (when there are no more rows than columns)
    /// or else the columns are orthogonal with norm <paramref name="gain"/>. A gain of 0 gives zeros.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has fewer than two axes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gain"/> is not finite.</exception>
    public static void Orthogonal(Tensor destination, double gain, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(generator);
        if (destination.Rank < 2)
        {
            throw new ArgumentException($"An orthogonal matrix needs at least two axes; 'destination' has shape {destination.Shape}.", nameof(destination));
        }
        if (!double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "The gain must be finite.");
        var w = destination.AsSpan();
        int rows = destination.Shape[0], columns = w.Length / rows;
        generator.FillNormal(w);
        // Orthonormalise the columns of the tall orientation (m ≥ n): W itself, or Wᵀ when W is wide.
        bool wide = rows < columns;
        int m = wide ? columns : rows, n = wide ? rows : columns;
        var q = new double[n * m];
        for (int j = 0; j < n; j++)
        {
            var column = q.AsSpan(j * m, m);
            for (int i = 0; i < m; i++) column[i] = wide ? w[j * columns + i] : w[i * columns + j];
            // Modified Gram-Schmidt, twice: one pass leaves an error that grows with the condition number, two bring
            // orthogonality to double rounding (Giraud et al., "twice is enough").
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < j; k++)
                {
                    var basis = q.AsSpan(k * m, m);
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += basis[i] * column[i];
                    for (int i = 0; i < m; i++) column[i] -= dot * basis[i];
                }
            }
            double norm = 0;
            foreach (double x in column) norm += x * x;
            norm = Math.Sqrt(norm);
            for (int i = 0; i < m; i++) column[i] /= norm;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                w[r * columns + c] = (float)(gain * (wide ? q[r * m + c] : q[c * m + r]));
            }
        }
    }
}
