using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The same elements with other dimensions (one may be -1 and is inferred), as a view: no copy, like PyTorch's
    /// <c>view</c>. Spikes reshape without copying when the packed last dimension is kept (folding <c>[T, B, N]</c>
    /// into <c>[T·B, N]</c>, say) and are repacked into a new bit layout when it changes (flattening
    /// <c>[N, C, H, W]</c> into <c>[N, C·H·W]</c>). The gradient is the output gradient viewed with the input's shape.
    /// </summary>
    /// <exception cref="ArgumentException">The element count differs.</exception>
    public static Variable Reshape(Variable x, params int[] dims) => ReshapeNode.Forward(x, dims);

    /// <summary>The same elements with shape <paramref name="shape"/>, as a view; see <see cref="Reshape(Variable, int[])"/>.</summary>
    /// <exception cref="ArgumentException">The element count differs, or spikes would change their last dimension.</exception>
    public static Variable Reshape(Variable x, Shape shape) => ReshapeNode.Forward(x, shape.Dimensions.ToArray());
}

/// <summary>A reshape (also the identity, as a fresh variable over the same storage). Saves only the input shape.</summary>
internal sealed class ReshapeNode : Node
{
    private readonly Shape _input;

    private ReshapeNode(Variable x) : base(x)
    {
        _input = x.Shape;
    }

    public override string Name => "reshape";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, int[] dims)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dims);
        if (x.Spikes is { } spikes)
        {
            var target = Shape.Resolve(dims, spikes.Shape, nameof(dims));
            var reshaped = target.Rank > 0 && target.LastDimension == spikes.RowLength ? spikes.Reshape(dims) : Repacked(spikes, target);
            return Variable.FromOp(reshaped, Record(() => new ReshapeNode(x), x));
        }
        return Variable.FromOp(x.Tensor!.Reshape(dims), Record(() => new ReshapeNode(x), x));
    }

    /// <summary>A new variable holding a view of <paramref name="x"/>'s value, whose gradient passes straight back.</summary>
    public static Variable Identity(Variable x) => Forward(x, x.Shape.Dimensions.ToArray());

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Reshape(_input)];

    // A reshape that changes the packed last axis copies the bit stream into the new row layout.
    private static SpikeTensor Repacked(SpikeTensor spikes, Shape target)
    {
        if (spikes.Device.Kind != DeviceKind.Cpu) return RepackedOnDevice(spikes, target);
        var result = SpikeTensor.Zeros(target);
        if (target.ElementCount > 0)
        {
            BitRepack.Repack(spikes.Words, spikes.RowLength, result.Words, target.Rank == 0 ? 1 : target.LastDimension, target.ElementCount);
        }
        return result;
    }

    // On a device the bits go through 0/1 floats: unpacked in the old row layout, packed again in the new one.
    private static SpikeTensor RepackedOnDevice(SpikeTensor spikes, Shape target)
    {
        var backend = spikes.Backend;
        using var values = Tensor.Empty(spikes.Shape, spikes.Device);
        backend.Unpack(spikes, values);
        using var viewed = values.Reshape(target);
        var result = SpikeTensor.Zeros(target, spikes.Device);
        backend.PackGreaterOrEqual(viewed, 0.5f, result);
        return result;
    }
}
