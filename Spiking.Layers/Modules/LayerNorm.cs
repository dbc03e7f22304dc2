using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// PyTorch's <c>nn.LayerNorm(C)</c>: each vector along the last axis normalised with its mean and biased variance,
/// then scaled by <c>weight [C]</c> (ones) and shifted by <c>bias [C]</c> (zeros). See <see cref="Functional.LayerNorm"/>.
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>A layer norm over <paramref name="channels"/> channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is not positive or <paramref name="eps"/> is not.</exception>
    public LayerNorm(int channels, double eps = 1e-5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"LayerNorm needs eps > 0; it is {eps}.");
        (Channels, Eps) = (channels, eps);
        Weight = RegisterParameter("weight", Tensor.Ones(new Shape(channels)));
        Bias = RegisterParameter("bias", Tensor.Zeros(channels));
    }

    /// <summary>Channels, the size of the last axis.</summary>
    public int Channels { get; }

    /// <summary>The variance floor.</summary>
    public double Eps { get; }

    /// <summary>The scale <c>[C]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The shift <c>[C]</c>.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The last axis of <paramref name="input"/> is not <see cref="Channels"/>.</exception>
    public override Variable Forward(Variable input) => Functional.LayerNorm(input, Weight, Bias, Eps);
}
