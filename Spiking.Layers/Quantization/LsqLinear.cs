using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The QSD-Transformer's <c>LinearLSQ</c> (its classification head): <c>y = x·Wᵀ + b</c> over <c>[…, in]</c> with a
/// weight <c>[out, in]</c> quantized by LSQ per output feature (<see cref="LsqLayer"/>; the official
/// <c>_LinearQ</c> in <c>kernel_wise</c> mode has <c>alpha</c> <c>[out]</c> and the same <c>init_state</c> and
/// <c>act.*</c> entries as the convolutions). The bias is on by default, as <c>nn.Linear</c>'s.
/// </summary>
public sealed class LsqLinear : LsqLayer
{
    /// <summary>A layer initialised as PyTorch's <c>nn.Linear</c> (bound <c>1/√in</c>), with <paramref name="bits"/>-bit weights.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A feature count is not positive, or <paramref name="bits"/> is not 4 or 8.</exception>
    public LsqLinear(int inFeatures, int outFeatures, bool bias = true, int bits = 4, PhiloxGenerator? generator = null)
        : base(new Shape(Positive(outFeatures, nameof(outFeatures)), Positive(inFeatures, nameof(inFeatures))), inFeatures, inFeatures, bias, bits, generator)
    {
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The last axis of the input is not <see cref="InFeatures"/> long.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank == 0 || input.Shape[-1] != InFeatures)
        {
            throw new ArgumentException($"LsqLinear({InFeatures}→{OutFeatures}) needs an input of [..., {InFeatures}]; it has shape {input.Shape}.", nameof(input));
        }
        var y = IntegerCounts(input, out float unit) is { } counts ? Integer(input, counts, unit) : Quantized(q => Functional.Linear(input, q), outputAxis: -1);
        if (Operations.Enabled) Operations.CountFullyConnected(input, OutFeatures);
        return y;
    }

    private Variable Integer(Variable input, byte[] counts, float unit)
    {
        try
        {
            var kernel = IntegerKernel(unit, static (weight, bias) => weight.ToLinearKernel(bias));
            var dims = input.Shape.Dimensions.ToArray();
            dims[^1] = OutFeatures;
            var y = Tensor.Empty(new Shape(dims));
            kernel.Forward(counts.AsSpan(0, input.Shape.RowCount * InFeatures), input.Shape.RowCount, y.AsSpan());
            return Variable.Constant(y);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(counts);
        }
    }
}
