// Convolution as im2col + SGEMM: unrolling NCHW patches into columns, its adjoint (col2im) and the batched transpose
// that turns the position-major product into NCHW. One thread per output element, grid-stride, no atomics: col2im
// gathers each input element's taps in (i, j) order, the order the CPU adds them in.

#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

// y[b, c, r] = x[b, r, c] for `batch` matrices [rows, cols].
extern "C" __global__ void transpose_batched(const float* x, float* y, int batch, int rows, int cols)
{
    long long size = (long long)rows * cols;
    GRID_STRIDE(i, size * batch)
    {
        long long b = i / size;
        int rest = (int)(i - b * size), c = rest / rows, r = rest - c * rows;
        y[i] = x[b * size + (long long)r * cols + c];
    }
}

// cols[(c, i, j), n·P + oy·Wo + ox] = x[n, c, oy·stride − padding + i, ox·stride − padding + j], zero in the padding.
extern "C" __global__ void im2col(const float* x, float* cols, int images, int channels, int height, int width,
    int kh, int kw, int stride, int padding, int outHeight, int outWidth)
{
    int positions = outHeight * outWidth;
    long long all = (long long)images * positions;
    GRID_STRIDE(e, all * channels * kh * kw)
    {
        long long row = e / all, col = e - row * all;
        int j = (int)(row % kw), i = (int)(row / kw % kh), c = (int)(row / ((long long)kw * kh));
        int n = (int)(col / positions), p = (int)(col - (long long)n * positions);
        int oy = p / outWidth, ox = p - oy * outWidth;
        int y = oy * stride - padding + i, xx = ox * stride - padding + j;
        bool inside = y >= 0 && y < height && xx >= 0 && xx < width;
        cols[e] = inside ? x[(((long long)n * channels + c) * height + y) * width + xx] : 0.0f;
    }
}

// The output positions [lo, hi] along one axis whose window covers input coordinate `at`.
__device__ void covering(int at, int padding, int k, int stride, int outSize, int* lo, int* hi)
{
    int first = at + padding - k + 1;
    *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    *hi = min(outSize - 1, (at + padding) / stride);
}

// x[n, c, y, x] = the sum of the cols entries read from it, taps in (i, j) order.
extern "C" __global__ void col2im(const float* cols, float* x, int images, int channels, int height, int width,
    int kh, int kw, int stride, int padding, int outHeight, int outWidth)
{
    int positions = outHeight * outWidth;
    long long all = (long long)images * positions;
    GRID_STRIDE(e, (long long)images * channels * height * width)
    {
        int xx = (int)(e % width);
        long long rest = e / width;
        int y = (int)(rest % height);
        rest /= height;
        int c = (int)(rest % channels), n = (int)(rest / channels);
        float acc = 0.0f;
        for (int i = 0; i < kh; i++)
        {
            int ty = y + padding - i;
            if (ty < 0 || ty % stride != 0 || ty / stride >= outHeight) continue;
            int oy = ty / stride;
            for (int j = 0; j < kw; j++)
            {
                int tx = xx + padding - j;
                if (tx < 0 || tx % stride != 0 || tx / stride >= outWidth) continue;
                long long row = ((long long)c * kh + i) * kw + j;
                acc = acc + cols[row * all + (long long)n * positions + oy * outWidth + tx / stride];
            }
        }
        x[e] = acc;
    }
}
