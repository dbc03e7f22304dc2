// Bernoulli spikes from Philox4x32-10, written straight into packed words: the same stream as the CPU's
// PhiloxGenerator.FillBernoulli, bit for bit. Element i of repeat t (row-major over n probabilities) takes word
// i mod 4 of the block with counter (firstBlock + t·ceil(n/4) + i/4, stream) under key (key0, key1); it spikes iff
// p > 0 and u <= p, u = (word >> 8)·2^-24 (exact in float).

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ void philox4x32_10(unsigned long long block, unsigned long long stream, unsigned key0, unsigned key1, unsigned* out)
{
    unsigned x0 = (unsigned)block, x1 = (unsigned)(block >> 32), x2 = (unsigned)stream, x3 = (unsigned)(stream >> 32);
    for (int round = 0; round < 10; round++)
    {
        unsigned long long p0 = (unsigned long long)PHILOX_M0 * x0;
        unsigned long long p1 = (unsigned long long)PHILOX_M1 * x2;
        unsigned y0 = (unsigned)(p1 >> 32) ^ x1 ^ key0;
        unsigned y2 = (unsigned)(p0 >> 32) ^ x3 ^ key1;
        x0 = y0;
        x1 = (unsigned)p1;
        x2 = y2;
        x3 = (unsigned)p0;
        key0 += PHILOX_W0;
        key1 += PHILOX_W1;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

// One thread per output word: it draws the blocks its (up to) 64 elements use, each block once.
extern "C" __global__ void bernoulli(const float* p, unsigned long long* words, int n, int rowLength, int wordsPerRow, int repeats,
    unsigned key0, unsigned key1, unsigned long long stream, unsigned long long firstBlock)
{
    long long wordsPerRepeat = (long long)(n / rowLength) * wordsPerRow;
    long long total = wordsPerRepeat * repeats;
    unsigned long long blocksPerRepeat = ((unsigned long long)n + 3) / 4;
    for (long long w = (long long)blockIdx.x * blockDim.x + threadIdx.x; w < total; w += (long long)blockDim.x * gridDim.x)
    {
        long long t = w / wordsPerRepeat;
        long long within = w % wordsPerRepeat;
        long long r = within / wordsPerRow;
        int first = (int)(within % wordsPerRow) * 64;
        int count = rowLength - first < 64 ? rowLength - first : 64;
        long long i0 = r * rowLength + first;
        unsigned long long base = firstBlock + (unsigned long long)t * blocksPerRepeat;
        unsigned x[4];
        long long drawn = -1;
        unsigned long long bits = 0;
        for (int b = 0; b < count; b++)
        {
            long long i = i0 + b;
            if ((i >> 2) != drawn)
            {
                drawn = i >> 2;
                philox4x32_10(base + (unsigned long long)drawn, stream, key0, key1, x);
            }
            float u = (float)(x[i & 3] >> 8) * (1.0f / 16777216.0f);
            float q = p[i];
            if (q > 0.0f && u <= q) bits |= 1ull << b;
        }
        words[w] = bits;
    }
}
