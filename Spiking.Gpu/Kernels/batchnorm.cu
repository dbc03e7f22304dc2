// Batch normalisation of x[outer, C, inner], one block of BN_THREADS threads per channel: each thread sums its
// strided share of the channel in double, a fixed tree adds the threads' sums, and the same block then normalises
// (or back-propagates through) the channel. No atomics, so the sums repeat to the bit; the formulas are the CPU's.

#define BN_THREADS 256

// Adds the block's `values` by a fixed tree into values[0] (BN_THREADS threads, a power of two).
__device__ void tree_sum(double* values)
{
    for (int stride = BN_THREADS / 2; stride > 0; stride >>= 1)
    {
        if ((int)threadIdx.x < stride) values[threadIdx.x] = values[threadIdx.x] + values[threadIdx.x + stride];
        __syncthreads();
    }
}

// Training: mean and biased variance from sums of x − K (K the channel's first value), the running statistics moved
// by momentum (the variance made unbiased over `counted` values); evaluation: the running statistics. The mean and
// 1/sqrt(var + eps) are kept in stats[0, c] and stats[1, c] as floats, and those floats normalise.
extern "C" __global__ void batch_norm_forward(const float* x, const float* gamma, const float* beta, float* runningMean,
    float* runningVar, float* y, float* stats, int outer, int channels, int inner, int training, double momentum,
    double eps, double counted)
{
    __shared__ double sums[BN_THREADS];
    __shared__ double squares[BN_THREADS];
    int c = blockIdx.x, t = threadIdx.x;
    long long count = (long long)outer * inner;
    if (training)
    {
        double shift = x[(long long)c * inner], s = 0.0, q = 0.0;
        for (long long e = t; e < count; e += BN_THREADS)
        {
            long long n = e / inner;
            double d = (double)x[(n * channels + c) * inner + (e - n * inner)] - shift;
            s = s + d;
            q = q + d * d;
        }
        sums[t] = s;
        squares[t] = q;
        __syncthreads();
        tree_sum(sums);
        tree_sum(squares);
        if (t == 0)
        {
            double d = sums[0] / (double)count, mean = shift + d;
            double variance = fmax(0.0, squares[0] / (double)count - d * d);
            runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * mean);
            runningVar[c] = (float)((1 - momentum) * runningVar[c] + momentum * variance * counted / (counted - 1));
            stats[c] = (float)mean;
            stats[channels + c] = (float)(1.0 / sqrt(variance + eps));
        }
    }
    else if (t == 0)
    {
        stats[c] = runningMean[c];
        stats[channels + c] = (float)(1.0 / sqrt((double)runningVar[c] + eps));
    }
    __syncthreads();
    double m = stats[c], scale = (double)gamma[c] * (double)stats[channels + c], offset = beta[c];
    for (long long e = t; e < count; e += BN_THREADS)
    {
        long long n = e / inner, at = (n * channels + c) * inner + (e - n * inner);
        y[at] = (float)(((double)x[at] - m) * scale + offset);
    }
}

// dgamma = Σ g·x̂, dbeta = Σ g in double; dx (when given) = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)) in training,
// γ·invStd·g in evaluation.
extern "C" __global__ void batch_norm_backward(const float* x, const float* gradOutput, const float* gamma,
    const float* stats, float* gradX, float* gradGamma, float* gradBeta, int outer, int channels, int inner, int training)
{
    __shared__ double sums[BN_THREADS];
    __shared__ double centred[BN_THREADS];
    int c = blockIdx.x, t = threadIdx.x;
    long long count = (long long)outer * inner;
    double m = stats[c], inv = stats[channels + c];
    double s = 0.0, q = 0.0;
    for (long long e = t; e < count; e += BN_THREADS)
    {
        long long n = e / inner, at = (n * channels + c) * inner + (e - n * inner);
        double g = gradOutput[at];
        s = s + g;
        q = q + g * ((double)x[at] - m);
    }
    sums[t] = s;
    centred[t] = q;
    __syncthreads();
    tree_sum(sums);
    tree_sum(centred);
    double sumG = sums[0], sumGXhat = centred[0] * inv;
    if (t == 0)
    {
        gradGamma[c] = (float)sumGXhat;
        gradBeta[c] = (float)sumG;
    }
    if (gradX == 0) return;
    double scale = (double)gamma[c] * inv;
    double meanG = training ? sumG / (double)count : 0.0, meanGXhat = training ? sumGXhat / (double)count : 0.0;
    for (long long e = t; e < count; e += BN_THREADS)
    {
        long long n = e / inner, at = (n * channels + c) * inner + (e - n * inner);
        gradX[at] = (float)(scale * ((double)gradOutput[at] - meanG - ((double)x[at] - m) * inv * meanGXhat));
    }
}
