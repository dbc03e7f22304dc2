using System;
using System.Numerics.Tensors;

namespace Spiking.Layers;

/// <summary>Finds NaN and infinities in a span: one vectorised pass, the element-wise search only when one exists.</summary>
internal static class FiniteValues
{
    /// <summary>The index of the first NaN or infinity of <paramref name="values"/>, or -1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // MaxMagnitude returns NaN when any element is NaN and +Inf when any is infinite.
        if (values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values))) return -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }
}
