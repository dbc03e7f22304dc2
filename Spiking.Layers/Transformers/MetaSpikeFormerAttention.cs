using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's attention (<c>MS_Attention_RepConv_qkv_id</c>, Spike-driven Transformer V2) over membrane-level
/// maps <c>[T, B, C, H, W]</c>: <c>head_lif</c>, then Q, K and V each from <c>Sequential(RepConv, BatchNorm2d)</c>
/// (<c>q_conv</c>, <c>k_conv</c>, <c>v_conv</c>) and a neuron (<c>q_lif</c>, <c>k_lif</c>, <c>v_lif</c>), split into
/// heads over the N = H·W tokens; SDSA-3, <c>Q·(Kᵀ·V)·scale</c> (<see cref="Functional.SpikeLinearAttention"/>,
/// integer counts on spikes); <c>attn_lif</c> (threshold 0.5 in V2); and <c>proj_conv</c>, another
/// <c>Sequential(RepConv, BatchNorm2d)</c>. The output is dense (membrane level) for the caller's shortcut.
/// </summary>
/// <remarks>
/// The reference code runs the neurons channel-major, <c>[T, B, C, H, W]</c>; here Q, K and V are turned
/// token-major (<c>[T, B, N, C]</c>, a transpose of the dense currents) before their neurons, which act element by
/// element, so the spikes come out in the layout the attention kernel reads; the attention's result is turned back
/// before <c>attn_lif</c>. Head h takes channels <c>h·d … (h+1)·d − 1</c>, as the reference's reshape does.
/// </remarks>
public sealed class MetaSpikeFormerAttention : Module, IOperationCounter
{
    private readonly Module _headLif, _qLif, _kLif, _vLif, _attnLif;
    private readonly Sequential _q, _k, _v, _proj;

    /// <summary>Attention of width <paramref name="dim"/> in <paramref name="heads"/> heads, its layers from <paramref name="layers"/> (default Meta-SpikeFormer V2's).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heads"/> does not divide <paramref name="dim"/>.</exception>
    public MetaSpikeFormerAttention(int dim, int heads = 8, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (dim <= 0 || dim % heads != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"The attention needs a width divisible by the {heads} heads.");
        layers ??= MetaSpikeFormerLayers.Default;
        (Dim, Heads, Scale) = (dim, heads, layers.AttentionScale);
        _headLif = RegisterModule("head_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _q = RegisterModule("q_conv", Projection(dim, layers));
        _k = RegisterModule("k_conv", Projection(dim, layers));
        _v = RegisterModule("v_conv", Projection(dim, layers));
        _qLif = RegisterModule("q_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _kLif = RegisterModule("k_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _vLif = RegisterModule("v_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _attnLif = RegisterModule("attn_lif", layers.Neuron(MetaSpikeFormerNeuronRole.AttentionOutput));
        _proj = RegisterModule("proj_conv", Projection(dim, layers));
    }

    private static Sequential Projection(int dim, MetaSpikeFormerLayers layers) => new(new RepConv(dim, dim, layers), new BatchNorm2d(dim));

    /// <summary>The channel count C.</summary>
    public int Dim { get; }

    /// <summary>The number of heads.</summary>
    public int Heads { get; }

    /// <summary>The scale of <c>Q·(Kᵀ·V)</c>.</summary>
    public float Scale { get; }

    /// <summary>
    /// The attention core's accumulates when Q, K and V are spikes, as <see cref="SpikeDrivenSelfAttention"/> counts
    /// SDSA-3: <c>Σ_l |K_l|·|V_l|</c> for <c>Kᵀ·V</c> plus <c>d·Σ q</c> for the query rows.
    /// </summary>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    /// <remarks>Spike input is read as 0/1 currents.</remarks>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, Dim, nameof(MetaSpikeFormerAttention));
        var s = input.Shape;
        int steps = s[0], batch = s[1], tokens = s[3] * s[4];
        var x = _headLif.Forward(input.IsSpikes ? Functional.SpikesToDense(input) : input);
        var q = SplitHeads(_qLif, _q.Forward(x));
        var k = SplitHeads(_kLif, _k.Forward(x));
        var v = SplitHeads(_vLif, _v.Forward(x));
        var mixed = Functional.SpikeLinearAttention(q, k, v, Scale);
        if (Operations.Enabled && q.IsSpikes) Operations.AddSynaptic(SpikeDrivenSelfAttention.LinearAttentionOperations(q.Spikes!, k.Spikes!, v.Spikes!));
        var merged = Functional.Reshape(Functional.SwapMiddleAxes(mixed), steps, batch, tokens, Dim);
        var maps = Functional.Reshape(Functional.Transpose(merged, 2, 3), steps, batch, Dim, s[3], s[4]);
        return _proj.Forward(_attnLif.Forward(maps));
    }

    // Dense maps [T, B, C, H, W] → token-major [T, B, N, C] → neuron → [T·B, H, N, d]; spikes are repacked per head.
    private Variable SplitHeads(Module neuron, Variable maps)
    {
        var s = maps.Shape;
        int tokens = s[3] * s[4];
        var currents = Functional.Transpose(Functional.Reshape(maps, s[0], s[1], s[2], tokens), 2, 3);
        var fired = neuron.Forward(currents);
        return Functional.SwapMiddleAxes(Functional.Reshape(fired, s[0] * s[1], tokens, Heads, Dim / Heads));
    }
}
