using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>
/// The arithmetic ops' forms with spike operands, computed on the bits without unpacking them to floats: a sum adds
/// ±1 where a bit is set, a product with spikes keeps the other operand where a bit is set (a gate), and a constant
/// becomes one of two values by the bit. Shapes broadcast under NumPy rules as for dense operands.
/// </summary>
internal static class SpikeOperands
{
    /// <summary><c>a + sign·b</c> with at least one spike operand, as floats (<paramref name="op"/> names the op in errors).</summary>
    /// <exception cref="System.ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor Sum(Variable a, Variable b, float sign, string op)
    {
        var shape = Elementwise.BroadcastShape(a.Shape, b.Shape, op);
        Tensor y;
        if (a.Tensor is { } ad) y = Broadcasting.Expand(ad, ad.Shape, shape);
        else if (b.Tensor is { } bd) y = Broadcasting.Expand(bd, bd.Shape, shape, sign);
        else y = Tensor.Zeros(shape);
        if (a.Spikes is { } aBits) SpikeBroadcast.AddWhereSet(y, aBits, 1f);
        if (b.Spikes is { } bBits) SpikeBroadcast.AddWhereSet(y, bBits, sign);
        return y;
    }

    /// <summary><paramref name="values"/> where <paramref name="bits"/> is set and 0 elsewhere, both broadcast to <paramref name="shape"/>.</summary>
    public static Tensor Gate(Tensor values, SpikeTensor bits, Shape shape)
    {
        using var zero = Tensor.Scalar(0f);
        return SpikeBroadcast.Where(bits, values, zero, shape);
    }

    /// <summary><paramref name="set"/> where a bit of <paramref name="bits"/> is set and <paramref name="unset"/> elsewhere, in its shape.</summary>
    public static Tensor Fill(SpikeTensor bits, float set, float unset)
    {
        using var one = Tensor.Scalar(set);
        using var zero = Tensor.Scalar(unset);
        return SpikeBroadcast.Where(bits, one, zero, bits.Shape);
    }
}
