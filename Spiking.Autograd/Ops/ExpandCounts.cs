using System;
using System.Globalization;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Integer training, spike inference: expands multi-level spike counts <paramref name="counts"/> <c>[T, …]</c>
    /// (integers 0..D, as <see cref="Neurons.IlifNeuron"/> emits them) into binary spikes <c>[T·D, …]</c>, D =
    /// <paramref name="maxCount"/> sub-steps per step, time-major (step t's sub-steps are rows t·D … t·D + D − 1), a
    /// count c firing the first c of them (SpikingJelly's <c>SpikeCountToBinary</c>). A layer without bias on these
    /// bits runs its spike kernel (additions only), and <see cref="SumSubSteps"/> of its output is the same layer on
    /// the counts: <c>W·c = Σ_d W·s_d</c>. Add any bias once after the sum.
    /// </summary>
    /// <remarks>
    /// Backward: each sub-step's bit stands for <c>c/D</c> (SpikingJelly's straight-through estimator), so
    /// <c>dL/dc = (1/D)·Σ_d dL/ds_d</c>: the mean of the sub-steps' gradients. That makes expanding, a bias-free
    /// layer and <see cref="SumSubSteps"/> give the gradients of the layer on the counts, and expanding then summing
    /// the identity, in the backward as in the forward.
    /// </remarks>
    /// <param name="counts">Dense counts <c>[T, …]</c> with at least one axis after time; every value a whole number in <c>[0, maxCount]</c>.</param>
    /// <param name="maxCount">D, the largest count and the number of sub-steps per step.</param>
    /// <exception cref="ArgumentException"><paramref name="counts"/> holds spikes, has no axis after time, or holds a value that is not a whole number in [0, maxCount] (the message gives the first).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is less than 1, or T·D overflows.</exception>
    /// <exception cref="NotSupportedException"><paramref name="counts"/> is on a device.</exception>
    public static Variable ExpandCounts(Variable counts, int maxCount) => ExpandCountsNode.Forward(counts, maxCount);

    /// <summary>
    /// Sums each run of <paramref name="subSteps"/> consecutive steps of <paramref name="x"/> <c>[T·D, …]</c> into
    /// one, giving <c>[T, …]</c> (SpikingJelly's <c>TemporalBinSum</c>): the inverse of <see cref="ExpandCounts"/> on
    /// its bits, and how a layer's output over expanded sub-steps returns to the logical steps. Spikes are summed as
    /// 0/1 floats. The gradient reaches every sub-step of a step unchanged.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar, or its leading axis is not a multiple of <paramref name="subSteps"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="subSteps"/> is less than 1.</exception>
    public static Variable SumSubSteps(Variable x, int subSteps)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (subSteps < 1) throw new ArgumentOutOfRangeException(nameof(subSteps), subSteps, $"SumSubSteps needs at least 1 sub-step per step; got {subSteps}.");
        var shape = x.Shape;
        if (shape.Rank == 0 || shape[0] % subSteps != 0)
        {
            throw new ArgumentException($"SumSubSteps needs 'x' of shape [T·{subSteps}, …]; it has shape {shape}.", nameof(x));
        }
        var dims = new int[shape.Rank + 1];
        dims[0] = shape[0] / subSteps;
        dims[1] = subSteps;
        for (int i = 1; i < shape.Rank; i++) dims[i + 1] = shape[i];
        var dense = x.IsSpikes ? SpikesToDense(x) : x;
        return Sum(Reshape(dense, dims), 1);
    }
}

/// <summary>Count expansion: <c>dc = (1/D)·Σ_d G[t·D + d]</c>. Saves nothing.</summary>
internal sealed class ExpandCountsNode : Node
{
    private readonly Shape _input;
    private readonly int _maxCount;

    private ExpandCountsNode(Variable counts, int maxCount) : base(counts) => (_input, _maxCount) = (counts.Shape, maxCount);

    public override string Name => "expand_counts";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable counts, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var value = OpChecks.Dense(counts, nameof(counts), "ExpandCounts");
        if (maxCount < 1) throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"ExpandCounts needs a maximum count of at least 1; got {maxCount}.");
        var shape = value.Shape;
        if (shape.Rank < 2) throw new ArgumentException($"ExpandCounts needs 'counts' of shape [T, …] with at least one axis after time; it has shape {shape}.", nameof(counts));
        if (!value.IsOnHost) throw OpChecks.NoDeviceKernel("ExpandCounts", value.Device);
        long expanded = (long)shape[0] * maxCount;
        if (expanded > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"ExpandCounts: {shape[0]} steps times {maxCount} sub-steps is more than an axis can hold.");
        }
        var source = value.AsReadOnlySpan();
        for (int i = 0; i < source.Length; i++)
        {
            float c = source[i];
            if (!(c >= 0f && c <= maxCount && c == MathF.Floor(c)))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"ExpandCounts needs whole counts in [0, {maxCount}]; 'counts' element {i} is {c}."), nameof(counts));
            }
        }
        var result = SpikeTensor.Zeros(shape.WithDimension(0, (int)expanded));
        int steps = shape[0], perStep = source.Length / Math.Max(1, steps), rowLength = shape.LastDimension;
        int stepWords = rowLength == 0 ? 0 : perStep / rowLength * result.WordsPerRow;
        var words = result.Words;
        for (int t = 0; t < steps; t++)
        {
            var step = source.Slice(t * perStep, perStep);
            // Sub-step d fires where c ≥ d + 1: the first c sub-steps.
            for (int d = 0; d < maxCount; d++) BitPack.PackGreaterOrEqual(step, rowLength, d + 1, words.Slice((t * maxCount + d) * stepWords, stepWords));
        }
        return Variable.FromOp(result, Record(() => new ExpandCountsNode(counts, maxCount), counts));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        var grad = Tensor.Empty(_input);
        var total = grad.AsSpan();
        var g = gradOutput.AsReadOnlySpan();
        int perStep = total.Length / Math.Max(1, _input[0]);
        for (int t = 0; t < _input[0]; t++)
        {
            var sum = total.Slice(t * perStep, perStep);
            int first = t * _maxCount * perStep;
            g.Slice(first, perStep).CopyTo(sum);
            for (int d = 1; d < _maxCount; d++) TensorPrimitives.Add(sum, g.Slice(first + d * perStep, perStep), sum);
            // Divided, not multiplied by 1/D: D equal gradients then give back exactly one of them.
            TensorPrimitives.Divide(sum, _maxCount, sum);
        }
        return [grad];
    }
}
