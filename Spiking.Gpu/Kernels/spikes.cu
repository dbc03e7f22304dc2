// Kernels on bit-packed spikes: rows of `rowLength` bits stored in `wordsPerRow` 64-bit words, LSB first, padding
// bits zero. Every output element is computed by one thread in a fixed order, so results are deterministic.

// words[w] = the bits x >= threshold of the (up to) 64 elements word w covers; NaN compares false, so no spike.
extern "C" __global__ void pack_ge(const float* x, float threshold, unsigned long long* words, int rows, int rowLength, int wordsPerRow)
{
    long long total = (long long)rows * wordsPerRow;
    for (long long w = (long long)blockIdx.x * blockDim.x + threadIdx.x; w < total; w += (long long)blockDim.x * gridDim.x)
    {
        long long r = w / wordsPerRow;
        int first = (int)(w % wordsPerRow) * 64;
        int count = rowLength - first < 64 ? rowLength - first : 64;
        const float* p = x + r * rowLength + first;
        unsigned long long bits = 0;
        for (int b = 0; b < count; b++)
        {
            if (p[b] >= threshold) bits |= 1ull << b;
        }
        words[w] = bits;
    }
}

// y[e] = 1 where element e spikes, else 0.
extern "C" __global__ void unpack(const unsigned long long* words, float* y, int rows, int rowLength, int wordsPerRow)
{
    long long total = (long long)rows * rowLength;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long)blockDim.x * gridDim.x)
    {
        long long r = e / rowLength;
        int c = (int)(e % rowLength);
        y[e] = (words[r * wordsPerRow + (c >> 6)] >> (c & 63)) & 1ull ? 1.0f : 0.0f;
    }
}

// t[c, r] = w[r, c] through a 32×33 shared tile (the odd stride keeps the column reads free of bank conflicts).
// Launched with 256 threads per block over a grid of 32×32 tiles (x over columns, y over rows).
extern "C" __global__ void transpose(const float* w, float* t, int rows, int cols)
{
    __shared__ float tile[32][33];
    int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    int c = blockIdx.x * 32 + tx;
    for (int i = ty; i < 32; i += 8)
    {
        int r = blockIdx.y * 32 + i;
        if (r < rows && c < cols) tile[i][tx] = w[(long long)r * cols + c];
    }
    __syncthreads();
    int r = blockIdx.y * 32 + tx;
    for (int i = ty; i < 32; i += 8)
    {
        int cc = blockIdx.x * 32 + i;
        if (cc < cols && r < rows) t[(long long)cc * rows + r] = tile[tx][i];
    }
}

// y[m, o] = bias[o] + sum of wt[i, o] over the set bits i of row m, in ascending i: additions only, as the CPU's
// sparse path. wt is the weight transposed to [in, out], so the threads of a block (consecutive o, one m) walk
// the same bits together and read consecutive floats. Grid: x over rows m, y over blocks of outputs.
extern "C" __global__ void spike_linear(const unsigned long long* spikes, const float* wt, const float* bias, float* y,
    int rows, int in, int out, int wordsPerRow)
{
    int o = blockIdx.y * blockDim.x + threadIdx.x;
    if (o >= out) return;
    for (long long m = blockIdx.x; m < rows; m += gridDim.x)
    {
        const unsigned long long* row = spikes + m * wordsPerRow;
        float acc = bias ? bias[o] : 0.0f;
        for (int w = 0; w < wordsPerRow; w++)
        {
            unsigned long long bits = row[w];
            while (bits)
            {
                int b = __ffsll((long long)bits) - 1;
                acc = acc + wt[(long long)(w * 64 + b) * out + o];
                bits &= bits - 1;
            }
        }
        y[m * out + o] = acc;
    }
}

// dw[o, i] = sum over rows m (ascending) of g[m, o] where spike (m, i) is set. Threads of a block take consecutive
// inputs i of one output o, so they share each spike word and gradient value and write dw in coalesced runs.
// Grid: x over blocks of inputs, y over outputs.
extern "C" __global__ void spike_weight_grad(const float* g, const unsigned long long* spikes, float* dw,
    int rows, int in, int out, int wordsPerRow)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= in) return;
    int word = i >> 6;
    unsigned long long mask = 1ull << (i & 63);
    for (int o = blockIdx.y; o < out; o += gridDim.y)
    {
        float acc = 0.0f;
        for (long long m = 0; m < rows; m++)
        {
            if (spikes[m * wordsPerRow + word] & mask) acc = acc + g[m * out + o];
        }
        dw[(long long)o * in + i] = acc;
    }
}
