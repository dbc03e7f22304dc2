using System;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

public sealed class BitTransposeTests
{
    [Property]
    public void Transpose64_swaps_row_and_bit(int seed, byte density)
    {
        var rng = new Random(seed);
        var block = new ulong[64];
        double rate = density / 255.0;
        for (int r = 0; r < 64; r++)
        {
            for (int c = 0; c < 64; c++)
            {
                if (rng.NextDouble() < rate) block[r] |= 1UL << c;
            }
        }
        var t = (ulong[])block.Clone();
        BitTranspose.Transpose64(t);
        for (int r = 0; r < 64; r++)
        {
            for (int c = 0; c < 64; c++)
            {
                bool expected = (block[c] >> r & 1) != 0;
                if (((t[r] >> c & 1) != 0) != expected) throw new Xunit.Sdk.XunitException($"seed {seed}: bit ({r}, {c}) wrong.");
            }
        }
        BitTranspose.Transpose64(t);
        Assert.Equal(block, t);
    }

    [Fact]
    public void Transpose64_moves_single_bits()
    {
        var block = new ulong[64];
        for (int r = 0; r < 64; r++)
        {
            for (int c = 0; c < 64; c++)
            {
                Array.Clear(block);
                block[r] = 1UL << c;
                BitTranspose.Transpose64(block);
                for (int i = 0; i < 64; i++) Assert.Equal(i == c ? 1UL << r : 0UL, block[i]);
            }
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) })]
    public void Transpose_matches_a_naive_transpose_and_the_reference(BitMatrixCase c)
    {
        var bits = c.Bits();
        var source = Reference.Pack(bits, c.Rows, c.Cols);
        var transposedBits = new bool[bits.Length];
        for (int r = 0; r < c.Rows; r++)
        {
            for (int col = 0; col < c.Cols; col++) transposedBits[col * c.Rows + r] = bits[r * c.Cols + col];
        }
        var expected = Reference.Pack(transposedBits, c.Cols, c.Rows);

        var fast = new ulong[expected.Length];
        var slow = new ulong[expected.Length];
        fast.AsSpan().Fill(0xA5A5_A5A5_A5A5_A5A5UL);
        slow.AsSpan().Fill(0x5A5A_5A5A_5A5A_5A5AUL);
        BitTranspose.Transpose(source, c.Rows, c.Cols, fast);
        BitTranspose.TransposeReference(source, c.Rows, c.Cols, slow);
        Assert.Equal(expected, slow);
        Assert.Equal(expected, fast);

        // Padding bits of every destination row (past the source's row count) are zero.
        int wpr = (c.Rows + 63) / 64;
        if (wpr > 0)
        {
            ulong mask = BitPack.LastWordMask(c.Rows);
            for (int r = 0; r < c.Cols; r++) Assert.Equal(0UL, fast[r * wpr + wpr - 1] & ~mask);
        }

        var back = new ulong[source.Length];
        BitTranspose.Transpose(fast, c.Cols, c.Rows, back);
        Assert.Equal(source, back);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(0, 5)]
    [InlineData(5, 0)]
    [InlineData(0, 0)]
    [InlineData(64, 64)]
    [InlineData(65, 63)]
    [InlineData(63, 129)]
    [InlineData(200, 1)]
    [InlineData(1, 200)]
    [InlineData(130, 257)]
    public void Transpose_of_edge_shapes(int rows, int cols)
    {
        foreach (double rate in new[] { 0.0, 0.3, 1.0 })
        {
            var c = new BitMatrixCase(rows, cols, rate, rows * 1000 + cols);
            Transpose_matches_a_naive_transpose_and_the_reference(c);
        }
    }

    [Fact]
    public void Transpose_checks_the_spans()
    {
        var e = Assert.Throws<ArgumentException>(() => BitTranspose.Transpose(new ulong[2], 3, 10, new ulong[10]));
        Assert.Equal("source", e.ParamName);
        Assert.Contains("2", e.Message, StringComparison.Ordinal);
        Assert.Contains("3", e.Message, StringComparison.Ordinal);
        var d = Assert.Throws<ArgumentException>(() => BitTranspose.Transpose(new ulong[3], 3, 10, new ulong[9]));
        Assert.Equal("destination", d.ParamName);
        Assert.Contains("9", d.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => BitTranspose.Transpose(new ulong[3], -1, 10, new ulong[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitTranspose.Transpose(new ulong[3], 3, -1, new ulong[10]));
    }
}
