using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Spikformer's MLP: <c>fc1_linear</c> (D → hidden) + <c>fc1_bn</c> + <c>fc1_lif</c>, then <c>fc2_linear</c>
/// (hidden → D) + <c>fc2_bn</c> + <c>fc2_lif</c>, over tokens <c>[T, B, N, D]</c>; the batch norms take each
/// channel's statistics over time, batch and tokens. The output is spikes <c>[T, B, N, D]</c>.
/// </summary>
public sealed class SpikingMlpBlock : Module
{
    private readonly Linear _fc1, _fc2;
    private readonly BatchNorm1d _bn1, _bn2;
    private readonly SpikingNeuron _lif1, _lif2;

    /// <summary>An MLP of width <paramref name="dim"/> with <paramref name="hidden"/> hidden channels.</summary>
    public SpikingMlpBlock(int dim, int hidden)
    {
        _fc1 = RegisterModule("fc1_linear", new Linear(dim, hidden));
        _bn1 = RegisterModule("fc1_bn", new BatchNorm1d(hidden));
        _lif1 = RegisterModule("fc1_lif", SpikingPatchSplitting.Neuron());
        _fc2 = RegisterModule("fc2_linear", new Linear(hidden, dim));
        _bn2 = RegisterModule("fc2_bn", new BatchNorm1d(dim));
        _lif2 = RegisterModule("fc2_lif", SpikingPatchSplitting.Neuron());
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, N, D]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        TokenChecks.Tokens(input, _fc1.InFeatures, nameof(SpikingMlpBlock));
        var hidden = _lif1.Forward(TokenNorm(_bn1, _fc1.Forward(input)));
        return _lif2.Forward(TokenNorm(_bn2, _fc2.Forward(hidden)));
    }

    /// <summary>Batch norm over the channels of tokens <c>[T, B, N, C]</c>: statistics over T·B·N per channel.</summary>
    internal static Variable TokenNorm(BatchNorm1d norm, Variable x)
    {
        var s = x.Shape;
        var y = norm.Forward(Functional.Reshape(x, s[0], s[1] * s[2], s[3]));
        return Functional.Reshape(y, s[0], s[1], s[2], s[3]);
    }
}

/// <summary>Checks shared by the token layers.</summary>
internal static class TokenChecks
{
    public static void Tokens(Variable input, int dim, string layer)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = input.Shape;
        if (s.Rank != 4 || s[3] != dim)
        {
            throw new ArgumentException($"{layer} needs tokens [T, B, N, {dim}]; the input has shape {s}.", nameof(input));
        }
    }
}
