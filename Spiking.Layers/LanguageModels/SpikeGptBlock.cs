using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// One SpikeGPT block (the official <c>Block</c>): <c>x = LN0(x)</c> in block 0 only, then
/// <c>x = x + LIF1(TimeMix(LN1(x)))</c>, <c>x = x + LIF2(ChannelMix(LN2(x)))</c>, then dropout. The LIF neurons
/// (SpikingJelly's <c>MultiStepLIFNode</c>: τ = 2, threshold 1, hard reset to 0, decay input, reset in the graph,
/// ATan α = 2) run along the token axis of <c>[T, B, C]</c>.
/// </summary>
public sealed class SpikeGptBlock : Module
{
    private readonly PhiloxGenerator _dropoutGenerator;

    /// <summary>Block <paramref name="layer"/> of <paramref name="layers"/>, <paramref name="width"/> channels.</summary>
    public SpikeGptBlock(int width, int layer, int layers, double dropout, PhiloxGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout needs p in [0, 1).");
        Layer = layer;
        Dropout = dropout;
        LayerNorm1 = RegisterModule("ln1", new LayerNorm(width));
        LayerNorm2 = RegisterModule("ln2", new LayerNorm(width));
        if (layer == 0) LayerNorm0 = RegisterModule("ln0", new LayerNorm(width));
        TimeMix = RegisterModule("att", new SpikeGptTimeMix(width, layer, layers, generator));
        ChannelMix = RegisterModule("ffn", new SpikeGptChannelMix(width, layer, layers, generator));
        Lif1 = RegisterModule("lif1", new LeakyIntegrateAndFire(tau: 2.0, surrogate: new ATan()));
        Lif2 = RegisterModule("lif2", new LeakyIntegrateAndFire(tau: 2.0, surrogate: new ATan()));
        _dropoutGenerator = ModelSeed.NextDropoutGenerator();
    }

    /// <summary>The block's index.</summary>
    public int Layer { get; }

    /// <summary>The dropout probability after the block, in training.</summary>
    public double Dropout { get; }

    /// <summary>The input normalisation of block 0 (<c>ln0</c>); null in the others.</summary>
    public LayerNorm? LayerNorm0 { get; }

    /// <summary><c>ln1</c>, before the time mixing.</summary>
    public LayerNorm LayerNorm1 { get; }

    /// <summary><c>ln2</c>, before the channel mixing.</summary>
    public LayerNorm LayerNorm2 { get; }

    /// <summary><c>att</c>.</summary>
    public SpikeGptTimeMix TimeMix { get; }

    /// <summary><c>ffn</c>.</summary>
    public SpikeGptChannelMix ChannelMix { get; }

    /// <summary>The neurons after the time mixing.</summary>
    public LeakyIntegrateAndFire Lif1 { get; }

    /// <summary>The neurons after the channel mixing.</summary>
    public LeakyIntegrateAndFire Lif2 { get; }

    /// <summary>The whole-window forward of <c>[T, B, C]</c> from the zero state.</summary>
    public override Variable Forward(Variable input) => Forward(input, null);

    /// <summary>The forward continuing a sequence from <paramref name="state"/> (null: the zero state), which it advances.</summary>
    public Variable Forward(Variable input, SpikeGptLayerState? state)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = LayerNorm0 is null ? input : LayerNorm0.Forward(input);
        // Intermediates no op keeps for its backward (the mixes' outputs, which the LIFs replace by their own saved
        // potentials) are disposed as soon as they are used, so a step's peak holds only what the backward needs
        // (DisposeScope would otherwise keep them to the end of the step: 8 MB a block at the peer's sizes).
        var mixed = TimeMix.Forward(LayerNorm1.Forward(x), state?.AttentionShift, state?.Wkv);
        var fired = Fire(Lif1, mixed, state, 0);
        mixed.Dispose();
        x = Functional.Add(x, fired);
        var fed = ChannelMix.Forward(LayerNorm2.Forward(x), state?.FeedForwardShift);
        fired = Fire(Lif2, fed, state, 1);
        fed.Dispose();
        x = Functional.Add(x, fired);
        // Recurrent mode is inference: no dropout there, whatever the mode (as SpikingLm's Feed).
        return Dropout > 0 && Training && state is null ? Functional.Dropout(x, (float)Dropout, training: true, _dropoutGenerator) : x;
    }

    private static Variable Fire(LeakyIntegrateAndFire lif, Variable current, SpikeGptLayerState? state, int which)
    {
        if (state is null) return lif.Forward(current);
        var membrane = state.Membranes[which];
        using var initial = new Autograd.Neurons.NeuronState(lif.Model.StateNames, [Variable.Constant(membrane.Reshape(membrane.Shape))]);
        var spikes = lif.Forward(current, initial, out var final);
        final.Variables[0].Dense.AsReadOnlySpan().CopyTo(membrane.AsSpan());
        return spikes;
    }

    /// <summary>Copies the last token's row of <c>[T, B, C]</c> <paramref name="input"/> into <paramref name="previous"/> <c>[B, C]</c>.</summary>
    internal static void KeepLastToken(Variable input, Tensor previous)
    {
        var x = input.Dense.AsReadOnlySpan();
        var last = previous.AsSpan();
        x[^last.Length..].CopyTo(last);
    }
}

/// <summary>What one SpikeGPT block carries from token to token in recurrent mode, for B sequences of C channels.</summary>
public sealed class SpikeGptLayerState : IDisposable
{
    /// <summary>Zero state (the start of a window).</summary>
    public SpikeGptLayerState(int batch, int width)
    {
        AttentionShift = Tensor.Zeros(batch, width);
        FeedForwardShift = Tensor.Zeros(batch, width);
        Wkv = new WkvState(batch, width);
        Membranes = [Tensor.Zeros(batch, width), Tensor.Zeros(batch, width)];
    }

    /// <summary>The time mixing's input at the last token (token shift), <c>[B, C]</c>.</summary>
    public Tensor AttentionShift { get; }

    /// <summary>The channel mixing's input at the last token, <c>[B, C]</c>.</summary>
    public Tensor FeedForwardShift { get; }

    /// <summary>The WKV scan's sums and exponent.</summary>
    public WkvState Wkv { get; }

    /// <summary>The membranes of <c>lif1</c> and <c>lif2</c>, <c>[B, C]</c> each.</summary>
    public Tensor[] Membranes { get; }

    /// <summary>Back to the zero state.</summary>
    public void Reset()
    {
        AttentionShift.AsSpan().Clear();
        FeedForwardShift.AsSpan().Clear();
        Wkv.Reset();
        foreach (var m in Membranes) m.AsSpan().Clear();
    }

    /// <summary>Returns the buffers to the pool.</summary>
    public void Dispose()
    {
        AttentionShift.Dispose();
        FeedForwardShift.Dispose();
        Wkv.Dispose();
        foreach (var m in Membranes) m.Dispose();
    }
}
