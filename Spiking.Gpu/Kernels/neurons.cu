// The fused multi-step neuron over x viewed as [steps, perStep] (perStep = rows · rowLength), with each float
// operation in the order of the CPU kernel (Spiking.Autograd NeuronKernel, ChargeRules, ResetRules); compiled with
// --fmad=false, so h, v and the spikes are the CPU's to the bit.

#define CHARGE_INTEGRATE 0
#define CHARGE_DECAY_INPUT 1
#define CHARGE_LEAK 2

#define RESET_HARD 0
#define RESET_HARD_DETACHED 1
#define RESET_SOFT 2
#define RESET_SOFT_DETACHED 3

#define SURROGATE_ATAN 0
#define SURROGATE_SIGMOID 1

__device__ __forceinline__ float charge(int rule, float v, float x, float k, float vr)
{
    if (rule == CHARGE_INTEGRATE) return v + x;
    if (rule == CHARGE_DECAY_INPUT) return v + (x - (v - vr)) * k;
    return v - (v - vr) * k + x;
}

// One thread per neuron, laid out by packed word: warp q covers bits 32·(q mod 2) .. +31 of one word of one row,
// so the row's padding lanes exist (and never spike) and a warp OR-reduces its spikes with shuffles into one
// 32-bit half of the word, which lane 0 stores: no atomics, and every word is written whole at every step.
// `halves` is the spike tensor's words viewed as 32-bit halves (little-endian: the low half first); `slot` indexes
// them (not `half`, which names CUDA's 16-bit float type).
extern "C" __global__ void neuron_forward(const float* x, unsigned* halves, float* hSeq, float* vSeq,
    int steps, int perStep, int rowLength, int wordsPerRow,
    int rule, int hard, float threshold, float vReset, float k)
{
    long long halvesPerRow = 2ll * wordsPerRow;
    long long halvesPerStep = (long long)(perStep / rowLength) * halvesPerRow;
    long long thread = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long slot = thread >> 5;
    // Blocks are whole warps and a warp shares `slot`, so whole warps leave together and the shuffles stay full.
    if (slot >= halvesPerStep) return;
    int lane = (int)(thread & 31);
    long long row = slot / halvesPerRow;
    int column = (int)(slot % halvesPerRow) * 32 + lane;
    bool live = column < rowLength;
    long long e = row * rowLength + column;
    float v = vReset;
    for (int t = 0; t < steps; t++)
    {
        bool spike = false;
        if (live)
        {
            long long i = (long long)t * perStep + e;
            float h = charge(rule, v, x[i], k, vReset);
            if (hSeq) hSeq[i] = h;
            spike = h >= threshold;
            float s = spike ? 1.0f : 0.0f;
            v = hard ? s * vReset + (1.0f - s) * h : h - s * threshold;
            if (vSeq) vSeq[i] = v;
        }
        unsigned bits = spike ? 1u << lane : 0u;
        for (int offset = 16; offset > 0; offset >>= 1) bits |= __shfl_xor_sync(0xffffffffu, bits, offset);
        if (lane == 0) halves[(long long)t * halvesPerStep + slot] = bits;
    }
}

// The surrogate's derivative at x = h − threshold: ATan is a / (1 + (b·x)²) with a = α/2, b = π/2·α; Sigmoid is
// α·e / (1 + e)² with e = exp(−|α·x|), a = α.
__device__ __forceinline__ float surrogate(int kind, float x, float a, float b)
{
    if (kind == SURROGATE_ATAN)
    {
        float t = b * x;
        return a / (1.0f + t * t);
    }
    float e = expf(-fabsf(a * x));
    float d = 1.0f + e;
    return a * e / (d * d);
}

__device__ __forceinline__ float dv_dh(int reset, float h, float s, float sg, float vr, float threshold)
{
    if (reset == RESET_HARD) return (1.0f - s) + (vr - h) * sg;
    if (reset == RESET_HARD_DETACHED) return 1.0f - s;
    if (reset == RESET_SOFT) return 1.0f - threshold * sg;
    return 1.0f;
}

// Backward through time, one thread per neuron, t = steps−1 .. 0:
// gh = gradSpike·sg + gradV·dv/dh, gradX = gh·∂h/∂x, gradV = gh·∂h/∂v.
extern "C" __global__ void neuron_backward(const float* hSeq, const float* gradSpikes, float* gradX, int steps, int perStep,
    int reset, float threshold, float vReset, int kind, float a, float b, float dhdx, float dhdv)
{
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < perStep; e += (long long)blockDim.x * gridDim.x)
    {
        float gv = 0.0f;
        for (int t = steps - 1; t >= 0; t--)
        {
            long long i = (long long)t * perStep + e;
            float h = hSeq[i];
            float s = h >= threshold ? 1.0f : 0.0f;
            float sg = surrogate(kind, h - threshold, a, b);
            float gh = gradSpikes[i] * sg + gv * dv_dh(reset, h, s, sg, vReset, threshold);
            gradX[i] = gh * dhdx;
            gv = gh * dhdv;
        }
    }
}
