using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Multi-step flatten: <c>[T, B, d₁, d₂, …]</c> becomes <c>[T, B, d₁·d₂·…]</c> (SpikingJelly's <c>layer.Flatten</c>,
/// i.e. <c>nn.Flatten</c> on the folded <c>T·B</c> batch). Spikes stay bits: they are repacked, since the packed
/// last axis changes.
/// </summary>
public sealed class Flatten : Module
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than two axes.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Rank < 2)
        {
            throw new ArgumentException($"Flatten needs an input of [T, B, …]; it has shape {shape}.", nameof(input));
        }
        if (shape.Rank == 3) return Functional.Reshape(input, shape);
        int features = 1;
        for (int i = 2; i < shape.Rank; i++) features *= shape[i];
        return Functional.Reshape(input, shape[0], shape[1], features);
    }
}
