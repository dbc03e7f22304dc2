using System;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Swaps axes <paramref name="axis0"/> and <paramref name="axis1"/> (negative counts from the end), as a copy;
    /// <c>Transpose(x, -2, -1)</c> is a batched matrix transpose. The gradient is swapped back.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis is outside the shape.</exception>
    public static Variable Transpose(Variable x, int axis0, int axis1)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.Shape;
        int a = NormalizeAxis(shape, axis0, nameof(axis0)), b = NormalizeAxis(shape, axis1, nameof(axis1));
        var axes = new int[shape.Rank];
        for (int i = 0; i < axes.Length; i++) axes[i] = i;
        (axes[a], axes[b]) = (b, a);
        return PermuteNode.Forward(x, axes, "Transpose");
    }

    private static int NormalizeAxis(Tensors.Shape shape, int axis, string paramName)
    {
        int n = axis < 0 ? axis + shape.Rank : axis;
        if ((uint)n >= (uint)shape.Rank)
        {
            throw new ArgumentOutOfRangeException(paramName, axis, $"Axis {axis} is out of range for shape {shape} of rank {shape.Rank}.");
        }
        return n;
    }
}
