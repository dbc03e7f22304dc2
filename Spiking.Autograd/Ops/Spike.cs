using System;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Fires: <c>spike = 1 where x &gt;= threshold, else 0</c> (x = threshold spikes), as bits; the backward uses the
    /// surrogate, <c>dL/dx = dL/dspike · g'(x − threshold)</c>. This is SpikingJelly's
    /// <c>surrogate(x - v_threshold)</c>; the neurons fuse it into their own op.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes or is a scalar (a spike tensor needs an axis to pack).</exception>
    public static Variable Spike(Variable x, Surrogate surrogate, float threshold = 0f) => SpikeNode.Forward(x, surrogate, threshold);
}

/// <summary>The Heaviside step with a surrogate gradient. Saves a view of the input (no copy).</summary>
internal sealed class SpikeNode : Node
{
    private readonly Tensor _x;
    private readonly Surrogate _surrogate;
    private readonly float _threshold;

    private SpikeNode(Variable x, Surrogate surrogate, float threshold) : base(x)
    {
        _x = x.Dense.Reshape(x.Shape);
        _surrogate = surrogate;
        _threshold = threshold;
    }

    public override string Name => $"spike[{_surrogate}]";

    public static Variable Forward(Variable x, Surrogate surrogate, float threshold)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(surrogate);
        if (x.IsSpikes) throw new ArgumentException($"Spike needs a dense input; {x} already holds spikes.", nameof(x));
        if (x.Shape.Rank == 0) throw new ArgumentException("Spike needs an input with at least one axis; a scalar cannot be bit-packed.", nameof(x));
        var spikes = SpikeTensor.FromThreshold(x.Dense, threshold);
        return Variable.FromOp(spikes, Record(() => new SpikeNode(x, surrogate, threshold), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var g = Tensor.Empty(_x.Shape);
        var d = g.AsSpan();
        TensorPrimitives.Subtract(_x.AsReadOnlySpan(), _threshold, d);
        _surrogate.Derivative(d, d);
        TensorPrimitives.Multiply(d, gradOutput.AsReadOnlySpan(), d);
        return [g];
    }

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
        saved.Add("input", _x);
    }

    protected internal override void ReleaseSaved() => _x.Dispose();
}
