using System;

namespace Spiking.Layers;

/// <summary>
/// The layers the Meta-SpikeFormer family is built from, passed down to every one of its classes
/// (<see cref="MetaSpikeFormer"/>, <see cref="MetaSpikeFormerBlock"/>, <see cref="MetaSpikeFormerAttention"/>,
/// <see cref="RepConv"/>, <see cref="MetaSpikeFormerMlp"/>, <see cref="MetaSpikeFormerDownsampling"/>,
/// <see cref="MetaSpikeFormerConvBlock"/>, <see cref="SpikingSeparableConv"/>) so that a variant with other
/// convolutions or neurons (the QSD-Transformer's quantized convolutions and multi-level neuron) reuses every class
/// with the same state-dict paths. <see cref="Default"/> is Meta-SpikeFormer (Spike-driven Transformer V2) in float
/// with SpikingJelly's LIF.
/// </summary>
/// <remarks>
/// A factory is called once per layer, in the order the official code creates them, and the module it returns is
/// registered under the official name (<c>q_conv.0.body.0</c>, <c>mlp.fc1_conv</c>, …), so its own entries follow that
/// name. Batch norms are not pluggable: both papers use <c>nn.BatchNorm1d/2d</c>.
/// </remarks>
public sealed record MetaSpikeFormerLayers
{
    /// <summary>Meta-SpikeFormer V2: float convolutions, <see cref="Layers.Linear"/> head, LIF neurons, scale 0.125, no layer scales.</summary>
    public static MetaSpikeFormerLayers Default { get; } = new();

    /// <summary>
    /// The 2-D convolution for a <see cref="Conv2dSpec"/>; default <see cref="Layers.Conv2d"/>, or
    /// <see cref="DepthwiseConv2d"/> for a depthwise one, initialised as PyTorch's.
    /// </summary>
    public Func<Conv2dSpec, Module> Conv2d { get; init; } = DefaultConv2d;

    /// <summary>
    /// The pointwise 1-D convolution of the MLP (<c>nn.Conv1d(in, out, 1, bias)</c>), taking <c>[T, B, in, L]</c>;
    /// arguments: in, out, bias. Default <see cref="PointwiseConv1d"/>.
    /// </summary>
    public Func<int, int, bool, Module> Conv1d { get; init; } = static (inChannels, outChannels, bias) => new PointwiseConv1d(inChannels, outChannels, bias);

    /// <summary>
    /// The classifier head (<c>nn.Linear(in, out)</c> with bias); arguments: in, out. Default a <see cref="Layers.Linear"/>
    /// initialised as the official <c>_init_weights</c>: weight from timm's <c>trunc_normal_(std=0.02)</c>, whose cut
    /// at ±2 (absolute, a hundred standard deviations) never binds, so a plain N(0, 0.02²); bias 0.
    /// </summary>
    public Func<int, int, Module> Linear { get; init; } = DefaultLinear;

    /// <summary>
    /// The neuron for a role: a multi-step module over <c>[T, …]</c> giving spikes (or, for a multi-level neuron,
    /// dense values). Default SpikingJelly's <c>MultiStepLIFNode(tau=2, detach_reset=True)</c> with its Sigmoid(4)
    /// surrogate, at threshold 1, and 0.5 for <see cref="MetaSpikeFormerNeuronRole.AttentionOutput"/>.
    /// </summary>
    public Func<MetaSpikeFormerNeuronRole, Module> Neuron { get; init; } = static role =>
        SpikingPatchSplitting.Neuron(role == MetaSpikeFormerNeuronRole.AttentionOutput ? 0.5f : 1f);

    /// <summary>The scale of the attention's <c>Q·(Kᵀ·V)</c> (V2 0.125; QSD-Transformer 0.25).</summary>
    public float AttentionScale { get; init; } = 0.125f;

    /// <summary>
    /// Whether every transformer block scales its two branches by learnable per-channel <c>layer_scale1</c> and
    /// <c>layer_scale2</c> (<c>[dim]</c>) before adding them to the shortcut (QSD-Transformer: yes; V2: no).
    /// </summary>
    public bool LayerScale { get; init; }

    /// <summary>The initial value of every layer-scale entry (QSD-Transformer: 1e-6).</summary>
    public float LayerScaleInit { get; init; } = 1e-6f;

    private static Module DefaultConv2d(Conv2dSpec spec)
    {
        spec.Validate();
        return spec.Depthwise
            ? new DepthwiseConv2d(spec.InChannels, spec.KernelSize, spec.Stride, spec.Padding, spec.Bias)
            : new Layers.Conv2d(spec.InChannels, spec.OutChannels, spec.KernelSize, spec.Stride, spec.Padding, spec.Bias);
    }

    private static Module DefaultLinear(int inFeatures, int outFeatures)
    {
        var head = new Layers.Linear(inFeatures, outFeatures);
        ModelSeed.Shared.FillNormal(head.Weight.Value, 0f, 0.02f);
        head.Bias!.Value.Fill(0f);
        return head;
    }
}
