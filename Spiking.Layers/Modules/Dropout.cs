using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Multi-step dropout with one mask shared by all T steps (SpikingJelly's <c>layer.Dropout</c>): a neuron dropped
/// at the first step stays dropped for the whole sequence, so dropout does not turn into input noise over time.
/// Kept elements are scaled by <c>1/(1 − p)</c>; evaluation mode is the identity.
/// </summary>
public sealed class Dropout : Module
{
    /// <summary>
    /// Drops with probability <paramref name="p"/>; masks come from <paramref name="generator"/>, or else from the
    /// model seed (<see cref="ModelSeed"/>) on a stream of this layer's own: the i-th dropout layer built without a
    /// generator since the seed was set draws from <see cref="RandomStreams.DropoutLayer"/>(i), apart from the
    /// initial weights and from every other dropout layer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside <c>[0, 1)</c>.</exception>
    public Dropout(double p = 0.5, PhiloxGenerator? generator = null)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout needs p in [0, 1).");
        P = p;
        Generator = generator ?? ModelSeed.NextDropoutGenerator();
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <summary>The random source of the masks; save and restore its <see cref="PhiloxGenerator.Offset"/> to replay them.</summary>
    public PhiloxGenerator Generator { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input has fewer than two axes.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!Training || P == 0) return Functional.Reshape(input, input.Shape);
        var shape = input.Shape;
        if (shape.Rank < 2)
        {
            throw new ArgumentException($"Dropout needs an input of [T, B, …]; it has shape {shape}.", nameof(input));
        }
        var maskShape = shape.WithDimension(0, 1);
        var mask = Tensor.Empty(maskShape);
        var values = mask.AsSpan();
        Generator.FillUniform(values);
        float keep = (float)(1 - P), scale = 1f / keep;
        for (int i = 0; i < values.Length; i++) values[i] = values[i] < keep ? scale : 0f;
        var dense = input.IsSpikes ? Functional.SpikesToDense(input) : input;
        return Functional.Multiply(dense, Variable.Constant(mask));
    }
}
