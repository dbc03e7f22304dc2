using System;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>
/// The state RWKV-4's WKV scan carries from one token to the next, per batch row and channel: the scaled numerator
/// <c>p</c> and denominator <c>q</c> of the running weighted average and their exponent <c>o</c> (the official RNN
/// mode's <c>aa</c>, <c>bb</c>, <c>pp</c>). Passed to <see cref="Functional.Wkv(Variable, Variable, Variable, Variable, WkvState)"/>,
/// a sequence fed in pieces, or one token at a time, continues where the last piece ended, in memory that does not
/// grow with the sequence.
/// </summary>
public sealed class WkvState : IDisposable
{
    /// <summary>A state at the start of a sequence (empty sums) for <paramref name="batch"/> rows of <paramref name="channels"/> channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public WkvState(int batch, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        (Batch, Channels) = (batch, channels);
        Values = Tensor.Empty(3, batch, channels);
        Reset();
    }

    /// <summary>The batch rows.</summary>
    public int Batch { get; }

    /// <summary>The channels.</summary>
    public int Channels { get; }

    /// <summary><c>[3, B, C]</c>: <c>p</c>, <c>q</c> and <c>o</c>, each <c>[B, C]</c>.</summary>
    public Tensor Values { get; }

    /// <summary>Returns to the start of a sequence: <c>p = q = 0</c>, <c>o</c> at the kernel's minus infinity.</summary>
    public void Reset()
    {
        var s = Values.AsSpan();
        int n = Batch * Channels;
        s[..(2 * n)].Clear();
        s[(2 * n)..].Fill(WkvScan.MinExponent);
    }

    /// <summary>Returns the storage to the pool.</summary>
    public void Dispose() => Values.Dispose();
}
