using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's transformer-based block (<c>MS_Block</c>) for the last stages, over membrane-level maps
/// <c>[T, B, C, H, W]</c> with membrane shortcuts: <c>x = x + attn(x)</c> (<see cref="MetaSpikeFormerAttention"/>),
/// then <c>x = x + mlp(x)</c> (<see cref="MetaSpikeFormerMlp"/>, hidden r·C). With
/// <see cref="MetaSpikeFormerLayers.LayerScale"/> (the QSD-Transformer) each branch is first multiplied per channel by
/// a learnable <c>layer_scale1</c> or <c>layer_scale2</c> <c>[C]</c>.
/// </summary>
public sealed class MetaSpikeFormerBlock : Module
{
    private readonly MetaSpikeFormerAttention _attention;
    private readonly MetaSpikeFormerMlp _mlp;
    private readonly Parameter? _scale1, _scale2;

    /// <summary>A block of <paramref name="dim"/> channels, <paramref name="heads"/> heads and MLP ratio <paramref name="mlpRatio"/>, its layers from <paramref name="layers"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the heads do not divide the width.</exception>
    public MetaSpikeFormerBlock(int dim, int heads = 8, int mlpRatio = 4, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mlpRatio);
        layers ??= MetaSpikeFormerLayers.Default;
        Dim = dim;
        _attention = RegisterModule("attn", new MetaSpikeFormerAttention(dim, heads, layers));
        if (layers.LayerScale)
        {
            _scale1 = RegisterParameter("layer_scale1", Tensor.Full(new Shape(dim), layers.LayerScaleInit));
            _scale2 = RegisterParameter("layer_scale2", Tensor.Full(new Shape(dim), layers.LayerScaleInit));
        }
        _mlp = RegisterModule("mlp", new MetaSpikeFormerMlp(dim, dim * mlpRatio, layers));
    }

    /// <summary>The channel count C of the input and output.</summary>
    public int Dim { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, Dim, nameof(MetaSpikeFormerBlock));
        var x = input.IsSpikes ? Functional.SpikesToDense(input) : input;
        x = Functional.Add(x, Scaled(_attention.Forward(x), _scale1));
        return Functional.Add(x, Scaled(_mlp.Forward(x), _scale2));
    }

    private Variable Scaled(Variable branch, Parameter? scale) =>
        scale is null ? branch : Functional.Multiply(branch, Functional.Reshape(scale, Dim, 1, 1));
}
