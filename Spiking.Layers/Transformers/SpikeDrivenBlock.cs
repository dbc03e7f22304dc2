using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// One Spike-driven Transformer encoder block with the membrane shortcut: <c>x = x + SDSA(x)</c>, then
/// <c>x = x + MLP(x)</c>, the residuals added on membrane-level (dense) values, each branch starting with its own
/// neuron, so every weight sees only spikes (<c>attn</c>, <c>mlp</c>).
/// </summary>
public sealed class SpikeDrivenBlock : Module
{
    private readonly SpikeDrivenSelfAttention _attention;
    private readonly SpikeDrivenMlp _mlp;

    /// <summary>A block of width <paramref name="dim"/>, <paramref name="heads"/> heads, MLP ratio <paramref name="mlpRatio"/> and SDSA <paramref name="variant"/>.</summary>
    public SpikeDrivenBlock(int dim, int heads, int mlpRatio = 4, SdsaVariant variant = SdsaVariant.KeyValueMask)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mlpRatio);
        _attention = RegisterModule("attn", new SpikeDrivenSelfAttention(dim, heads, variant));
        _mlp = RegisterModule("mlp", new SpikeDrivenMlp(dim, dim * mlpRatio));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, N, D]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var dense = input.IsSpikes ? Functional.SpikesToDense(input) : input;
        var x = Functional.Add(dense, _attention.Forward(dense));
        return Functional.Add(x, _mlp.Forward(x));
    }
}
