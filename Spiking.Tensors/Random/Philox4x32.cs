using System.Runtime.CompilerServices;

namespace Spiking.Tensors;

/// <summary>
/// The Philox4x32-10 counter-based bijection (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy
/// as 1, 2, 3", SC'11; the Random123 library): a keyed permutation of 128-bit counters whose outputs pass
/// BigCrush, so the n-th random block is computed directly from n with no sequential state.
/// </summary>
public static class Philox4x32
{
    /// <summary>The number of rounds of the standard generator.</summary>
    public const int Rounds = 10;

    /// <summary>The multiplier applied to counter word 0 in every round.</summary>
    public const uint Multiplier0 = 0xD2511F53;

    /// <summary>The multiplier applied to counter word 2 in every round.</summary>
    public const uint Multiplier1 = 0xCD9E8D57;

    /// <summary>The Weyl increment added to key word 0 between rounds (the golden ratio).</summary>
    public const uint Weyl0 = 0x9E3779B9;

    /// <summary>The Weyl increment added to key word 1 between rounds (<c>sqrt(3) - 1</c>).</summary>
    public const uint Weyl1 = 0xBB67AE85;

    /// <summary>Maps <paramref name="counter"/> to its random block under the key <c>(key0, key1)</c>.</summary>
    public static Philox4x32Block Generate(Philox4x32Block counter, uint key0, uint key1)
    {
        uint x0 = counter.X0, x1 = counter.X1, x2 = counter.X2, x3 = counter.X3;
        for (int round = 0; round < Rounds; round++)
        {
            Round(ref x0, ref x1, ref x2, ref x3, key0, key1);
            key0 += Weyl0;
            key1 += Weyl1;
        }
        return new Philox4x32Block(x0, x1, x2, x3);
    }

    /// <summary>Maps the counter <c>(c0, c1, c2, c3)</c> to its random block under the key <c>(key0, key1)</c>.</summary>
    public static Philox4x32Block Generate(uint c0, uint c1, uint c2, uint c3, uint key0, uint key1) =>
        Generate(new Philox4x32Block(c0, c1, c2, c3), key0, key1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref uint x0, ref uint x1, ref uint x2, ref uint x3, uint key0, uint key1)
    {
        ulong p0 = (ulong)Multiplier0 * x0;
        ulong p1 = (ulong)Multiplier1 * x2;
        uint y0 = (uint)(p1 >> 32) ^ x1 ^ key0;
        uint y2 = (uint)(p0 >> 32) ^ x3 ^ key1;
        x0 = y0;
        x1 = (uint)p1;
        x2 = y2;
        x3 = (uint)p0;
    }
}
