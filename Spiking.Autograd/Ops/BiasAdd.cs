using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Adds a per-channel <paramref name="bias"/> <c>[C]</c> to <paramref name="x"/> along <paramref name="axis"/>
    /// (default the last, as for <c>[B, C]</c>; 1 for <c>[N, C, H, W]</c>): every element in channel c gets
    /// <c>bias[c]</c>. The bias gradient sums the output gradient over every other axis.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="bias"/> is not <c>[C]</c> with C the length of that axis, or an operand holds spikes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside the shape of <paramref name="x"/>.</exception>
    public static Variable BiasAdd(Variable x, Variable bias, int axis = -1) => BiasAddNode.Forward(x, bias, axis);
}

/// <summary>A per-channel bias add: <c>dx = G</c>, <c>db[c] = Σ G</c> over every axis but the channel. Saves only shapes.</summary>
internal sealed class BiasAddNode : Node
{
    private readonly Shape _channelShape;

    private BiasAddNode(Variable x, Variable bias, Shape channelShape) : base(x, bias)
    {
        _channelShape = channelShape;
    }

    public override string Name => "bias add";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x, Variable bias, int axis)
    {
        var value = OpChecks.Dense(x, nameof(x), "BiasAdd");
        var b = OpChecks.Dense(bias, nameof(bias), "BiasAdd");
        if (value.Rank == 0) throw new ArgumentOutOfRangeException(nameof(axis), axis, "BiasAdd needs 'x' with a channel axis; it is a scalar.");
        int a = value.Shape.NormalizeAxis(axis);
        int channels = value.Shape[a];
        if (b.Rank != 1 || b.Shape[0] != channels)
        {
            throw new ArgumentException(
                $"BiasAdd: 'bias' has shape {b.Shape}; 'x' has shape {value.Shape}, so a bias along axis {a} must be [{channels}].", nameof(bias));
        }
        // [C] viewed as [C, 1, ..., 1], which broadcasts onto x's trailing axes from the channel axis on.
        var dims = new int[value.Rank - a];
        dims.AsSpan().Fill(1);
        dims[0] = channels;
        var channelShape = new Shape(dims);
        Tensor y;
        using (var view = b.Reshape(channelShape))
        {
            y = value.Add(view);
        }
        return Variable.FromOp(y, Record(() => new BiasAddNode(x, bias, channelShape), x, bias));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        Tensor? db = null;
        if (NeedsGrad(1))
        {
            using var summed = gradOutput.SumToShape(_channelShape);
            db = summed.Reshape(_channelShape[0]);
        }
        return [NeedsGrad(0) ? gradOutput.Clone() : null, db];
    }
}
