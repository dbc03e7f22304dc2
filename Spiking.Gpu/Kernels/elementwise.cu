// Elementwise kernels and reductions over float32 tensors (a fill is cuMemsetD32 of the float's bits, no kernel).
// Every loop is grid-stride, so any launch size covers any length. The reductions are deterministic: each output is summed by one thread (sum_rows) or by a fixed tree
// over a grid sized by the length alone (sum), with no float atomics, so a run gives the same bits every time.

#define SUM_THREADS 256

// for (i = this thread's first index; i < n; i += threads in the grid), in 64-bit so no index overflows.
#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

extern "C" __global__ void add(const float* a, const float* b, float* y, int n)
{
    GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}

extern "C" __global__ void add_scaled(float* y, const float* x, float alpha, int n)
{
    GRID_STRIDE(i, n) y[i] = y[i] + alpha * x[i];
}

extern "C" __global__ void multiply(const float* a, const float* b, float* y, int n)
{
    GRID_STRIDE(i, n) y[i] = a[i] * b[i];
}

extern "C" __global__ void scale(const float* x, float alpha, float* y, int n)
{
    GRID_STRIDE(i, n) y[i] = alpha * x[i];
}

// y[r, c] += v[c] over y viewed as rows of `cols`.
extern "C" __global__ void add_row_vector(float* y, const float* v, int n, int cols)
{
    GRID_STRIDE(i, n) y[i] = y[i] + v[i % cols];
}

// y[c] = sum over r of x[r, c], one thread per column adding the rows in order (as the CPU does), so the result is
// the CPU's to the bit; neighbouring threads read neighbouring columns, so every row read is coalesced.
extern "C" __global__ void sum_rows(const float* x, float* y, int rows, int cols)
{
    GRID_STRIDE(c, cols)
    {
        float acc = 0.0f;
        for (int r = 0; r < rows; r++) acc = acc + x[(long long)r * cols + c];
        y[c] = acc;
    }
}

// Pass 1 of sum: block b sums elements b*SUM_THREADS + t, stepping by the grid, then reduces its threads by a
// fixed tree into partial[b]. Launched with SUM_THREADS threads per block.
extern "C" __global__ void sum_partial(const float* x, float* partial, int n)
{
    __shared__ float lanes[SUM_THREADS];
    float acc = 0.0f;
    GRID_STRIDE(i, n) acc = acc + x[i];
    lanes[threadIdx.x] = acc;
    __syncthreads();
    for (int stride = SUM_THREADS / 2; stride > 0; stride >>= 1)
    {
        if ((int)threadIdx.x < stride) lanes[threadIdx.x] = lanes[threadIdx.x] + lanes[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = lanes[0];
}

// Pass 2 of sum: one block of SUM_THREADS threads reduces the `count` partial sums the same way into y[0].
extern "C" __global__ void sum_final(const float* partial, float* y, int count)
{
    __shared__ float lanes[SUM_THREADS];
    float acc = 0.0f;
    for (int i = threadIdx.x; i < count; i += SUM_THREADS) acc = acc + partial[i];
    lanes[threadIdx.x] = acc;
    __syncthreads();
    for (int stride = SUM_THREADS / 2; stride > 0; stride >>= 1)
    {
        if ((int)threadIdx.x < stride) lanes[threadIdx.x] = lanes[threadIdx.x] + lanes[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) y[0] = lanes[0];
}
