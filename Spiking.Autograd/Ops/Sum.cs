using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The sum of all elements, as a scalar (shape <c>[]</c>). Spikes are counted where they lie, as bits (no float
    /// copy); their gradient is the dense output gradient repeated over every element, as for a float 0/1 tensor.
    /// </summary>
    /// <exception cref="System.NotSupportedException"><paramref name="x"/> holds spikes on a device other than the CPU.</exception>
    public static Variable Sum(Variable x) => SumNode.Forward(x, axis: null, keepDim: false, mean: false);

    /// <summary>Sums along <paramref name="axis"/> (negative counts from the end); <paramref name="keepDim"/> keeps it as size 1.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape.</exception>
    public static Variable Sum(Variable x, int axis, bool keepDim = false) => SumNode.Forward(x, axis, keepDim, mean: false);
}

/// <summary>
/// A sum or mean over all elements or one axis. Saves only the shapes: the gradient is the output gradient
/// repeated over the reduced elements (divided by their count for a mean).
/// </summary>
internal sealed class SumNode : Node
{
    private readonly Shape _input, _kept;
    private readonly float _scale;
    private readonly bool _mean;

    private SumNode(Variable x, Shape kept, float scale, bool mean) : base(x)
    {
        _input = x.Shape;
        _kept = kept;
        _scale = scale;
        _mean = mean;
    }

    public override string Name => _mean ? "mean" : "sum";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    /// <summary>Reduces all elements (<paramref name="axis"/> null) or one axis, summing or averaging; spikes only over all elements.</summary>
    public static Variable Forward(Variable x, int? axis, bool keepDim, bool mean)
    {
        string op = mean ? "Mean" : "Sum";
        System.ArgumentNullException.ThrowIfNull(x);
        if (axis is null && x.Spikes is { } spikes) return CountSpikes(x, spikes, mean);
        var value = OpChecks.Dense(x, nameof(x), op);
        Tensor y;
        Shape kept;
        int count;
        if (axis is null)
        {
            count = value.Length;
            kept = new Shape();
            float total = value.Sum();
            y = Tensor.Scalar(mean ? total / count : total);
        }
        else
        {
            int a = x.Shape.NormalizeAxis(axis.Value);
            count = x.Shape[a];
            kept = x.Shape.WithDimension(a, 1);
            y = mean ? value.Mean(a, keepDim) : value.Sum(a, keepDim);
        }
        float scale = mean ? 1f / count : 1f;
        return Variable.FromOp(y, Record(() => new SumNode(x, kept, scale, mean), x));
    }

    /// <summary>The number of spikes (or the firing rate, for a mean) from the bits' population count, rounded to float once.</summary>
    private static Variable CountSpikes(Variable x, SpikeTensor spikes, bool mean)
    {
        if (!spikes.IsOnHost) throw OpChecks.NoDeviceKernel(mean ? "Mean of spikes" : "Sum of spikes", spikes.Device);
        long total = spikes.PopCount();
        long count = spikes.Shape.ElementCount;
        var y = Tensor.Scalar(mean ? (float)((double)total / count) : total);
        float scale = mean ? 1f / count : 1f;
        return Variable.FromOp(y, Record(() => new SumNode(x, new Shape(), scale, mean), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) =>
        [Broadcasting.Expand(gradOutput, _kept, _input, _scale)];
}
