using System;
using System.Numerics;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// The mean over the leading time axis of <c>[T, ...]</c>, giving <c>[...]</c>. On spikes it counts the bits of
    /// each element over time without unpacking, which is the firing-rate readout; its gradient
    /// (<c>G/T</c> at every step) is then the gradient with respect to the spikes.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar or has no time steps (T = 0).</exception>
    public static Variable MeanOverTime(Variable x) => MeanOverTimeNode.Forward(x);
}

/// <summary>Mean over axis 0: <c>dx[t] = G/T</c> for every step t. Saves only the input shape.</summary>
internal sealed class MeanOverTimeNode : Node
{
    private readonly Shape _input;

    private MeanOverTimeNode(Variable x) : base(x)
    {
        _input = x.Shape;
    }

    public override string Name => "mean over time";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.Shape;
        if (shape.Rank == 0 || shape[0] == 0)
        {
            throw new ArgumentException($"MeanOverTime needs 'x' of shape [T, ...] with T >= 1; it has shape {shape}.", nameof(x));
        }
        var y = x.Device.Kind != DeviceKind.Cpu ? DeviceMean(x) : x.Spikes is { } spikes ? FiringRate(spikes) : x.Tensor!.Mean(0);
        return Variable.FromOp(y, Record(() => new MeanOverTimeNode(x), x));
    }

    /// <summary>The spike count of each element over the leading axis, divided by its length.</summary>
    /// <summary>The mean over the leading axis on a device: spikes unpacked, the steps summed in order, scaled by 1/T.</summary>
    private static Tensor DeviceMean(Variable x)
    {
        var shape = x.Shape;
        if (shape.Rank == 1) throw OpChecks.NoDeviceKernel("MeanOverTime over a rank-1 input", x.Device);
        var result = Tensor.Empty(shape.DropLeading(), x.Device);
        var backend = result.Backend;
        if (x.Spikes is { } spikes)
        {
            using var dense = Tensor.Empty(shape, x.Device);
            backend.Unpack(spikes, dense);
            backend.SumRows(dense, result);
        }
        else
        {
            backend.SumRows(x.Tensor!, result);
        }
        backend.Scale(result, 1f / shape[0], result);
        return result;
    }

    private static Tensor FiringRate(SpikeTensor spikes)
    {
        var shape = spikes.Shape;
        int steps = shape[0];
        if (shape.Rank == 1)
        {
            // One row of T bits: the time axis is the packed one.
            return Tensor.Scalar((float)spikes.PopCount() * (1f / steps));
        }
        var result = Tensor.Zeros(shape.DropLeading());
        var counts = result.AsSpan();
        int length = spikes.RowLength, perRow = spikes.WordsPerRow;
        int rowsPerStep = spikes.RowCount / steps;
        var words = spikes.Words;
        for (int t = 0; t < steps; t++)
        {
            for (int r = 0; r < rowsPerStep; r++)
            {
                var row = words.Slice((t * rowsPerStep + r) * perRow, perRow);
                var outRow = counts.Slice(r * length, length);
                for (int w = 0; w < row.Length; w++)
                {
                    ulong bits = row[w];
                    while (bits != 0)
                    {
                        outRow[(w << 6) + BitOperations.TrailingZeroCount(bits)] += 1f;
                        bits &= bits - 1;
                    }
                }
            }
        }
        result.MultiplyInPlace(1f / steps);
        return result;
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput)
    {
        if (gradOutput.IsOnHost) return [Broadcasting.Expand(gradOutput, _input.WithDimension(0, 1), _input, 1f / _input[0])];
        var dx = Tensor.Zeros(_input, gradOutput.Device);
        var backend = dx.Backend;
        backend.AddRowVector(dx, gradOutput);
        backend.Scale(dx, 1f / _input[0], dx);
        return [dx];
    }
}
