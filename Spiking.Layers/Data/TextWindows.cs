using System;
using Spiking.Tensors;

namespace Spiking.Layers.Data;

/// <summary>
/// Training windows for a language model: each is <c>context + 1</c> consecutive tokens (inputs, and the same shifted
/// by one as targets) starting anywhere in [0, n − context − 1), uniformly, as the reference SpikeGPT script and the
/// official SpikeGPT <c>Dataset</c> draw them. The starts come from Philox4x32-10 with key = seed and counter =
/// (block, <see cref="RandomStreams.TextWindows"/>), the layout of a <see cref="PhiloxGenerator"/>, so a seed replays
/// the same windows whatever else draws from it.
/// </summary>
/// <remarks>
/// Draw k (counted over all batches from <see cref="Offset"/> 0) is the 64-bit word <c>lo | hi &lt;&lt; 32</c> of
/// block k / 2, words (2(k % 2), 2(k % 2) + 1), and the start is <c>⌊r·m / 2^64⌋</c> for m possible starts: exact
/// integers, no float rounding, a bias below m / 2^64. A batch of b windows uses b draws, rounded up to whole
/// blocks, so every batch begins on a block and <see cref="Offset"/> says where the next one starts.
/// </remarks>
public sealed class TextWindows
{
    private readonly int[] _tokens;
    private readonly uint _key0;
    private readonly uint _key1;

    /// <summary>Draws windows of <paramref name="context"/> + 1 tokens from <paramref name="tokens"/> (usually <see cref="TextSplits.Train"/>).</summary>
    /// <param name="tokens">The token ids; kept, not copied.</param>
    /// <param name="context">Input tokens per window (the window holds one more, the last target).</param>
    /// <param name="seed">The Philox key.</param>
    /// <exception cref="ArgumentException">There are fewer than <paramref name="context"/> + 2 tokens, so there is no start to draw.</exception>
    public TextWindows(int[] tokens, int context, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        if (tokens.Length < (long)context + 2)
        {
            throw new ArgumentException($"{tokens.Length} tokens leave no window of {context} + 1 to draw: at least {(long)context + 2} are needed.", nameof(tokens));
        }
        _tokens = tokens;
        Context = context;
        Seed = seed;
        _key0 = (uint)seed;
        _key1 = (uint)(seed >> 32);
    }

    /// <summary>Input tokens per window; a window is <see cref="Context"/> + 1 tokens long.</summary>
    public int Context { get; }

    /// <summary>The number of possible starts, n − context − 1: starts are uniform in [0, <see cref="StartCount"/>).</summary>
    public int StartCount => _tokens.Length - Context - 1;

    /// <summary>The seed (the Philox key).</summary>
    public ulong Seed { get; }

    /// <summary>The next unused 128-bit block. Save and restore it to replay or resume the batches; it wraps modulo 2^64.</summary>
    public ulong Offset { get; set; }

    /// <summary>
    /// Draws <c>starts.Length</c> windows: writes their starts to <paramref name="starts"/> and window i's tokens to
    /// <c>windows[i·(Context+1) .. (i+1)·(Context+1))</c>. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="starts"/> is empty, or <paramref name="windows"/> is not <c>starts.Length·(Context+1)</c> long.
    /// </exception>
    public void Next(Span<int> windows, Span<int> starts)
    {
        if (starts.IsEmpty) throw new ArgumentException("A batch has at least one window.", nameof(starts));
        int length = Context + 1;
        if (windows.Length != (long)starts.Length * length)
        {
            throw new ArgumentException(
                $"{starts.Length} windows of {Context} + 1 tokens need {(long)starts.Length * length} ids, not {windows.Length}.", nameof(windows));
        }
        uint stream0 = (uint)RandomStreams.TextWindows, stream1 = (uint)(RandomStreams.TextWindows >> 32);
        ulong range = (ulong)StartCount;
        ulong block = Offset;
        Philox4x32Block words = default;
        for (int i = 0; i < starts.Length; i++)
        {
            if ((i & 1) == 0) words = Philox4x32.Generate((uint)block, (uint)(block >> 32), stream0, stream1, _key0, _key1);
            ulong r = (i & 1) == 0 ? words.X0 | ((ulong)words.X1 << 32) : words.X2 | ((ulong)words.X3 << 32);
            int start = (int)Math.BigMul(r, range, out _);
            starts[i] = start;
            _tokens.AsSpan(start, length).CopyTo(windows.Slice(i * length, length));
            if ((i & 1) == 1) block++;
        }
        Offset = Offset + (ulong)(starts.Length + 1) / 2;
    }
}
