namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The mean of all elements, as a scalar (shape <c>[]</c>); NaN for an empty tensor. Spikes are counted as bits: their
    /// mean is the firing rate, and their gradient is dense, as for <see cref="Sum(Variable)"/>.
    /// </summary>
    /// <exception cref="System.NotSupportedException"><paramref name="x"/> holds spikes on a device other than the CPU.</exception>
    public static Variable Mean(Variable x) => SumNode.Forward(x, axis: null, keepDim: false, mean: true);

    /// <summary>Averages along <paramref name="axis"/> (negative counts from the end); <paramref name="keepDim"/> keeps it as size 1.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="x"/> holds spikes.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape.</exception>
    /// <exception cref="System.InvalidOperationException">The axis has length 0.</exception>
    public static Variable Mean(Variable x, int axis, bool keepDim = false) => SumNode.Forward(x, axis, keepDim, mean: true);
}
