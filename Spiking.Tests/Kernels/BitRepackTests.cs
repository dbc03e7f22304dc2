using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;
using Xunit;

namespace Spiking.Tests.Kernels;

public sealed class BitRepackTests
{
    [Theory]
    [InlineData(7, 49, 20)]
    [InlineData(28, 784, 3)]
    [InlineData(49, 1568, 32)]
    [InlineData(130, 65, 4)]
    [InlineData(64, 128, 6)]
    [InlineData(3, 1, 9)]
    public void Word_wise_repack_equals_the_bit_by_bit_reference(int sourceRow, int destinationRow, int destinationRows)
    {
        long total = (long)destinationRow * destinationRows;
        int sourceRows = (int)(total / sourceRow);
        Assert.Equal(total, (long)sourceRows * sourceRow);
        var rng = new Random(sourceRow * 31 + destinationRow);
        var source = new ulong[sourceRows * SpikeTensor.WordsFor(sourceRow)];
        for (int r = 0; r < sourceRows; r++)
        {
            for (int c = 0; c < sourceRow; c++)
            {
                if (rng.NextDouble() < 0.5) source[r * SpikeTensor.WordsFor(sourceRow) + c / 64] |= 1UL << (c % 64);
            }
        }
        var fast = new ulong[destinationRows * SpikeTensor.WordsFor(destinationRow)];
        var reference = new ulong[fast.Length];
        Array.Fill(fast, ulong.MaxValue);
        BitRepack.Repack(source, sourceRow, fast, destinationRow, total);
        BitRepack.RepackReference(source, sourceRow, reference, destinationRow, total);
        Assert.Equal(reference, fast);
    }
}
