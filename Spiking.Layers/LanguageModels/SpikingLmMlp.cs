using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// <see cref="SpikingLm"/>'s MLP (Spikformer's, without batch norm): <c>fc2(LIF(fc1(h)))</c>, C → 4C → C, no
/// biases; returns the current the block's <c>lif2</c> fires on. Child names: <c>fc1</c>, <c>lif</c>, <c>fc2</c>.
/// </summary>
internal sealed class SpikingLmMlp : Module
{
    private readonly Linear _fc1, _fc2;
    private readonly SpikingNeuron _lif;

    public SpikingLmMlp(int width, PhiloxGenerator generator)
    {
        _fc1 = RegisterModule("fc1", new Linear(width, 4 * width, bias: false, generator));
        _lif = RegisterModule("lif", SpikingLmBlock.Lif());
        _fc2 = RegisterModule("fc2", new Linear(4 * width, width, bias: false, generator));
        SpikingLmBlock.UnitVariance(_fc1, _fc2);
    }

    /// <summary>The whole window <c>[T, B, C]</c>.</summary>
    public override Variable Forward(Variable h) => _fc2.Forward(_lif.Forward(_fc1.Forward(h)));

    /// <summary>One token <c>[1, 1, C]</c>, the hidden neurons' membranes carried in <paramref name="state"/>.</summary>
    public Variable Feed(Variable h, SpikingLmLayerState state)
    {
        using var current = _fc1.Forward(h);
        using var spikes = SpikingLmBlock.Fire(_lif, current, ref state.Hidden);
        return _fc2.Forward(spikes);
    }
}
