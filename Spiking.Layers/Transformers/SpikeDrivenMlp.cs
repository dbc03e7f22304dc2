using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// The Spike-driven Transformer's MLP over membrane-level tokens <c>[T, B, N, D]</c>, neurons before the weights
/// (membrane shortcut): <c>fc1_lif</c> → <c>fc1_linear</c> (D → hidden) + <c>fc1_bn</c> → <c>fc2_lif</c> →
/// <c>fc2_linear</c> (hidden → D) + <c>fc2_bn</c>. Both linears see only spikes; the output is dense, for the
/// residual sum the caller makes. Names are the reference code's (its <c>fc1_conv</c> 1×1 convs are linears here).
/// </summary>
public sealed class SpikeDrivenMlp : Module
{
    private readonly SpikingNeuron _lif1, _lif2;
    private readonly Linear _fc1, _fc2;
    private readonly BatchNorm1d _bn1, _bn2;

    /// <summary>An MLP of width <paramref name="dim"/> with <paramref name="hidden"/> hidden channels.</summary>
    public SpikeDrivenMlp(int dim, int hidden)
    {
        _lif1 = RegisterModule("fc1_lif", SpikingPatchSplitting.Neuron());
        _fc1 = RegisterModule("fc1_linear", new Linear(dim, hidden));
        _bn1 = RegisterModule("fc1_bn", new BatchNorm1d(hidden));
        _lif2 = RegisterModule("fc2_lif", SpikingPatchSplitting.Neuron());
        _fc2 = RegisterModule("fc2_linear", new Linear(hidden, dim));
        _bn2 = RegisterModule("fc2_bn", new BatchNorm1d(dim));
    }

    /// <inheritdoc/>
    /// <remarks>The input is the membrane-level residual stream (spikes are read as 0/1 currents); the output is dense.</remarks>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, N, D]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        TokenChecks.Tokens(input, _fc1.InFeatures, nameof(SpikeDrivenMlp));
        var spikes = _lif1.Forward(input.IsSpikes ? Functional.SpikesToDense(input) : input);
        var hidden = _lif2.Forward(SpikingMlpBlock.TokenNorm(_bn1, _fc1.Forward(spikes)));
        return SpikingMlpBlock.TokenNorm(_bn2, _fc2.Forward(hidden));
    }
}
