using System;
using System.Runtime.InteropServices;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// Integer codes <c>q[N, K]</c> transposed into column panels for <see cref="QuantizedSpikeProduct"/>: a panel holds
/// 4 int16 vectors of columns (2 when N fits in two), code <c>(k, c)</c> at <c>k·width + c</c>, zero-padded to the full
/// width and K rounded up to even; 4-bit codes keep that order two to a byte (<see cref="Int4Codes.PackBlocks"/>).
/// Pinned, as <see cref="QuantizedCountsPanels"/>.
/// </summary>
internal sealed class QuantizedSpikePanels
{
    public QuantizedSpikePanels(ReadOnlySpan<sbyte> codes, int outFeatures, int inFeatures, int bits, int portableBits)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Bits = bits;
        PortableBits = portableBits;
        int lanes = portableBits / 16;
        PanelWidth = outFeatures <= 2 * lanes ? 2 * lanes : 4 * lanes;
        ChunkK = Math.Max(64, QuantizedSpikeProduct.TileBytes / (2 * PanelWidth) / 64 * 64);
        Panels = (outFeatures + PanelWidth - 1) / PanelWidth;
        int paddedK = (inFeatures + 1) & ~1;
        long panelCodes = (long)paddedK * PanelWidth;
        PanelBytes = bits == 4 ? panelCodes / 2 : panelCodes * 2;
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
                for (int k = 0; k < inFeatures; k++) panel[k * PanelWidth + c] = row[k];
            }
            var destination = Data.Span.Slice((int)(p * PanelBytes), (int)PanelBytes);
            if (bits == 4)
            {
                Int4Codes.PackBlocks(panel, destination);
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

    /// <summary>The vector width of the sums: 128, 256 or 512.</summary>
    public int PortableBits { get; }

    /// <summary>Columns a panel.</summary>
    public int PanelWidth { get; }

    /// <summary>Inner indices per chunk (a multiple of 64, so chunks start on a spike word).</summary>
    public int ChunkK { get; }

    /// <summary>The number of panels.</summary>
    public int Panels { get; }

    /// <summary>Bytes of one panel.</summary>
    public long PanelBytes { get; }

    /// <summary>The largest |code|, which bounds the int16 run.</summary>
    public int MaxAbsCode { get; }

    /// <summary>The panels, pinned and 64-byte aligned (a panel of int8 or int16 codes is a multiple of 64 bytes long, so every panel starts aligned; 4-bit panels, read 16 bytes at a time, a multiple of 16).</summary>
    public AlignedBytes Data { get; }
}
