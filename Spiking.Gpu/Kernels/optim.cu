// One Adam/AdamW step in torch's float32 operation order (as Spiking.Layers Adam.Update), element by element;
// compiled with --fmad=false and IEEE division and square root, so the result is the CPU's to the bit.
extern "C" __global__ void adam(float* param, const float* grad, float* m1, float* m2, int n,
    float negStepSize, float bc2Sqrt, float eps, float weight, float beta2, float oneMinusBeta2,
    float l2, float shrink, int lerpFromStart)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x)
    {
        // A shrink of 1 and a decay of 0 leave p and g as they are, so they are applied unconditionally, as on the CPU.
        float p = param[i] * shrink;
        float g = grad[i] + l2 * p;
        float mean = m1[i];
        mean = lerpFromStart ? mean + weight * (g - mean) : g - (g - mean) * (1.0f - weight);
        m1[i] = mean;
        float square = m2[i] * beta2 + oneMinusBeta2 * g * g;
        m2[i] = square;
        float denom = sqrtf(square) / bc2Sqrt + eps;
        param[i] = p + negStepSize * mean / denom;
    }
}
