using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// One block of <see cref="SpikingLm"/>, pre-norm with spike residuals:
/// <c>x += lif1(att(ln1(x)))</c>, <c>x += lif2(mlp(ln2(x)))</c>, then dropout on x in training. LayerNorm takes the
/// place of Spikformer's batch norm: batch statistics over a batch of windows mix every token of the batch, the
/// later ones included, into each token's output, which a causal model must not see. Child names: <c>ln1</c>,
/// <c>att</c>, <c>lif1</c>, <c>ln2</c>, <c>mlp</c>, <c>lif2</c>.
/// </summary>
internal sealed class SpikingLmBlock : Module
{
    private readonly LayerNorm _ln1, _ln2;
    private readonly SpikingLmAttention _att;
    private readonly SpikingLmMlp _mlp;
    private readonly SpikingNeuron _lif1, _lif2;
    private readonly float _dropout;
    private readonly PhiloxGenerator _dropoutGenerator;

    public SpikingLmBlock(int width, int heads, float scale, float dropout, PhiloxGenerator generator, PhiloxGenerator dropoutGenerator)
    {
        _ln1 = RegisterModule("ln1", new LayerNorm(width));
        _att = RegisterModule("att", new SpikingLmAttention(width, heads, scale, generator));
        _lif1 = RegisterModule("lif1", Lif());
        _ln2 = RegisterModule("ln2", new LayerNorm(width));
        _mlp = RegisterModule("mlp", new SpikingLmMlp(width, generator));
        _lif2 = RegisterModule("lif2", Lif());
        (_dropout, _dropoutGenerator) = (dropout, dropoutGenerator);
    }

    /// <summary>
    /// SpikingJelly's <c>MultiStepLIFNode</c> defaults as SpikeGPT uses them: τ = 2, <c>decay_input</c>, hard reset
    /// to 0, <c>detach_reset</c> off, ATan(2); the threshold is 1 unless given.
    /// </summary>
    internal static LeakyIntegrateAndFire Lif(float threshold = 1f) => new(vThreshold: threshold, surrogate: new ATan());

    /// <summary>
    /// Widens PyTorch's <c>U(±1/√fan_in)</c> to <c>U(±√(3/fan_in))</c>, variance <c>1/fan_in</c>, so a unit-variance
    /// input (a LayerNorm's output) gives the LIF after the layer a unit-variance current, the role Spikformer's
    /// batch norm plays. With PyTorch's variance of a third the LIFs barely fired at initialisation (q, k, v about
    /// 0.3 % of neuron-steps, the attention neurons never: measured on a 2-layer, width-32 model).
    /// </summary>
    internal static void UnitVariance(params Linear[] layers)
    {
        foreach (var layer in layers) layer.Weight.Value.MultiplyInPlace(MathF.Sqrt(3f));
    }

    /// <summary>
    /// Fires <paramref name="lif"/> on one token's current from the membranes in <paramref name="state"/> (null: at
    /// rest) and leaves the membranes after it there, through the layer's own carried-state forward, so the
    /// dynamics are the ones the window runs.
    /// </summary>
    internal static Variable Fire(SpikingNeuron lif, Variable current, ref NeuronState? state)
    {
        var spikes = lif.Forward(current, state, out var final);
        state?.Dispose();
        state = final;
        return spikes;
    }

    /// <summary>The whole window <c>[T, B, C]</c> (dense: the residual stream).</summary>
    public override Variable Forward(Variable x)
    {
        var attended = x + _lif1.Forward(_att.Forward(_ln1.Forward(x)));
        var mixed = attended + _lif2.Forward(_mlp.Forward(_ln2.Forward(attended)));
        return Functional.Dropout(mixed, _dropout, Training, _dropoutGenerator);
    }

    /// <summary>One token <c>[1, 1, C]</c> from <paramref name="state"/>; recurrent mode is inference, so no dropout.</summary>
    public Variable Feed(Variable x, SpikingLmLayerState state)
    {
        Variable attended;
        using (var h = _ln1.Forward(x))
        using (var current = _att.Feed(h, state))
        using (var spikes = Fire(_lif1, current, ref state.Projection))
        {
            attended = x + spikes;
        }
        using (attended)
        using (var h = _ln2.Forward(attended))
        using (var current = _mlp.Feed(h, state))
        using (var spikes = Fire(_lif2, current, ref state.Mlp))
        {
            return attended + spikes;
        }
    }
}
