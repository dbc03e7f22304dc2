using System;
using System.Numerics.Tensors;

namespace Spiking.Tensors;

public sealed partial class Tensor
{
    /// <summary>A copy of this tensor as a <see cref="Tensor{T}"/> of System.Numerics.Tensors.</summary>
    /// <remarks>A scalar becomes a one-element vector <c>[1]</c>: System.Numerics.Tensors has no rank-0 tensors.</remarks>
    public Tensor<float> ToSystemTensor()
    {
        var values = ToArray();
        return System.Numerics.Tensors.Tensor.Create(values, Lengths());
    }

    /// <summary>
    /// A <see cref="TensorSpan{T}"/> over this tensor's own storage, without copying: writes through it change
    /// this tensor (and count as a mutable access for <see cref="Version"/>).
    /// </summary>
    /// <remarks>
    /// The strides are the library's own dense row-major ones, which are 0 on axes of length 0 or 1: it rejects
    /// explicit strides such as <c>[1, 1]</c> for lengths <c>[17, 1]</c>. A scalar is viewed as <c>[1]</c>.
    /// </remarks>
    public TensorSpan<float> AsTensorSpan()
    {
        AsSpan();
        return new TensorSpan<float>(StorageArray, StorageOffset, Lengths(), strides: default);
    }

    /// <summary>A new tensor with a copy of <paramref name="source"/>'s elements in row-major order (any strides).</summary>
    /// <exception cref="ArgumentException">A dimension exceeds <see cref="int.MaxValue"/>.</exception>
    public static Tensor FromSystemTensor(ReadOnlyTensorSpan<float> source)
    {
        var dims = new int[source.Rank];
        for (int i = 0; i < dims.Length; i++)
        {
            nint length = source.Lengths[i];
            if (length > int.MaxValue) throw new ArgumentException($"Dimension {i} of the source has length {length}; at most {int.MaxValue} is supported.", nameof(source));
            dims[i] = (int)length;
        }
        var result = Empty(new Shape(dims));
        if (result.Length > 0) source.FlattenTo(result.AsSpan());
        return result;
    }

    /// <summary>A new tensor with a copy of <paramref name="source"/>'s elements.</summary>
    public static Tensor FromSystemTensor(Tensor<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return FromSystemTensor(source.AsReadOnlyTensorSpan());
    }

    /// <summary>
    /// The lengths to hand to System.Numerics.Tensors. Empty lengths there mean a rank-1 tensor of length 0, which
    /// would silently drop a scalar's value, so a scalar is described as <c>[1]</c>.
    /// </summary>
    private nint[] Lengths()
    {
        if (Rank == 0) return [1];
        var lengths = new nint[Rank];
        for (int i = 0; i < Rank; i++) lengths[i] = Shape[i];
        return lengths;
    }
}
