// Max pooling over the N·C planes [H, W] of NCHW input, dense and bit-packed. The chosen element is the CPU's: the
// first maximal element in row-major window order (a NaN replaces the running maximum, as the CPU's loop does), and
// for bits the first set bit, or the window's first element inside the plane when none is set. The backward gathers:
// one thread per input element adds, in output order, the gradients of the windows that chose it; no atomics.

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

// The window at (oy, ox) clipped to the plane: rows [y0, y1), columns [x0, x1).
__device__ void inside(int oy, int ox, int height, int width, int kh, int kw, int stride, int padding, int* y0, int* y1, int* x0, int* x1)
{
    int y = oy * stride - padding, x = ox * stride - padding;
    *y0 = max(0, y);
    *y1 = min(height, y + kh);
    *x0 = max(0, x);
    *x1 = min(width, x + kw);
}

__device__ int argmax(const float* plane, int oy, int ox, int height, int width, int kh, int kw, int stride, int padding)
{
    int y0, y1, x0, x1;
    inside(oy, ox, height, width, kh, kw, stride, padding, &y0, &y1, &x0, &x1);
    int best = y0 * width + x0;
    float m = plane[best];
    for (int y = y0; y < y1; y++)
    {
        for (int x = x0; x < x1; x++)
        {
            float v = plane[y * width + x];
            if (v > m || isnan(v))
            {
                m = v;
                best = y * width + x;
            }
        }
    }
    return best;
}

__device__ int bit_at(const unsigned long long* words, long long row, int wordsPerRow, int x)
{
    return (int)((words[row * wordsPerRow + (x >> 6)] >> (x & 63)) & 1ULL);
}

// The first set bit of the window in row-major order, or its first element inside the plane.
__device__ int first_spike(const unsigned long long* words, long long plane, int wordsPerRow, int oy, int ox,
    int height, int width, int kh, int kw, int stride, int padding)
{
    int y0, y1, x0, x1;
    inside(oy, ox, height, width, kh, kw, stride, padding, &y0, &y1, &x0, &x1);
    for (int y = y0; y < y1; y++)
    {
        for (int x = x0; x < x1; x++)
        {
            if (bit_at(words, plane * height + y, wordsPerRow, x)) return y * width + x;
        }
    }
    return y0 * width + x0;
}

// The output positions [lo, hi] along one axis whose window covers input coordinate `at`.
__device__ void covering(int at, int padding, int k, int stride, int outSize, int* lo, int* hi)
{
    int first = at + padding - k + 1;
    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    *hi = min(outSize - 1, (at + padding) / stride);
}

extern "C" __global__ void max_pool(const float* x, float* y, int planes, int height, int width, int kh, int kw,
    int stride, int padding, int outHeight, int outWidth)
{
    int positions = outHeight * outWidth;
    GRID_STRIDE(e, (long long)planes * positions)
    {
        long long plane = e / positions;
        int p = (int)(e - plane * positions);
        const float* img = x + plane * height * width;
        y[e] = img[argmax(img, p / outWidth, p % outWidth, height, width, kh, kw, stride, padding)];
    }
}

extern "C" __global__ void max_pool_backward(const float* gradOutput, const float* x, float* gradX, int planes, int height,
    int width, int kh, int kw, int stride, int padding, int outHeight, int outWidth)
{
    int size = height * width;
    GRID_STRIDE(e, (long long)planes * size)
    {
        long long plane = e / size;
        int at = (int)(e - plane * size), y = at / width, xx = at % width;
        const float* img = x + plane * size;
        const float* g = gradOutput + plane * outHeight * outWidth;
        int oy0, oy1, ox0, ox1;
        covering(y, padding, kh, stride, outHeight, &oy0, &oy1);
        covering(xx, padding, kw, stride, outWidth, &ox0, &ox1);
        float acc = 0.0f;
        for (int oy = oy0; oy <= oy1; oy++)
        {
            for (int ox = ox0; ox <= ox1; ox++)
            {
                if (argmax(img, oy, ox, height, width, kh, kw, stride, padding) == at) acc = acc + g[oy * outWidth + ox];
            }
        }
        gradX[e] = acc;
    }
}

// One thread per output word: each of its bits ORs its window's bits.
extern "C" __global__ void max_pool_bits(const unsigned long long* x, unsigned long long* y, int planes, int height,
    int width, int kh, int kw, int stride, int padding, int outHeight, int outWidth, int wordsIn, int wordsOut)
{
    GRID_STRIDE(e, (long long)planes * outHeight * wordsOut)
    {
        long long row = e / wordsOut;
        int word = (int)(e - row * wordsOut), oy = (int)(row % outHeight);
        long long plane = row / outHeight;
        unsigned long long bits = 0;
        int last = min(outWidth, (word + 1) * 64);
        for (int ox = word * 64; ox < last; ox++)
        {
            int y0, y1, x0, x1;
            inside(oy, ox, height, width, kh, kw, stride, padding, &y0, &y1, &x0, &x1);
            int any = 0;
            for (int yy = y0; yy < y1 && !any; yy++)
            {
                for (int xx = x0; xx < x1 && !any; xx++) any = bit_at(x, plane * height + yy, wordsIn, xx);
            }
            if (any) bits |= 1ULL << (ox & 63);
        }
        y[e] = bits;
    }
}

extern "C" __global__ void max_pool_backward_bits(const float* gradOutput, const unsigned long long* x, float* gradX,
    int planes, int height, int width, int kh, int kw, int stride, int padding, int outHeight, int outWidth, int wordsIn)
{
    int size = height * width;
    GRID_STRIDE(e, (long long)planes * size)
    {
        long long plane = e / size;
        int at = (int)(e - plane * size), y = at / width, xx = at % width;
        const float* g = gradOutput + plane * outHeight * outWidth;
        int oy0, oy1, ox0, ox1;
        covering(y, padding, kh, stride, outHeight, &oy0, &oy1);
        covering(xx, padding, kw, stride, outWidth, &ox0, &ox1);
        float acc = 0.0f;
        for (int oy = oy0; oy <= oy1; oy++)
        {
            for (int ox = ox0; ox <= ox1; ox++)
            {
                if (first_spike(x, plane, wordsIn, oy, ox, height, width, kh, kw, stride, padding) == at) acc = acc + g[oy * outWidth + ox];
            }
        }
        gradX[e] = acc;
    }
}
