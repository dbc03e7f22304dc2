using System;

namespace Spiking.Autograd;

/// <summary>
/// Learned step size quantization of weights (LSQ, Esser et al., ICLR 2020) as the QSD-Transformer's
/// <c>Conv2dLSQ</c> applies it, per output channel: the codes <c>q = round(clamp(w/α, Qn, Qp))</c> (round half to
/// even, as <c>torch.round</c>) with <c>Qn = −2^(b−1)</c>, <c>Qp = 2^(b−1) − 1</c>, the gradient scale
/// <c>g = 1/√(numel(w)·Qp)</c> and the step's first value <c>2·mean|w|/√Qp</c>. The formulas live here once; the op
/// (<see cref="Functional.LsqProduct"/>), the layers and the export of integer codes all call them.
/// </summary>
public static class Lsq
{
    /// <summary>The smallest code of a <paramref name="bits"/>-bit weight, <c>Qn = −2^(bits−1)</c> (−8 or −128).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    public static int MinCode(int bits) => -(1 << (CheckBits(bits, nameof(bits)) - 1));

    /// <summary>The largest code of a <paramref name="bits"/>-bit weight, <c>Qp = 2^(bits−1) − 1</c> (7 or 127).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    public static int MaxCode(int bits) => (1 << (CheckBits(bits, nameof(bits)) - 1)) - 1;

    /// <summary>
    /// Returns <paramref name="bits"/> when it is a width the QSD-Transformer quantizes weights to (4 or 8: codes that
    /// fit a signed byte, which the integer kernels read).
    /// </summary>
    /// <param name="bits">The weight width.</param>
    /// <param name="paramName">The argument named in the error.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    public static int CheckBits(int bits, string paramName) => bits is 4 or 8
        ? bits
        : throw new ArgumentOutOfRangeException(paramName, bits,
            $"LSQ weight quantization takes 4 bits (codes -8..7) or 8 bits (codes -128..127), the QSD-Transformer's widths; got {bits}.");

    /// <summary>The LSQ gradient scale of the step, <c>g = 1/√(numel(w)·Qp)</c>, for a weight of <paramref name="elements"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="elements"/> is not positive, or <paramref name="bits"/> is not 4 or 8.</exception>
    public static double GradScale(long elements, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(elements);
        return 1.0 / Math.Sqrt((double)elements * MaxCode(bits));
    }

    /// <summary>
    /// The step every channel starts from, <c>2·mean|w|/√Qp</c> over the whole weight (one value, as the official
    /// code's <c>alpha.data.copy_</c> broadcasts it); the mean is summed in double, in order.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    public static float InitialStep(ReadOnlySpan<float> weight, int bits)
    {
        if (weight.IsEmpty) throw new ArgumentException("LSQ's initial step needs a non-empty weight.", nameof(weight));
        double sum = 0;
        foreach (float w in weight) sum += Math.Abs(w);
        return (float)(2.0 * (sum / weight.Length) / Math.Sqrt(MaxCode(bits)));
    }

    /// <summary>
    /// The codes of <paramref name="weight"/>, <c>[O, …]</c> flattened to O rows, with row o's step
    /// <paramref name="steps"/>[o]: <c>round(clamp(w/α, Qn, Qp))</c>, the quotient rounded to float32 as PyTorch's
    /// <c>weight / alpha</c> is, integers as floats.
    /// </summary>
    /// <exception cref="ArgumentException">The weight is not O whole rows, or the codes' length differs from the weight's.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    public static void Codes(ReadOnlySpan<float> weight, ReadOnlySpan<float> steps, int bits, Span<float> codes)
    {
        int row = RowLength(weight.Length, steps.Length);
        if (codes.Length != weight.Length)
        {
            throw new ArgumentException($"LSQ codes: the destination holds {codes.Length} values for a weight of {weight.Length}.", nameof(codes));
        }
        float qn = MinCode(bits), qp = MaxCode(bits);
        for (int o = 0; o < steps.Length; o++)
        {
            float step = steps[o];
            var w = weight.Slice(o * row, row);
            var q = codes.Slice(o * row, row);
            for (int k = 0; k < w.Length; k++) q[k] = Code(w[k] / step, qn, qp);
        }
    }

    /// <summary>One code from the float32 quotient <c>u = w/α</c>.</summary>
    internal static float Code(float u, float qn, float qp) => MathF.Round(Math.Clamp(u, qn, qp), MidpointRounding.ToEven);

    /// <summary>The length of one output channel's row of a weight of <paramref name="length"/> values over <paramref name="channels"/> steps.</summary>
    internal static int RowLength(int length, int channels)
    {
        if (channels <= 0 || length % channels != 0)
        {
            throw new ArgumentException(
                $"LSQ: a weight of {length} values does not split into {channels} output channels, one step each.", nameof(channels));
        }
        return length / channels;
    }
}
