using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

public static partial class Functional
{
    /// <summary>
    /// Swaps axes 1 and 2 of a rank-4 <paramref name="x"/>: <c>[A, P, Q, D]</c> becomes <c>[A, Q, P, D]</c>, the
    /// move between token-major <c>[T·B, L, H, d]</c> and head-major <c>[T·B, H, L, d]</c> layouts of attention.
    /// Spikes stay bits: the packed last axis is untouched, so the swap only reorders whole packed rows. The
    /// gradient is swapped back.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rank 4.</exception>
    public static Variable SwapMiddleAxes(Variable x) => SwapMiddleAxesNode.Forward(x);
}

/// <summary>Axes 1 and 2 exchanged: <c>dx</c> is the output gradient with the same axes exchanged. Saves nothing.</summary>
internal sealed class SwapMiddleAxesNode : Node
{
    private SwapMiddleAxesNode(Variable x) : base(x)
    {
    }

    public override string Name => "swap_middle_axes";

    protected internal override void DescribeSaved(SavedTensorSink saved)
    {
    }

    public static Variable Forward(Variable x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.Shape;
        if (shape.Rank != 4)
        {
            throw new ArgumentException($"SwapMiddleAxes needs 'x' of shape [A, P, Q, D]; it has shape {shape}.", nameof(x));
        }
        if (x.Tensor is { } dense) return Variable.FromOp(dense.Permute(0, 2, 1, 3), Record(() => new SwapMiddleAxesNode(x), x));
        var spikes = x.Spikes!;
        int a = shape[0], p = shape[1], q = shape[2], words = spikes.WordsPerRow;
        var result = SpikeTensor.Zeros(a, q, p, shape[3]);
        ReadOnlySpan<ulong> source = spikes.Words;
        var destination = result.Words;
        for (int i = 0; i < a; i++)
        {
            for (int j = 0; j < p; j++)
            {
                for (int k = 0; k < q; k++)
                {
                    source.Slice(((i * p + j) * q + k) * words, words).CopyTo(destination.Slice(((i * q + k) * p + j) * words, words));
                }
            }
        }
        return Variable.FromOp(result, Record(() => new SwapMiddleAxesNode(x), x));
    }

    protected internal override Tensor?[] Backward(Tensor gradOutput) => [gradOutput.Permute(0, 2, 1, 3)];
}
