using System;
using Spiking.Autograd;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's channel MLP (<c>MS_MLP</c>) over membrane-level maps <c>[T, B, C, H, W]</c>, seen as
/// <c>[T, B, C, N]</c> over the N = H·W tokens: <c>fc1_lif</c> → <c>fc1_conv</c> (pointwise <c>Conv1d</c> C → hidden,
/// with bias) → <c>fc1_bn</c> (<c>BatchNorm1d</c>) → <c>fc2_lif</c> → <c>fc2_conv</c> (hidden → C, with bias) →
/// <c>fc2_bn</c>. Each neuron comes before its convolution, as in the reference code; the output is dense.
/// </summary>
public sealed class MetaSpikeFormerMlp : Module
{
    private readonly Module _fc1, _fc2, _lif1, _lif2;
    private readonly BatchNorm1d _bn1, _bn2;

    /// <summary>An MLP of <paramref name="dim"/> channels with <paramref name="hidden"/> inside, its layers from <paramref name="layers"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public MetaSpikeFormerMlp(int dim, int hidden, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        layers ??= MetaSpikeFormerLayers.Default;
        (Dim, Hidden) = (dim, hidden);
        _fc1 = RegisterModule("fc1_conv", layers.Conv1d(dim, hidden, true));
        _bn1 = RegisterModule("fc1_bn", new BatchNorm1d(hidden));
        _lif1 = RegisterModule("fc1_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
        _fc2 = RegisterModule("fc2_conv", layers.Conv1d(hidden, dim, true));
        _bn2 = RegisterModule("fc2_bn", new BatchNorm1d(dim));
        _lif2 = RegisterModule("fc2_lif", layers.Neuron(MetaSpikeFormerNeuronRole.Ordinary));
    }

    /// <summary>The channel count C of the input and output.</summary>
    public int Dim { get; }

    /// <summary>The hidden width.</summary>
    public int Hidden { get; }

    /// <inheritdoc/>
    /// <remarks>Spike input is read as 0/1 currents.</remarks>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c>.</exception>
    public override Variable Forward(Variable input)
    {
        MetaSpikeFormerConvBlock.CheckMaps(input, Dim, nameof(MetaSpikeFormerMlp));
        var s = input.Shape;
        var x = Functional.Reshape(input.IsSpikes ? Functional.SpikesToDense(input) : input, s[0], s[1], s[2], s[3] * s[4]);
        x = _bn1.Forward(_fc1.Forward(_lif1.Forward(x)));
        x = _bn2.Forward(_fc2.Forward(_lif2.Forward(x)));
        return Functional.Reshape(x, s[0], s[1], s[2], s[3], s[4]);
    }
}
