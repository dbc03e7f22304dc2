using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikeGPT's spiking channel mixing, the SRFFN (the official <c>RWKV_ChannelMix</c>):
/// <c>sigmoid(receptance(xr)) ⊙ value(relu(key(xk))²)</c> with a hidden width of 4C, <c>xk</c>, <c>xr</c> the
/// token-shifted mixes of the input. Input and output are <c>[T, B, C]</c>, time first.
/// </summary>
public sealed class SpikeGptChannelMix : Module
{
    /// <summary>The layer's parameters at the official initialisation for block <paramref name="layer"/> of <paramref name="layers"/>.</summary>
    public SpikeGptChannelMix(int width, int layer, int layers, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        double exponent = 1.0 - layer / (double)layers;
        var mixK = Tensor.Empty(1, 1, width);
        var mixR = Tensor.Empty(1, 1, width);
        for (int h = 0; h < width; h++)
        {
            double ramp = (float)h / width;
            mixK.AsSpan()[h] = mixR.AsSpan()[h] = (float)Math.Pow(ramp, exponent);
        }
        TimeMixK = RegisterParameter("time_mix_k", mixK);
        TimeMixR = RegisterParameter("time_mix_r", mixR);
        Key = RegisterModule("key", new Linear(width, 4 * width, bias: false, generator));
        Receptance = RegisterModule("receptance", new Linear(width, width, bias: false, generator));
        Value = RegisterModule("value", new Linear(4 * width, width, bias: false, generator));
    }

    /// <summary><c>time_mix_k [1, 1, C]</c>.</summary>
    public Parameter TimeMixK { get; }

    /// <summary><c>time_mix_r [1, 1, C]</c>.</summary>
    public Parameter TimeMixR { get; }

    /// <summary>C → 4C.</summary>
    public Linear Key { get; }

    /// <summary>C → C, the gate.</summary>
    public Linear Receptance { get; }

    /// <summary>4C → C.</summary>
    public Linear Value { get; }

    /// <summary>The whole-window forward of <c>[T, B, C]</c>.</summary>
    public override Variable Forward(Variable input) => Forward(input, null);

    /// <summary>The forward continuing a sequence, <paramref name="previous"/> as in <see cref="SpikeGptTimeMix.Forward(Variable, Tensor?, WkvState?)"/>.</summary>
    public Variable Forward(Variable input, Tensor? previous)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mixes = Functional.TokenShiftMix(input, [TimeMixK, TimeMixR], previous, timeFirst: true);
        var (xk, xr) = (mixes[0], mixes[1]);
        if (previous is not null) SpikeGptBlock.KeepLastToken(input, previous);
        var k = Key.Forward(xk);
        var hidden = Functional.ReluSquared(k);
        k.Dispose();
        var kv = Value.Forward(hidden);
        var r = Receptance.Forward(xr);
        var gate = Functional.Sigmoid(r);
        r.Dispose();
        return Functional.Multiply(gate, kv);
    }
}
