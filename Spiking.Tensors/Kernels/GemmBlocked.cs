using System;
using System.Buffers;

namespace Spiking.Tensors.Kernels;

/// <summary>
/// The cache-blocked, packed GEMM driver behind <see cref="Gemm.Multiply"/>: for each super-block it packs the
/// slivers of A and B in parallel, then computes the C tiles of the super-block in parallel, each tile by one
/// work item that sweeps the super-block's K blocks in ascending order.
/// </summary>
internal static class GemmBlocked
{
    public static unsafe void Run<TSimd, TVec>(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate, int packCapacity = GemmPlan.PackCapacity)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var plan = new GemmPlan(m, n, k, 2 * TSimd.Count, packCapacity);
        float[] packedA = ArrayPool<float>.Shared.Rent(plan.PackedALength);
        float[] packedB = ArrayPool<float>.Shared.Rent(plan.PackedBLength);
        try
        {
            fixed (float* pa = a, pb = b, pc = c, qa = packedA, qb = packedB)
            {
                var job = new Job<TSimd, TVec>
                {
                    A = pa, B = pb, C = pc, PackedA = qa, PackedB = qb,
                    TransposeA = transposeA, TransposeB = transposeB, Accumulate = accumulate, Plan = plan,
                };
                Sweep(ref job);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedB);
            ArrayPool<float>.Shared.Return(packedA);
        }
    }

    private static void Sweep<TSimd, TVec>(ref Job<TSimd, TVec> job)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var plan = job.Plan;
        bool oneColumnSuper = plan.TilesNPerSuper >= plan.TilesN;
        for (int kb = 0; kb < plan.KBlocks; kb += plan.KBlocksPerSuper)
        {
            job.KBlock0 = kb;
            job.KBlock1 = Math.Min(plan.KBlocks, kb + plan.KBlocksPerSuper);
            for (int tm = 0; tm < plan.TilesM; tm += plan.TilesMPerSuper)
            {
                job.TileM0 = tm;
                job.TileM1 = Math.Min(plan.TilesM, tm + plan.TilesMPerSuper);
                job.TileN0 = 0;
                job.TileN1 = Math.Min(plan.TilesN, plan.TilesNPerSuper);
                bool packB = !plan.StreamB && (!oneColumnSuper || tm == 0);
                Pack(ref job, packA: true, packB);
                for (int tn = 0; tn < plan.TilesN; tn += plan.TilesNPerSuper)
                {
                    job.TileN0 = tn;
                    job.TileN1 = Math.Min(plan.TilesN, tn + plan.TilesNPerSuper);
                    if (tn > 0 && !plan.StreamB) Pack(ref job, packA: false, packB: true);
                    int tiles = (job.TileM1 - job.TileM0) * (job.TileN1 - job.TileN0);
                    long work = 2L * plan.Mc * plan.Nc * plan.Kc * (job.KBlock1 - job.KBlock0);
                    if (plan.StreamB) Parallelism.For(tiles, work, job, static (item, j) => j.ComputeStreamedTile(item));
                    else Parallelism.For(tiles, work, job, static (item, j) => j.ComputeTile(item));
                }
            }
        }
    }

    private static void Pack<TSimd, TVec>(ref Job<TSimd, TVec> job, bool packA, bool packB)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        var plan = job.Plan;
        int kBlocks = job.KBlock1 - job.KBlock0;
        int aPanels = packA ? Panels(job.TileM0 * plan.Mc, job.TileM1 * plan.Mc, plan.M, GemmPlan.MR) : 0;
        job.AItems = job.TransposeA ? (aPanels + GemmPack.PanelGroup - 1) / GemmPack.PanelGroup * kBlocks : aPanels;
        job.BItems = !packB ? 0
            : job.TransposeB ? Panels(job.TileN0 * plan.Nc, job.TileN1 * plan.Nc, plan.N, plan.NR) * kBlocks
            : (plan.Kc + GemmPack.RowGroup - 1) / GemmPack.RowGroup * kBlocks;
        int items = job.AItems + job.BItems;
        Parallelism.For(items, (long)plan.NR * plan.Kc, job, static (item, j) => j.PackUnit(item));
    }

    /// <summary>Slivers of width <paramref name="width"/> that cover the rows or columns [start, end) of the matrix.</summary>
    private static int Panels(int start, int end, int limit, int width) => (Math.Min(end, limit) - start + width - 1) / width;

    /// <summary>
    /// One super-block's worth of state, copied into each work item. The operands are pinned by
    /// <see cref="Run{TSimd, TVec}"/> for as long as any item runs.
    /// </summary>
    private unsafe struct Job<TSimd, TVec>
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        public float* A;
        public float* B;
        public float* C;
        public float* PackedA;
        public float* PackedB;
        public bool TransposeA;
        public bool TransposeB;
        public bool Accumulate;
        public GemmPlan Plan;
        public int KBlock0;
        public int KBlock1;
        public int TileM0;
        public int TileM1;
        public int TileN0;
        public int TileN1;
        public int AItems;
        public int BItems;

        /// <summary>
        /// Packs one MR-row sliver of A over every K block of the super-block (reading its source rows end to
        /// end), or for one K block: a group of A slivers when A is stored transposed (so each source row
        /// segment is read whole), one NR-column sliver of B when B is stored transposed, or a group of rows of
        /// B across the super-block's width when it is not.
        /// </summary>
        public readonly void PackUnit(int item)
        {
            int kBlocks = KBlock1 - KBlock0;
            if (item < AItems)
            {
                if (TransposeA)
                {
                    int groups = AItems / kBlocks;
                    PackASlivers(item / groups, item % groups * GemmPack.PanelGroup);
                    return;
                }
                for (int kRel = 0; kRel < kBlocks; kRel++) PackASlivers(kRel, item);
                return;
            }
            item -= AItems;
            int units = BItems / kBlocks;
            int kr = item / units;
            int unit = item % units;
            int p0 = (KBlock0 + kr) * Plan.Kc;
            int kc = Math.Min(Plan.Kc, Plan.K - p0);
            float* block = PackedB + (long)kr * Plan.PackedBStride;
            int j0 = TileN0 * Plan.Nc;
            if (TransposeB)
            {
                GemmPack.BTransposed(B, Plan.N, Plan.K, j0 + unit * Plan.NR, p0, kc, Plan.NR, block + (long)unit * Plan.NR * kc);
                return;
            }
            int row = unit * GemmPack.RowGroup;
            if (row >= kc) return;
            int j1 = Math.Min(Plan.N, TileN1 * Plan.Nc);
            GemmPack.BRows<TSimd, TVec>(B, Plan.N, j0, j1, p0 + row, Math.Min(GemmPack.RowGroup, kc - row), kc, block + (long)row * Plan.NR);
        }

        /// <summary>Packs, for one K block, the A sliver <paramref name="panel"/> (counted from the super-block's first row), or the group starting there when A is stored transposed.</summary>
        private readonly void PackASlivers(int kRel, int panel)
        {
            int p0 = (KBlock0 + kRel) * Plan.Kc;
            int kc = Math.Min(Plan.Kc, Plan.K - p0);
            float* dst = PackedA + (long)kRel * Plan.PackedAStride + (long)panel * GemmPlan.MR * kc;
            int i = TileM0 * Plan.Mc + panel * GemmPlan.MR;
            if (TransposeA)
            {
                int rowEnd = Math.Min(Plan.M, Math.Min(TileM1 * Plan.Mc, i + GemmPack.PanelGroup * GemmPlan.MR));
                GemmPack.ATransposed(A, Plan.M, i, rowEnd, p0, kc, dst);
            }
            else
            {
                GemmPack.ASliver(A, Plan.M, Plan.K, i, p0, kc, dst);
            }
        }

        /// <summary>Adds the super-block's K range of one C tile, K block by K block, micro-tile by micro-tile.</summary>
        public readonly void ComputeTile(int item)
        {
            const int mr = GemmPlan.MR;
            int nr = Plan.NR;
            int tilesAcross = TileN1 - TileN0;
            int tm = TileM0 + item / tilesAcross;
            int tn = TileN0 + item % tilesAcross;
            int rowBase = TileM0 * Plan.Mc;
            int columnBase = TileN0 * Plan.Nc;
            int i0 = tm * Plan.Mc, i1 = Math.Min(Plan.M, i0 + Plan.Mc);
            int j0 = tn * Plan.Nc, j1 = Math.Min(Plan.N, j0 + Plan.Nc);
            int ldc = Plan.N;
            float* edge = stackalloc float[mr * nr];

            for (int kb = KBlock0; kb < KBlock1; kb++)
            {
                int p0 = kb * Plan.Kc;
                int kc = Math.Min(Plan.Kc, Plan.K - p0);
                bool add = Accumulate || kb > 0;
                float* aBlock = PackedA + (long)(kb - KBlock0) * Plan.PackedAStride;
                float* bBlock = PackedB + (long)(kb - KBlock0) * Plan.PackedBStride;
                for (int j = j0; j < j1; j += nr)
                {
                    float* bSliver = bBlock + (long)(j - columnBase) * kc;
                    int cols = Math.Min(nr, j1 - j);
                    for (int i = i0; i < i1; i += mr)
                    {
                        float* aSliver = aBlock + (long)(i - rowBase) * kc;
                        int rows = Math.Min(mr, i1 - i);
                        float* cTile = C + (long)i * ldc + j;
                        if (rows == mr && cols == nr)
                        {
                            GemmMicroKernel.Run<TSimd, TVec>(kc, aSliver, bSliver, cTile, ldc, add);
                            continue;
                        }
                        GemmMicroKernel.Run<TSimd, TVec>(kc, aSliver, bSliver, edge, nr, add: false);
                        WriteEdge(edge, nr, cTile, ldc, rows, cols, add);
                    }
                }
            }
        }

        /// <summary>
        /// Like <see cref="ComputeTile"/> for a plan whose single row tile covers M: each B sliver is packed
        /// into a stack buffer just before the sweep down the rows that uses it, while that sweep prefetches
        /// the source of the next sliver a little per micro-kernel call.
        /// </summary>
        public readonly void ComputeStreamedTile(int item)
        {
            const int mr = GemmPlan.MR;
            int nr = Plan.NR;
            int tn = TileN0 + item;
            int j0 = tn * Plan.Nc, j1 = Math.Min(Plan.N, j0 + Plan.Nc);
            int m = Plan.M;
            int ldc = Plan.N;
            int panels = (m + mr - 1) / mr;
            float* edge = stackalloc float[mr * nr];
            float* sliver = stackalloc float[Plan.Kc * nr];

            for (int kb = KBlock0; kb < KBlock1; kb++)
            {
                int p0 = kb * Plan.Kc;
                int kc = Math.Min(Plan.Kc, Plan.K - p0);
                bool add = Accumulate || kb > 0;
                float* aBlock = PackedA + (long)(kb - KBlock0) * Plan.PackedAStride;
                for (int j = j0; j < j1; j += nr)
                {
                    PackB(j, p0, kc, sliver);
                    bool sameBlock = j + nr < j1;
                    bool prefetch = sameBlock || kb + 1 < KBlock1;
                    int nextJ = sameBlock ? j + nr : j0;
                    int nextP0 = sameBlock ? p0 : p0 + Plan.Kc;
                    int nextKc = Math.Min(Plan.Kc, Plan.K - nextP0);
                    int cols = Math.Min(nr, j1 - j);
                    for (int q = 0, i = 0; i < m; q++, i += mr)
                    {
                        if (prefetch) GemmPack.PrefetchB(B, TransposeB, Plan.N, Plan.K, nextJ, nextP0, nextKc, nr, q, panels);
                        float* aSliver = aBlock + (long)i * kc;
                        int rows = Math.Min(mr, m - i);
                        float* cTile = C + (long)i * ldc + j;
                        if (rows == mr && cols == nr)
                        {
                            GemmMicroKernel.Run<TSimd, TVec>(kc, aSliver, sliver, cTile, ldc, add);
                            continue;
                        }
                        GemmMicroKernel.Run<TSimd, TVec>(kc, aSliver, sliver, edge, nr, add: false);
                        WriteEdge(edge, nr, cTile, ldc, rows, cols, add);
                    }
                }
            }
        }

        private readonly void PackB(int j, int p0, int kc, float* dst)
        {
            if (TransposeB) GemmPack.BTransposed(B, Plan.N, Plan.K, j, p0, kc, Plan.NR, dst);
            else GemmPack.BSliver<TSimd, TVec>(B, Plan.N, j, p0, kc, dst);
        }

        /// <summary>Adds or stores the valid <paramref name="rows"/>×<paramref name="cols"/> corner of a register tile.</summary>
        private static void WriteEdge(float* edge, int nr, float* cTile, int ldc, int rows, int cols, bool add)
        {
            for (int r = 0; r < rows; r++)
            {
                float* cRow = cTile + (long)r * ldc;
                float* eRow = edge + r * nr;
                for (int s = 0; s < cols; s++) cRow[s] = add ? cRow[s] + eRow[s] : eRow[s];
            }
        }
    }
}
