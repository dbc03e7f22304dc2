using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The one float step of an integer layer, <c>y = acc·scale + bias</c>, applied once to each finished int32 sum: the
/// sum converted to float (round to nearest, as a cast), one float multiply, then one float add, never fused, so a
/// vector lane and <see cref="QuantizedReference.Epilogue"/> give the same bits. With no bias the product is the result
/// (adding +0 would turn a −0 into +0).
/// </summary>
internal static class QuantizedEpilogue
{
    /// <summary>One output: <c>sum·scale</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(int sum, float scale) => sum * scale;

    /// <summary>One output: <c>sum·scale + bias</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(int sum, float scale, float bias) => sum * scale + bias;

    /// <summary><c>output[j] = sums[j]·scales[j] (+ bias[j])</c> for <paramref name="count"/> contiguous outputs; <paramref name="bias"/> may be null.</summary>
    public static unsafe void Row(int* sums, float* scales, float* bias, float* output, int count)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= count; j += 8)
            {
                var v = Vector256.ConvertToSingle(Vector256.Load(sums + j)) * Vector256.Load(scales + j);
                if (bias != null) v += Vector256.Load(bias + j);
                v.Store(output + j);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; j + 4 <= count; j += 4)
            {
                var v = Vector128.ConvertToSingle(Vector128.Load(sums + j)) * Vector128.Load(scales + j);
                if (bias != null) v += Vector128.Load(bias + j);
                v.Store(output + j);
            }
        }
        for (; j < count; j++) output[j] = bias != null ? Apply(sums[j], scales[j], bias[j]) : Apply(sums[j], scales[j]);
    }

    /// <summary>
    /// <c>count</c> outputs of one row of sums into channel-major <c>output[image, channel, position]</c>, output
    /// row r being position <c>r mod positions</c> of image <c>r / positions</c>: a convolution's NCHW output.
    /// <paramref name="scales"/>, <paramref name="bias"/> and <paramref name="output"/> point at the first column's.
    /// </summary>
    public static unsafe void Strided(int* sums, float* scales, float* bias, float* output, long stride, int count)
    {
        for (int j = 0; j < count; j++)
        {
            output[j * stride] = bias != null ? Apply(sums[j], scales[j], bias[j]) : Apply(sums[j], scales[j]);
        }
    }
}

/// <summary>
/// Where a kernel's finished sums go: raw into <see cref="Sums"/> <c>[rows, Width]</c> when it is set, else through
/// <see cref="QuantizedEpilogue"/> into <see cref="Output"/>, row-major <c>[rows, Width]</c> or, when
/// <see cref="Positions"/> is positive, channel-major <c>[rows / Positions, Width, Positions]</c>.
/// </summary>
internal unsafe struct QuantizedOutput
{
    public int* Sums;
    public float* Output;
    public float* Scales;
    public float* Bias;
    public int Width;
    public int Positions;

    /// <summary>Writes the sums of row <paramref name="row"/>, columns <c>[j0, j0 + count)</c>.</summary>
    public readonly void Write(int* rowSums, int row, int j0, int count)
    {
        float* bias = Bias == null ? null : Bias + j0;
        if (Sums != null)
        {
            new ReadOnlySpan<int>(rowSums, count).CopyTo(new Span<int>(Sums + (long)row * Width + j0, count));
        }
        else if (Positions > 0)
        {
            float* o = Output + ((long)(row / Positions) * Width + j0) * Positions + row % Positions;
            QuantizedEpilogue.Strided(rowSums, Scales + j0, bias, o, Positions, count);
        }
        else
        {
            QuantizedEpilogue.Row(rowSums, Scales + j0, bias, Output + (long)row * Width + j0, count);
        }
    }
}
