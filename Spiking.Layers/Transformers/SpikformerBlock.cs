using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// One Spikformer encoder block: <c>x = x + SSA(x)</c>, then <c>x = x + MLP(x)</c>, residuals added on the spikes
/// (so the block's output is dense, counting how many paths fired), as the paper defines them.
/// </summary>
public sealed class SpikformerBlock : Module
{
    private readonly SpikingSelfAttention _attention;
    private readonly SpikingMlpBlock _mlp;

    /// <summary>A block of width <paramref name="dim"/>, <paramref name="heads"/> heads and MLP ratio <paramref name="mlpRatio"/>.</summary>
    public SpikformerBlock(int dim, int heads, int mlpRatio = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mlpRatio);
        _attention = RegisterModule("attn", new SpikingSelfAttention(dim, heads));
        _mlp = RegisterModule("mlp", new SpikingMlpBlock(dim, dim * mlpRatio));
    }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = Functional.Add(Dense(input), Functional.SpikesToDense(_attention.Forward(input)));
        return Functional.Add(x, Functional.SpikesToDense(_mlp.Forward(x)));
    }

    private static Variable Dense(Variable x) => x.IsSpikes ? Functional.SpikesToDense(x) : x;
}

/// <summary>
/// Spikformer (W3 of DESIGN.md at its defaults: 7×7 tokens of width 64 from 28×28 images, 2 blocks, 4 heads, MLP
/// ratio 4): <c>patch_embed</c> (SPS), <c>block.0</c>, <c>block.1</c>, …, then the mean over tokens and the
/// <c>head</c> Linear, giving one output per time step <c>[T, B, classes]</c> (train on the mean over T).
/// Input: the images as current at every step, <c>[T, B, C, H, W]</c>.
/// </summary>
public sealed class Spikformer : Module
{
    private readonly SpikingPatchSplitting _embed;
    private readonly Sequential _blocks;
    private readonly Linear _head;

    /// <summary>A Spikformer for <paramref name="inChannels"/>-channel images and <paramref name="classes"/> classes.</summary>
    public Spikformer(int inChannels = 1, int classes = 10, int dim = 64, int depth = 2, int heads = 4, int mlpRatio = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        _embed = RegisterModule("patch_embed", new SpikingPatchSplitting(inChannels, dim));
        var blocks = new Module[depth];
        for (int i = 0; i < depth; i++) blocks[i] = new SpikformerBlock(dim, heads, mlpRatio);
        _blocks = RegisterModule("block", new Sequential(blocks));
        _head = RegisterModule("head", new Linear(dim, classes));
    }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        var tokens = _blocks.Forward(_embed.Forward(input));
        return _head.Forward(Functional.Mean(tokens, axis: 2));
    }
}
