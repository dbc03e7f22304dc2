using System;
using System.Runtime.InteropServices;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Integer codes <c>q[N, K]</c> laid out for <see cref="QuantizedCountsProduct"/>: contiguous column panels,
/// zero-padded to the full panel width and, for the dot-product tile, to a multiple of four in K.
/// <list type="bullet">
/// <item>Dot product and pair sums: 16 (32 for pair sums) columns a panel, code <c>(k, c)</c> at
/// <c>(k/4)·4·width + c·4 + k mod 4</c>, int8, K rounded up to a multiple of four.</item>
/// <item>Portable: <c>2·lanes</c> columns a panel (16, 32 or 64 for 128-, 256- or 512-bit vectors), code
/// <c>(k, c)</c> at <c>k·width + c</c>, int16 (K rounded up to even).</item>
/// </list>
/// 4-bit codes keep the same order but two to a byte, in the blocks of <see cref="Int4Codes.PackBlocks"/>. The array
/// is pinned (allocated on the pinned heap) because a layer keeps it for its lifetime and every call reads it.
/// </summary>
internal sealed class QuantizedCountsPanels
{
    public QuantizedCountsPanels(ReadOnlySpan<sbyte> codes, int outFeatures, int inFeatures, int bits, IntegerKernelPath path, int portableBits)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Bits = bits;
        Path = path;
        PortableBits = portableBits;
        bool dot = path is IntegerKernelPath.DotProduct or IntegerKernelPath.PairSums;
        PanelWidth = path == IntegerKernelPath.PairSums ? 32 : dot ? 16 : 2 * portableBits / 16;
        int codeBytes = dot ? 1 : 2;
        RowStride = dot ? (inFeatures + 3) & ~3 : inFeatures;
        int paddedK = dot ? RowStride : (inFeatures + 1) & ~1;
        ChunkK = dot ? QuantizedCountsProduct.TileBytes / PanelWidth : QuantizedCountsProduct.TileBytes / (PanelWidth * codeBytes);
        Panels = (outFeatures + PanelWidth - 1) / PanelWidth;
        long panelCodes = (long)paddedK * PanelWidth;
        PanelBytes = bits == 4 ? panelCodes / 2 : panelCodes * codeBytes;
        Data = new AlignedBytes(Panels * PanelBytes);
        int maxAbs = 0;
        foreach (sbyte q in codes) maxAbs = Math.Max(maxAbs, Math.Abs((int)q));
        MaxAbsCode = maxAbs;

        var panel = new sbyte[panelCodes];
        for (int p = 0; p < Panels; p++)
        {
            Array.Clear(panel);
            for (int c = 0; c < PanelWidth && p * PanelWidth + c < outFeatures; c++)
            {
                var row = codes.Slice((p * PanelWidth + c) * inFeatures, inFeatures);
                for (int k = 0; k < inFeatures; k++) panel[dot ? (k >> 2) * 4 * PanelWidth + c * 4 + (k & 3) : k * PanelWidth + c] = row[k];
            }
            var destination = Data.Span.Slice((int)(p * PanelBytes), (int)PanelBytes);
            if (bits == 4)
            {
                Int4Codes.PackBlocks(panel, destination);
            }
            else if (dot)
            {
                for (int i = 0; i < panel.Length; i++) destination[i] = (byte)panel[i];
            }
            else
            {
                var shorts = MemoryMarshal.Cast<byte, short>(destination);
                for (int i = 0; i < panel.Length; i++) shorts[i] = panel[i];
            }
        }
    }

    /// <summary>K.</summary>
    public int InFeatures { get; }

    /// <summary>N.</summary>
    public int OutFeatures { get; }

    /// <summary>8 or 4.</summary>
    public int Bits { get; }

    /// <summary><see cref="IntegerKernelPath.DotProduct"/>, <see cref="IntegerKernelPath.PairSums"/> or <see cref="IntegerKernelPath.Portable"/>.</summary>
    public IntegerKernelPath Path { get; }

    /// <summary>The vector width of the portable tile: 128, 256 or 512.</summary>
    public int PortableBits { get; }

    /// <summary>Columns a panel.</summary>
    public int PanelWidth { get; }

    /// <summary>Bytes between the starts of two rows of counts the tile reads: K, or K rounded up to four for the tiles that read four at a time.</summary>
    public int RowStride { get; }

    /// <summary>Inner indices per chunk: the expanded codes of one chunk of one panel fill <see cref="QuantizedCountsProduct.TileBytes"/>.</summary>
    public int ChunkK { get; }

    /// <summary>The number of panels, <c>⌈N / width⌉</c>.</summary>
    public int Panels { get; }

    /// <summary>Bytes of one panel.</summary>
    public long PanelBytes { get; }

    /// <summary>The largest |code|, which bounds the portable tile's int16 run.</summary>
    public int MaxAbsCode { get; }

    /// <summary>The panels, pinned and 64-byte aligned (a panel of int8 or int16 codes is a multiple of 64 bytes long, so every panel starts aligned; 4-bit panels, read 16 bytes at a time, a multiple of 16).</summary>
    public AlignedBytes Data { get; }
}
