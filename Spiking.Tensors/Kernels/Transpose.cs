using System;

namespace Spiking.Tensors.Kernels;

/// <summary>Out-of-place transposes of row-major float matrices, tiled so both sides stay in cache.</summary>
public static class Transpose
{
    private const int Tile = 32;

    /// <summary>Writes the transpose of <paramref name="source"/> (<c>[rows, columns]</c>) into <paramref name="destination"/> (<c>[columns, rows]</c>).</summary>
    /// <exception cref="ArgumentException">A span is too short for the shape.</exception>
    public static void Matrix(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long count = (long)rows * columns;
        if (source.Length < count) throw new ArgumentException($"Source holds {source.Length} floats; [{rows}, {columns}] needs {count}.", nameof(source));
        if (destination.Length < count) throw new ArgumentException($"Destination holds {destination.Length} floats; [{columns}, {rows}] needs {count}.", nameof(destination));
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++) destination[c * rows + r] = source[r * columns + c];
                }
            }
        }
    }
}
