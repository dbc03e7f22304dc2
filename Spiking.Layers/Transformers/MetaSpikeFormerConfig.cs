using System;
using System.Collections.Generic;

namespace Spiking.Layers;

/// <summary>
/// The sizes of a <see cref="MetaSpikeFormer"/>. The defaults are the official <c>metaspikformer_8_384</c>
/// (ImageNet, 224×224: stage widths 96/192/384/480, 8 heads, 6 + 2 transformer blocks, strides 2, 2, 2, 2, 1);
/// <see cref="FashionMnist"/> is this project's small configuration for 28×28 images.
/// </summary>
public sealed record MetaSpikeFormerConfig
{
    /// <summary>Image channels.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Classes of the head.</summary>
    public int Classes { get; init; } = 1000;

    /// <summary>
    /// The four stage widths (<c>embed_dim</c>): stage 1 runs at half the first (<c>ConvBlock1_1</c>) and then the first
    /// (<c>ConvBlock1_2</c>), stage 2 at the second, stages 3 and 4 (the transformer blocks) at the third and fourth.
    /// </summary>
    public IReadOnlyList<int> EmbedDims { get; init; } = [96, 192, 384, 480];

    /// <summary>Attention heads of every transformer block (they must divide the third and fourth widths).</summary>
    public int Heads { get; init; } = 8;

    /// <summary>The MLP ratio of every block, conv-based and transformer-based.</summary>
    public int MlpRatio { get; init; } = 4;

    /// <summary>Transformer blocks in stage 3 (<c>block3</c>).</summary>
    public int Stage3Depth { get; init; } = 6;

    /// <summary>Transformer blocks in stage 4 (<c>block4</c>).</summary>
    public int Stage4Depth { get; init; } = 2;

    /// <summary>
    /// The strides of <c>downsample1_1</c> (7×7, padding 3), <c>downsample1_2</c>, <c>downsample2</c>,
    /// <c>downsample3</c> and <c>downsample4</c> (3×3, padding 1).
    /// </summary>
    public IReadOnlyList<int> Strides { get; init; } = [2, 2, 2, 2, 1];

    /// <summary>The spatial kernel of the separable convolutions (<c>SepConv</c>'s 7).</summary>
    public int SepConvKernel { get; init; } = 7;

    /// <summary>
    /// This project's configuration for 28×28 Fashion-MNIST (not in the papers): widths 16/32/48/64, 2 heads, MLP
    /// ratio 4, one transformer block in each of stages 3 and 4, strides 2, 1, 2, 1, 1, so stage 1 runs at 14×14 and
    /// stages 2 to 4 at 7×7 (the attention sees 49 tokens), 1 channel in, 10 classes.
    /// </summary>
    public static MetaSpikeFormerConfig FashionMnist { get; } = new()
    {
        InChannels = 1,
        Classes = 10,
        EmbedDims = [16, 32, 48, 64],
        Heads = 2,
        Stage3Depth = 1,
        Stage4Depth = 1,
        Strides = [2, 1, 2, 1, 1],
    };

    /// <summary>Throws unless every size is in range.</summary>
    /// <exception cref="ArgumentException">A list has the wrong length or a size is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MlpRatio);
        ArgumentOutOfRangeException.ThrowIfNegative(Stage3Depth);
        ArgumentOutOfRangeException.ThrowIfNegative(Stage4Depth);
        ArgumentNullException.ThrowIfNull(EmbedDims);
        ArgumentNullException.ThrowIfNull(Strides);
        if (EmbedDims.Count != 4 || EmbedDims[0] < 2 || EmbedDims[0] % 2 != 0 || EmbedDims[1] <= 0 || EmbedDims[2] <= 0 || EmbedDims[3] <= 0)
        {
            throw new ArgumentException($"A Meta-SpikeFormer needs four positive stage widths, the first even (stage 1 starts at half of it); got [{string.Join(", ", EmbedDims)}].", nameof(EmbedDims));
        }
        if (EmbedDims[2] % Heads != 0 || EmbedDims[3] % Heads != 0)
        {
            throw new ArgumentException($"The {Heads} heads must divide the transformer stages' widths {EmbedDims[2]} and {EmbedDims[3]}.", nameof(Heads));
        }
        if (Strides.Count != 5 || !AllPositive(Strides))
        {
            throw new ArgumentException($"A Meta-SpikeFormer needs five positive downsampling strides; got [{string.Join(", ", Strides)}].", nameof(Strides));
        }
        if (SepConvKernel <= 0 || SepConvKernel % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SepConvKernel), SepConvKernel, "The separable convolution needs an odd kernel size so its padding keeps the map size.");
        }
    }

    private static bool AllPositive(IReadOnlyList<int> values)
    {
        foreach (int v in values)
        {
            if (v <= 0) return false;
        }
        return true;
    }
}
