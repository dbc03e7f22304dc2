using System;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// What an integer engine needs of an LSQ layer (<see cref="LsqLayer.ExportCodes"/>): the weight's integer codes in
/// the weight's layout, one step per output channel, and the bias. The layer computes
/// <c>y[o] = α[o]·Σ q[o, …]·x + bias[o]</c>, the product first, then the scale, then the bias.
/// </summary>
/// <param name="Shape">The weight's shape <c>[O, …]</c> (PyTorch's layout).</param>
/// <param name="Codes">The codes, row-major in <paramref name="Shape"/>, each in <c>[Qn, Qp]</c> (−8..7 or −128..127).</param>
/// <param name="Scales">The step α of each of the O output channels.</param>
/// <param name="Bias">The bias <c>[O]</c>, or null.</param>
/// <param name="Bits">The width, 4 or 8.</param>
public sealed record QuantizedWeights(Shape Shape, sbyte[] Codes, float[] Scales, float[]? Bias, int Bits)
{
    /// <summary>Output channels, O.</summary>
    public int OutChannels => Scales.Length;

    /// <summary>Codes per output channel (the product of the weight's other axes).</summary>
    public int RowLength => Codes.Length / Math.Max(1, Scales.Length);
}
