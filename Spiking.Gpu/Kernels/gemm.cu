// Dense SGEMM C[m, n] = op(A)[m, k] · op(B)[k, n], row-major, with either operand transposed in storage. One tiled
// kernel rather than cuBLAS: the engine reaches the GPU through P/Invoke of the driver and NVRTC only, with no other
// native dependency to find and version, and the dense products here (the backward of spike layers, attention
// heads) are a small part of a training step. Each block computes a 64×64 tile of C from 16-deep slices of A and B
// staged in shared memory; each of its 256 threads owns a 4×4 sub-tile whose rows and columns are 16 apart, so a
// warp reads a slice row as broadcasts and writes C in coalesced runs. Tiles past the edges load zeros and the last
// slice stops at k, so every element of C adds exactly its k products, in ascending order.

#define TILE 64
#define DEPTH 16
#define GEMM_THREADS 256

extern "C" __global__ void gemm(const float* a, const float* b, float* c, int m, int n, int k, int transposeA, int transposeB)
{
    __shared__ float as[DEPTH][TILE];
    __shared__ float bs[DEPTH][TILE];
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    const int col0 = blockIdx.x * TILE;
    // Row tiles beyond the grid's 65535-block y limit are taken in further passes of the same block.
    for (int row0 = blockIdx.y * TILE; row0 < m; row0 += gridDim.y * TILE)
    {
        float acc[4][4];
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++) acc[r][q] = 0.0f;

        for (int k0 = 0; k0 < k; k0 += DEPTH)
        {
            // Each operand is loaded with consecutive threads on its contiguous axis, so the global reads coalesce.
            for (int e = threadIdx.x; e < DEPTH * TILE; e += GEMM_THREADS)
            {
                int kk, i;
                if (transposeA) { kk = e / TILE; i = e % TILE; }
                else { i = e / DEPTH; kk = e % DEPTH; }
                int gi = row0 + i, gk = k0 + kk;
                float value = 0.0f;
                if (gi < m && gk < k) value = transposeA ? a[(long long)gk * m + gi] : a[(long long)gi * k + gk];
                as[kk][i] = value;

                int j;
                if (transposeB) { j = e / DEPTH; kk = e % DEPTH; }
                else { kk = e / TILE; j = e % TILE; }
                int gj = col0 + j;
                gk = k0 + kk;
                value = 0.0f;
                if (gj < n && gk < k) value = transposeB ? b[(long long)gj * k + gk] : b[(long long)gk * n + gj];
                bs[kk][j] = value;
            }
            __syncthreads();
            int depth = k - k0 < DEPTH ? k - k0 : DEPTH;
            for (int kk = 0; kk < depth; kk++)
            {
                float av[4], bv[4];
                for (int r = 0; r < 4; r++) av[r] = as[kk][ty + 16 * r];
                for (int q = 0; q < 4; q++) bv[q] = bs[kk][tx + 16 * q];
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) acc[r][q] = acc[r][q] + av[r] * bv[q];
            }
            __syncthreads();
        }

        for (int r = 0; r < 4; r++)
        {
            int row = row0 + ty + 16 * r;
            if (row >= m) continue;
            for (int q = 0; q < 4; q++)
            {
                int col = col0 + tx + 16 * q;
                if (col < n) c[(long long)row * n + col] = acc[r][q];
            }
        }
    }
}
