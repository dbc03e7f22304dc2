// c[m, n] = popcount(a_m AND b_n) over rows of `words` 64-bit words: the binary Q·Kᵀ of spiking attention.
// Exact integer counts, written as floats. Grid: x over blocks of n, y over rows m.
extern "C" __global__ void and_popcount(const unsigned long long* a, const unsigned long long* b, float* c, int rows, int cols, int words)
{
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= cols) return;
    for (long long m = blockIdx.y; m < rows; m += gridDim.y)
    {
        const unsigned long long* ar = a + m * words;
        const unsigned long long* br = b + (long long)n * words;
        int count = 0;
        for (int w = 0; w < words; w++) count += __popcll(ar[w] & br[w]);
        c[m * cols + n] = (float)count;
    }
}
