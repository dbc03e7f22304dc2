using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Layers;

/// <summary>
/// The fully connected layer <c>y = x·Wᵀ + b</c> over <c>[T, B, …, in]</c> (leading axes fold into rows), with
/// PyTorch's <c>weight [out, in]</c> and <c>bias [out]</c>. Spike input runs the spike kernels, accumulating weight
/// columns for the set bits with no multiplication; dense input runs the SGEMM.
/// </summary>
public sealed class Linear : Module, IOperationCounter
{
    private readonly TransposedWeightCache _cache = new();

    /// <summary>A layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>, initialised as PyTorch's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A feature count is not positive.</exception>
    public Linear(int inFeatures, int outFeatures, bool bias = true, PhiloxGenerator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        generator ??= ModelSeed.Shared;
        Weight = RegisterParameter("weight", Tensor.Empty(outFeatures, inFeatures));
        Initialization.FanInUniform(Weight.Value, inFeatures, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outFeatures));
            Initialization.FanInUniform(Bias.Value, inFeatures, generator);
        }
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight <c>[out, in]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias <c>[out]</c>, or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public OperationCounts Operations { get; } = new();

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var y = Functional.Linear(input, Weight, Bias?.Variable, _cache);
        if (Operations.Enabled) Operations.CountFullyConnected(input, OutFeatures);
        return y;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _cache.Dispose();
        base.Dispose(disposing);
    }
}
