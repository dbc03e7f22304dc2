using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The QSD-Transformer's <c>Conv1dLSQ</c> as its MLP uses it (<c>fc1_conv</c>, <c>fc2_conv</c>): a kernel-1,
/// stride-1 1-D convolution, i.e. a linear map of the channels at every position, whose weight <c>[O, C, 1]</c> is
/// quantized by LSQ per output channel (<see cref="LsqLayer"/>); the bias is on by default, as <c>nn.Conv1d</c>'s.
/// Input <c>[…, C, N]</c> (channels before tokens, as the official <c>[T·B, C, N]</c>): the leading axes fold into
/// the batch and come back on the output <c>[…, O, N]</c>.
/// </summary>
public sealed class LsqConv1d : LsqLayer
{
    /// <summary>A kernel-1 convolution initialised as PyTorch's <c>nn.Conv1d</c> (bound <c>1/√C</c>), with <paramref name="bits"/>-bit weights.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is not positive, or <paramref name="bits"/> is not 4 or 8.</exception>
    public LsqConv1d(int inChannels, int outChannels, bool bias = true, int bits = 4, PhiloxGenerator? generator = null)
        : base(new Shape(Positive(outChannels, nameof(outChannels)), Positive(inChannels, nameof(inChannels)), 1), inChannels, inChannels, bias, bits, generator)
    {
        (InChannels, OutChannels) = (inChannels, outChannels);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[…, C, N]</c> with C input channels and at least one leading axis.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank < 3 || shape[-2] != InChannels)
        {
            throw new ArgumentException($"LsqConv1d({InChannels}→{OutChannels}) needs an input of [..., {InChannels}, N] (such as [T·B, C, N]); it has shape {shape}.", nameof(input));
        }
        int batch = shape.ProductOfLeading(shape.Rank - 2), tokens = shape[-1];
        // A kernel-1 convolution over N positions is a 1×1 convolution over an N×1 image.
        var folded = Functional.Reshape(input, batch, InChannels, tokens, 1);
        var y = IntegerCounts(input, out float unit) is { } counts ? Integer(counts, unit, batch, tokens)
            : Quantized(q => Functional.Conv2d(folded, Functional.Reshape(q, OutChannels, InChannels, 1, 1)), outputAxis: 1);
        if (Operations.Enabled) Operations.CountFullyConnected(input, OutChannels);
        var dims = shape.Dimensions.ToArray();
        dims[^2] = OutChannels;
        return Functional.Reshape(y, dims);
    }

    private Variable Integer(byte[] counts, float unit, int batch, int tokens)
    {
        try
        {
            // The 1×1 convolution over N×1 images, its weight [O, C, 1] taken as [O, C, 1, 1].
            var kernel = IntegerKernel(unit, static (weight, bias) => Quantization.QuantizedWeight.FromCodes(weight.Codes(), new Shape(weight.Shape[0], weight.Shape[1], 1, 1), weight.Bits, weight.Scales.Span)
                .ToConvKernel(stride: 1, padding: 0, bias));
            var y = Tensor.Empty(new Shape(batch, OutChannels, tokens, 1));
            kernel.Forward(counts.AsSpan(0, batch * InChannels * tokens), batch, tokens, 1, y.AsSpan());
            return Variable.Constant(y);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(counts);
        }
    }
}
