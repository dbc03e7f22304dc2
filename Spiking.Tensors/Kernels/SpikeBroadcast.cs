using System;
using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Elementwise kernels with a spike operand under NumPy broadcasting, computed on the bits: a selection between two
/// float operands by a bit (where, masked fill, the gate of a product with spikes), a constant added where a bit is
/// set (a sum with spikes), and the AND of two spike operands. They walk the output one row (last axis) at a time; an
/// operand whose last dimension is 1 broadcasts its one element along the row, and only set bits are visited.
/// </summary>
internal static class SpikeBroadcast
{
    /// <summary>
    /// <c>condition ? a : b</c> elementwise, every operand broadcast to <paramref name="shape"/> (which their shapes
    /// must broadcast to; a rank-0 operand is a constant).
    /// </summary>
    public static Tensor Where(SpikeTensor condition, Tensor a, Tensor b, Shape shape)
    {
        var result = Tensor.Empty(shape);
        if (shape.ElementCount == 0) return result;
        int rows = shape.RowCount, length = shape.LastDimension;
        var map = ArrayPool<int>.Shared.Rent(3 * rows);
        try
        {
            var cRows = map.AsSpan(0, rows);
            var aRows = map.AsSpan(rows, rows);
            var bRows = map.AsSpan(2 * rows, rows);
            RowMap(condition.Shape, shape, cRows);
            RowMap(a.Shape, shape, aRows);
            RowMap(b.Shape, shape, bRows);
            ReadOnlySpan<ulong> bits = condition.Words;
            ReadOnlySpan<float> av = a.AsReadOnlySpan(), bv = b.AsReadOnlySpan();
            int cWords = condition.WordsPerRow;
            bool cOne = condition.RowLength == 1, aOne = LastOf(a.Shape) == 1, bOne = LastOf(b.Shape) == 1;
            var dst = result.AsSpan();
            for (int r = 0; r < rows; r++)
            {
                var row = dst.Slice(r * length, length);
                if (bOne) row.Fill(bv[bRows[r]]);
                else bv.Slice(bRows[r] * length, length).CopyTo(row);
                var cRow = bits.Slice(cRows[r] * cWords, cWords);
                if (cOne)
                {
                    if ((cRow[0] & 1) == 0) continue;
                    if (aOne) row.Fill(av[aRows[r]]);
                    else av.Slice(aRows[r] * length, length).CopyTo(row);
                    continue;
                }
                if (aOne)
                {
                    float value = av[aRows[r]];
                    for (int w = 0; w < cWords; w++)
                    {
                        for (ulong word = cRow[w]; word != 0; word &= word - 1) row[(w << 6) + BitOperations.TrailingZeroCount(word)] = value;
                    }
                }
                else
                {
                    var aRow = av.Slice(aRows[r] * length, length);
                    for (int w = 0; w < cWords; w++)
                    {
                        for (ulong word = cRow[w]; word != 0; word &= word - 1)
                        {
                            int c = (w << 6) + BitOperations.TrailingZeroCount(word);
                            row[c] = aRow[c];
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(map);
        }
        return result;
    }

    /// <summary>Adds <paramref name="value"/> to the elements of <paramref name="destination"/> where <paramref name="bits"/>, broadcast to its shape, is set.</summary>
    public static void AddWhereSet(Tensor destination, SpikeTensor bits, float value)
    {
        var shape = destination.Shape;
        if (shape.ElementCount == 0) return;
        int rows = shape.RowCount, length = shape.LastDimension;
        var map = ArrayPool<int>.Shared.Rent(rows);
        try
        {
            var sRows = map.AsSpan(0, rows);
            RowMap(bits.Shape, shape, sRows);
            ReadOnlySpan<ulong> words = bits.Words;
            int sWords = bits.WordsPerRow;
            bool sOne = bits.RowLength == 1;
            var dst = destination.AsSpan();
            for (int r = 0; r < rows; r++)
            {
                var row = dst.Slice(r * length, length);
                var sRow = words.Slice(sRows[r] * sWords, sWords);
                if (sOne)
                {
                    if ((sRow[0] & 1) != 0) TensorPrimitives.Add(row, value, row);
                    continue;
                }
                for (int w = 0; w < sWords; w++)
                {
                    for (ulong word = sRow[w]; word != 0; word &= word - 1) row[(w << 6) + BitOperations.TrailingZeroCount(word)] += value;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(map);
        }
    }

    /// <summary>The AND of two spike operands broadcast to <paramref name="shape"/>, as bits with zero padding.</summary>
    public static SpikeTensor And(SpikeTensor a, SpikeTensor b, Shape shape)
    {
        var result = SpikeTensor.Zeros(shape);
        if (shape.ElementCount == 0) return result;
        int rows = shape.RowCount, words = result.WordsPerRow;
        ulong lastMask = BitPack.LastWordMask(shape.LastDimension);
        var map = ArrayPool<int>.Shared.Rent(2 * rows);
        try
        {
            var aRows = map.AsSpan(0, rows);
            var bRows = map.AsSpan(rows, rows);
            RowMap(a.Shape, shape, aRows);
            RowMap(b.Shape, shape, bRows);
            ReadOnlySpan<ulong> aw = a.Words, bw = b.Words;
            var dst = result.Words;
            for (int r = 0; r < rows; r++)
            {
                var row = dst.Slice(r * words, words);
                for (int w = 0; w < words; w++)
                {
                    ulong full = w == words - 1 ? lastMask : ulong.MaxValue;
                    row[w] = Word(aw, a.WordsPerRow, a.RowLength == 1, aRows[r], w, full) & Word(bw, b.WordsPerRow, b.RowLength == 1, bRows[r], w, full);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(map);
        }
        return result;
    }

    /// <summary>Word <paramref name="w"/> of an operand's row broadcast to the output row: its own word, or every valid bit when its one element is set.</summary>
    private static ulong Word(ReadOnlySpan<ulong> words, int wordsPerRow, bool one, int row, int w, ulong full) =>
        one ? ((words[row * wordsPerRow] & 1) != 0 ? full : 0) : words[row * wordsPerRow + w];

    private static int LastOf(Shape shape) => shape.Rank == 0 ? 1 : shape.LastDimension;

    /// <summary>
    /// For each row of <paramref name="output"/> (all axes but the last), the row of <paramref name="operand"/> that
    /// broadcasts onto it. Shapes align on their last axis; a missing or size-1 axis repeats the operand.
    /// </summary>
    private static void RowMap(Shape operand, Shape output, Span<int> rows)
    {
        int lead = output.Rank - 1, offset = output.Rank - operand.Rank;
        Span<int> stride = stackalloc int[lead];
        Span<int> index = stackalloc int[lead];
        int size = 1;
        for (int k = lead - 1; k >= 0; k--)
        {
            int dim = k < offset ? 1 : operand[k - offset];
            stride[k] = dim == 1 ? 0 : size;
            size *= dim;
        }
        int row = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = row;
            for (int k = lead - 1; k >= 0; k--)
            {
                row += stride[k];
                if (++index[k] < output[k]) break;
                row -= stride[k] * output[k];
                index[k] = 0;
            }
        }
    }
}
