using System;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The cache blocking of one GEMM problem, a function of its shape and the micro-tile width only, so the work
/// partition (and therefore every rounding) is the same whatever the thread count.
/// </summary>
/// <remarks>
/// K is cut into blocks of <see cref="Kc"/> so an MR×Kc sliver of A plus a Kc×NR sliver of B stay in L1, and
/// C into tiles of <see cref="Mc"/>×<see cref="Nc"/>: a tile's Mc×Kc block of packed A stays in L2 while the
/// micro-kernel sweeps the tile's B slivers. Tiles are the parallel work items. Packed operands are bounded by
/// super-blocks: a run of K blocks (and, only for very wide operands, of tile rows or columns) whose packed A
/// and B each fit <see cref="PackCapacity"/> floats, so the packed data of a super-block sits in the shared L3.
/// </remarks>
internal readonly struct GemmPlan
{
    /// <summary>Rows of the register tile; 6 rows × 2 vectors leave 3 of 16 vector registers for operands.</summary>
    public const int MR = 6;

    /// <summary>A 256×NR sliver of packed B is 16 KB with AVX2: half of a 32 KB L1d, the rest for A and C.</summary>
    private const int KcMax = 256;

    /// <summary>A 144×256 block of packed A is 144 KB: well inside a 512 KB L2 beside the streaming B and C.</summary>
    private const int McMax = 144;

    /// <summary>Tile widths: wide enough that a tile's A block is reused across many B slivers, narrow enough to share out.</summary>
    private const int NcMax = 512;
    private const int NcMin = 64;

    /// <summary>
    /// Up to this many rows, a K block of packed A (at most 288×256 floats) stays in L2 by itself, so one row
    /// tile covers all of M and each B sliver, used by that tile alone, is packed right where it is consumed.
    /// </summary>
    private const int StreamRowsMax = 288;

    /// <summary>Enough tiles to balance a handful of threads; fewer only when tiles would get too thin.</summary>
    private const int MinTiles = 16;

    /// <summary>
    /// Floats in each packed operand buffer (8 MB), so A and B of a super-block fit the L3 together. Tests pass
    /// a smaller capacity to exercise the super-block loops, which must not change a single bit of the result.
    /// </summary>
    public const int PackCapacity = 1 << 21;

    public GemmPlan(int m, int n, int k, int nr, int packCapacity = PackCapacity)
    {
        M = m;
        N = n;
        K = k;
        NR = nr;

        KBlocks = Blocks(k, KcMax);
        Kc = Ceiling(k, KBlocks);

        StreamB = m <= StreamRowsMax;
        int tilesM = StreamB ? 1 : Blocks(m, McMax);
        Mc = RoundUp(Ceiling(m, tilesM), MR);
        TilesM = Ceiling(m, Mc);

        int tilesN = Math.Max(Blocks(n, NcMax), Math.Min(Ceiling(MinTiles, TilesM), n / NcMin));
        Nc = RoundUp(Ceiling(n, tilesN), nr);
        TilesN = Ceiling(n, Nc);

        long widest = StreamB ? (long)TilesM * Mc : Math.Max((long)TilesM * Mc, (long)TilesN * Nc);
        KBlocksPerSuper = (int)Math.Clamp(packCapacity / (widest * Kc), 1, KBlocks);
        long kRange = (long)KBlocksPerSuper * Kc;
        TilesMPerSuper = (int)Math.Clamp(packCapacity / (Mc * kRange), 1, TilesM);
        TilesNPerSuper = StreamB ? TilesN : (int)Math.Clamp(packCapacity / (Nc * kRange), 1, TilesN);
    }

    public int M { get; }
    public int N { get; }
    public int K { get; }
    public int NR { get; }

    /// <summary>
    /// Whether the compute items pack their own B slivers (one row tile, so no sliver is used twice) instead of
    /// a separate phase packing all of B: the copy then goes to L1 and is used at once, and its DRAM reads
    /// overlap the other threads' arithmetic.
    /// </summary>
    public bool StreamB { get; }

    /// <summary>The length of every K block but possibly the last.</summary>
    public int Kc { get; }
    public int KBlocks { get; }

    /// <summary>Rows of every C tile but possibly the last; a multiple of <see cref="MR"/>.</summary>
    public int Mc { get; }
    public int TilesM { get; }

    /// <summary>Columns of every C tile but possibly the last; a multiple of <see cref="NR"/>.</summary>
    public int Nc { get; }
    public int TilesN { get; }

    public int KBlocksPerSuper { get; }
    public int TilesMPerSuper { get; }
    public int TilesNPerSuper { get; }

    /// <summary>Floats of packed A per K block of a super-block: its rows rounded up to whole tiles.</summary>
    public int PackedAStride => TilesMPerSuper * Mc * Kc;

    /// <summary>Floats of packed B per K block of a super-block.</summary>
    public int PackedBStride => StreamB ? 0 : TilesNPerSuper * Nc * Kc;

    public int PackedALength => PackedAStride * KBlocksPerSuper;
    public int PackedBLength => PackedBStride * KBlocksPerSuper;

    private static int Blocks(int length, int max) => Math.Max(1, Ceiling(length, max));

    private static int Ceiling(int value, int divisor) => (int)(((long)value + divisor - 1) / divisor);

    private static int RoundUp(int value, int multiple) => Ceiling(value, multiple) * multiple;
}
