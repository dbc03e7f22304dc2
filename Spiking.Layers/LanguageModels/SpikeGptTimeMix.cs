using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// SpikeGPT's spiking RWKV time mixing (the official <c>RWKV_TimeMix</c>): the token-shifted mixes of the input give
/// keys, values and a receptance through three Linear layers without bias, and the output is
/// <c>output(sigmoid(r) ⊙ WKV(time_decay, time_first, k, v))</c>. Input and output are <c>[T, B, C]</c>, time first.
/// </summary>
public sealed class SpikeGptTimeMix : Module
{
    /// <summary>The layer's parameters at the official initialisation for block <paramref name="layer"/> of <paramref name="layers"/>.</summary>
    public SpikeGptTimeMix(int width, int layer, int layers, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        double r01 = layer / (double)Math.Max(1, layers - 1), r10 = 1.0 - layer / (double)layers;
        var decay = Tensor.Empty(width);
        var first = Tensor.Empty(width);
        var mixK = Tensor.Empty(1, 1, width);
        var mixV = Tensor.Empty(1, 1, width);
        var mixR = Tensor.Empty(1, 1, width);
        float logPoint3 = (float)Math.Log(0.3);
        for (int h = 0; h < width; h++)
        {
            // The official per-channel loop: decay in double, then rounded; the ramp i / C in float32.
            decay.AsSpan()[h] = (float)(-5 + 8 * Math.Pow(h / (double)Math.Max(1, width - 1), 0.7 + 1.3 * r01));
            first.AsSpan()[h] = logPoint3 + ((h + 1) % 3 - 1) * 0.5f;
            double ramp = (float)h / width;
            mixK.AsSpan()[h] = (float)Math.Pow(ramp, r10);
            mixV.AsSpan()[h] = (float)(Math.Pow(ramp, r10) + 0.3 * r01);
            mixR.AsSpan()[h] = (float)Math.Pow(ramp, 0.5 * r10);
        }
        TimeDecay = RegisterParameter("time_decay", decay);
        TimeFirst = RegisterParameter("time_first", first);
        TimeMixK = RegisterParameter("time_mix_k", mixK);
        TimeMixV = RegisterParameter("time_mix_v", mixV);
        TimeMixR = RegisterParameter("time_mix_r", mixR);
        Key = RegisterModule("key", new Linear(width, width, bias: false, generator));
        Value = RegisterModule("value", new Linear(width, width, bias: false, generator));
        Receptance = RegisterModule("receptance", new Linear(width, width, bias: false, generator));
        Output = RegisterModule("output", new Linear(width, width, bias: false, generator));
    }

    /// <summary><c>time_decay [C]</c>: the decay is <c>w = −exp(time_decay)</c>.</summary>
    public Parameter TimeDecay { get; }

    /// <summary><c>time_first [C]</c>: the current token's bonus <c>u</c>.</summary>
    public Parameter TimeFirst { get; }

    /// <summary><c>time_mix_k [1, 1, C]</c>.</summary>
    public Parameter TimeMixK { get; }

    /// <summary><c>time_mix_v [1, 1, C]</c>.</summary>
    public Parameter TimeMixV { get; }

    /// <summary><c>time_mix_r [1, 1, C]</c>.</summary>
    public Parameter TimeMixR { get; }

    /// <summary>The key projection.</summary>
    public Linear Key { get; }

    /// <summary>The value projection.</summary>
    public Linear Value { get; }

    /// <summary>The receptance projection (the gate, through a sigmoid).</summary>
    public Linear Receptance { get; }

    /// <summary>The output projection.</summary>
    public Linear Output { get; }

    /// <summary>The whole-window forward of <c>[T, B, C]</c> from the zero state.</summary>
    public override Variable Forward(Variable input) => Forward(input, null, null);

    /// <summary>
    /// The forward continuing a sequence: <paramref name="previous"/> <c>[B, C]</c> is the input of the token before
    /// (null: zeros), which this call overwrites with its own last token, and <paramref name="wkv"/> the scan's
    /// carried state (null: empty).
    /// </summary>
    public Variable Forward(Variable input, Tensor? previous, WkvState? wkv)
    {
        ArgumentNullException.ThrowIfNull(input);
        // One node for the three mixes: the input is read once, and backward makes one input gradient.
        var mixes = Functional.TokenShiftMix(input, [TimeMixK, TimeMixV, TimeMixR], previous, timeFirst: true);
        var (xk, xv, xr) = (mixes[0], mixes[1], mixes[2]);
        if (previous is not null) SpikeGptBlock.KeepLastToken(input, previous);
        var k = Key.Forward(xk);
        var v = Value.Forward(xv);
        var r = Receptance.Forward(xr);
        var gate = Functional.Sigmoid(r);
        // The sigmoid keeps its output for the backward, not r: r's storage can go back to the pool now instead of
        // at the end of the step (the same for every intermediate no op saves; see SpikeGptBlock).
        r.Dispose();
        var y = wkv is null ? Functional.Wkv(TimeDecay, TimeFirst, k, v) : Functional.Wkv(TimeDecay, TimeFirst, k, v, wkv);
        var gated = Functional.Multiply(gate, y);
        return Output.Forward(gated);
    }
}
