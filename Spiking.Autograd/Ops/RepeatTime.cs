using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Repeats a single step <c>[1, …]</c> <paramref name="steps"/> times along the leading (time) axis, giving
    /// <c>[steps, …]</c>: how a time-invariant input computed once (a static image through the first stateless
    /// layers) becomes the multi-step current of a neuron. The gradient is the sum over the steps.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> does not have a leading axis of 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public static Variable RepeatTime(Variable x, int steps) => RepeatTimeNode.Forward(x, steps);
}

/// <summary>Repetition over time: <c>dx = Σ_t G[t]</c>. Saves nothing.</summary>
internal sealed class RepeatTimeNode : Node
{
    private readonly Shape _input;
    private readonly int _steps;

    private RepeatTimeNode(Variable x, int steps) : base(x) => (_input, _steps) = (x.Shape, steps);

    public override string Name => "repeat_time";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, int steps)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        var shape = x.Shape;
        if (shape.Rank == 0 || shape[0] != 1)
        {
            throw new ArgumentException($"RepeatTime needs 'x' of shape [1, …] (one time step); it has shape {shape}.", nameof(x));
        }
        var value = OpChecks.Dense(x, nameof(x), "RepeatTime");
        var result = Tensor.Empty(shape.WithDimension(0, steps), value.Device);
        for (int t = 0; t < steps; t++)
        {
            using var step = result.Slice(t, 1);
            value.CopyTo(step);
        }
        return Variable.FromOp(result, Record(() => new RepeatTimeNode(x, steps), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (!gradOutput.IsOnHost)
        {
            // The same sum in the same order: the steps are the rows of [T, n].
            var summed = Tensor.Empty(_input, gradOutput.Device);
            gradOutput.Backend.SumRows(gradOutput, summed);
            return [summed];
        }
        var sum = Tensor.Empty(_input);
        var total = sum.AsSpan();
        var g = gradOutput.AsReadOnlySpan();
        g[..total.Length].CopyTo(total);
        for (int t = 1; t < _steps; t++) System.Numerics.Tensors.TensorPrimitives.Add(total, g.Slice(t * total.Length, total.Length), total);
        return [sum];
    }
}
