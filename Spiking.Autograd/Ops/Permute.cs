using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Reorders the axes: axis <c>i</c> of the result is axis <c>axes[i]</c> of <paramref name="x"/> (negative
    /// entries count from the end). The result is a copy; the gradient is permuted back by the inverse permutation.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="axes"/> does not name every axis exactly once, or <paramref name="x"/> holds spikes.</exception>
    public static Variable Permute(Variable x, params int[] axes) => PermuteNode.Forward(x, axes, "Permute");
}

/// <summary>An axis permutation. Saves only the inverse permutation.</summary>
internal sealed class PermuteNode : Node
{
    private readonly int[] _inverse;

    private PermuteNode(Variable x, int[] inverse) : base(x)
    {
        _inverse = inverse;
    }

    public override string Name => "permute";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, int[] axes, string op)
    {
        var value = OpChecks.Dense(x, nameof(x), op);
        var y = value.Permute(axes);
        return Variable.FromOp(y, Record(() => new PermuteNode(x, Inverse(axes)), x));
    }

    /// <summary>The permutation that undoes <paramref name="axes"/> (already validated by the forward).</summary>
    private static int[] Inverse(int[] axes)
    {
        var inverse = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) inverse[axes[i] < 0 ? axes[i] + axes.Length : axes[i]] = i;
        return inverse;
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Permute(_inverse)];
}
