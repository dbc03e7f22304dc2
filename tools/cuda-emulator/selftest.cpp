// Self-test of the Spiking CUDA emulator. Loads libcuda.so.1 and libnvrtc.so with dlopen like a
// real client, compiles CUDA C kernels, launches them and checks results and error paths.
// Usage: selftest OUTDIR
#include <dlfcn.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

typedef unsigned long long Ptr;
static int (*cuInit)(unsigned), (*cuDriverGetVersion)(int*), (*cuDeviceGetCount)(int*), (*cuDeviceGet)(int*, int);
static int (*cuDeviceGetName)(char*, int, int), (*cuDeviceGetAttribute)(int*, int, int), (*cuDeviceTotalMem_v2)(size_t*, int);
static int (*cuDevicePrimaryCtxRetain)(void**, int), (*cuDevicePrimaryCtxRelease_v2)(int), (*cuCtxSetCurrent)(void*);
static int (*cuMemAlloc_v2)(Ptr*, size_t), (*cuMemFree_v2)(Ptr), (*cuMemcpyHtoD_v2)(Ptr, const void*, size_t);
static int (*cuMemcpyDtoH_v2)(void*, Ptr, size_t), (*cuMemsetD32_v2)(Ptr, unsigned, size_t);
static int (*cuMemcpyHtoDAsync_v2)(Ptr, const void*, size_t, void*), (*cuStreamCreate)(void**, unsigned);
static int (*cuStreamDestroy_v2)(void*), (*cuStreamSynchronize)(void*), (*cuModuleLoadData)(void**, const void*);
static int (*cuModuleUnload)(void*), (*cuModuleGetFunction)(void**, void*, const char*);
static int (*cuLaunchKernel)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
static int (*cuGetErrorName)(int, const char**), (*cuGetErrorString)(int, const char**);
static size_t (*emuLiveAllocationCount)(), (*emuLiveAllocationBytes)();
static int (*emuLastLaunchUsedBarriers)();
static int (*nvrtcCreateProgram)(void**, const char*, const char*, int, const char* const*, const char* const*);
static int (*nvrtcCompileProgram)(void*, int, const char* const*), (*nvrtcDestroyProgram)(void**);
static int (*nvrtcGetPTXSize)(void*, size_t*), (*nvrtcGetPTX)(void*, char*);
static int (*nvrtcGetProgramLogSize)(void*, size_t*), (*nvrtcGetProgramLog)(void*, char*);
static const char* (*nvrtcGetErrorString)(int);

static int passed = 0, failed = 0;
#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAIL line %d: %s: ", __LINE__, #cond); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static const char* kSource = R"CU(
// vector add with a grid-stride loop (SCALE comes from a -D option)
extern "C" __global__ void vadd(const float* __restrict__ a, const float* __restrict__ b,
                                float* __restrict__ c, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        c[i] = SCALE * (a[i] + b[i]);
}
/* shared-memory block reduction; blockDim.x must be a power of two */
extern "C" __global__ void block_sum(const float* in, float* out, int n) {
    __shared__ float s[1024];
    unsigned t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
        if (t < k) s[t] += s[t + k];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
static __device__ __forceinline__ float warp_reduce(float v) {
    for (int off = warpSize / 2; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}
extern "C" __global__ void warp_sum(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = warp_reduce(i < n ? in[i] : 0.0f);
    if ((threadIdx.x & 31) == 0) atomicAdd(out, v);
}
// two-stage block reduction: xor shuffles, then only warp 0 reduces the per-warp partials
extern "C" __global__ void block_sum_xor(const float* in, float* out, unsigned* ballots, int n) {
    __shared__ float partial[32];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? in[i] : 0.0f;
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
    unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
        unsigned b = __ballot_sync(0xffffffffu, v > 0.0f);
        __syncwarp();
        v = warp_reduce(v);
        if (lane == 0) { out[blockIdx.x] = v; ballots[blockIdx.x] = b; }
    }
}
extern "C" __global__ void popcount_sum(const unsigned long long* __restrict__ bits, int words,
                                        float* total, unsigned int* ones) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= words) return;
    int c = __popcll(bits[i]);
    atomicAdd(total, (float)c * 0.5f);
    atomicAdd(ones, (unsigned)c);
}
extern "C" __global__ void idx3d(unsigned int* out) {
    unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    out[b * blockDim.x * blockDim.y * blockDim.z + t] = (threadIdx.z << 24) | (threadIdx.y << 16) |
        (threadIdx.x << 8) | (blockIdx.z << 4) | (blockIdx.y << 2) | blockIdx.x;
}
extern "C" __global__ void early_exit(int* out, const int n) {
    __shared__ int count;
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    if ((int)threadIdx.x >= n) return;   // exited threads no longer take part in __syncthreads
    atomicAdd(&count, 1);
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = count;
}
extern "C" __global__ void bad_sync(int* p) {   // thread 0 waits for the block, the rest for their warp
    if (threadIdx.x == 0) __syncthreads(); else __syncwarp();
    p[threadIdx.x] = 1;
}
// signature parsing: prototypes, __launch_bounds__, qualifiers, every scalar type, comments
extern "C" __global__ void sig(float* const, const int, unsigned int, long long, unsigned long long, const double,
                               float, const unsigned long long* __restrict__, int*);
/* extern "C" __global__ void commented_out(int x) {} */
extern "C" __global__ void __launch_bounds__(64) sig(float* const out, const int a, unsigned int b, long long c,
        unsigned long long d, const double e, float f, const unsigned long long* __restrict__ g,
        int* h /* , int commented */) {
    out[0] = (float)a; out[1] = (float)b; out[2] = (float)c; out[3] = (float)d; out[4] = (float)e; out[5] = f;
    out[6] = (float)__ldg(g); out[7] = (float)h[0] + (float)max(a, 2) + fmaxf(f, 0.0f);
}
__global__ void no_params(void) {}
extern "C" __global__ void touch(float* p) { p[blockIdx.x * blockDim.x + threadIdx.x] += 1.0f; }
)CU";

static void* program(const char* src, std::vector<const char*> opts, int* rc, std::string* log) {
    void* prog = nullptr;
    nvrtcCreateProgram(&prog, src, "kernels.cu", 0, nullptr, nullptr);
    *rc = nvrtcCompileProgram(prog, (int)opts.size(), opts.data());
    size_t n = 0; nvrtcGetProgramLogSize(prog, &n);
    log->assign(n, '\0'); nvrtcGetProgramLog(prog, log->data());
    return prog;
}
static void* fn(void* mod, const char* name) { void* f = nullptr; int r = cuModuleGetFunction(&f, mod, name);
    CHECK(r == 0, "cuModuleGetFunction(%s) = %d", name, r); return f; }
static int launch(void* f, unsigned g, unsigned b, std::vector<void*> args) {
    return cuLaunchKernel(f, g, 1, 1, b, 1, 1, 0, nullptr, args.data(), nullptr);
}
static Ptr upload(const void* h, size_t n) { Ptr d = 0; cuMemAlloc_v2(&d, n); cuMemcpyHtoD_v2(d, h, n); return d; }

int main(int argc, char** argv) {
    std::string dir = argc > 1 ? argv[1] : ".";
    void* cu = dlopen((dir + "/libcuda.so.1").c_str(), RTLD_NOW | RTLD_LOCAL);
    void* rtc = dlopen((dir + "/libnvrtc.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!cu || !rtc) { printf("selftest: cannot load the emulator: %s\n", dlerror()); return 1; }
#define LOAD(lib, s) if (!(s = reinterpret_cast<decltype(s)>(dlsym(lib, #s)))) { printf("missing %s\n", #s); return 1; }
    LOAD(cu, cuInit) LOAD(cu, cuDriverGetVersion) LOAD(cu, cuDeviceGetCount) LOAD(cu, cuDeviceGet) LOAD(cu, cuDeviceGetName)
    LOAD(cu, cuDeviceGetAttribute) LOAD(cu, cuDeviceTotalMem_v2) LOAD(cu, cuDevicePrimaryCtxRetain)
    LOAD(cu, cuDevicePrimaryCtxRelease_v2) LOAD(cu, cuCtxSetCurrent) LOAD(cu, cuMemAlloc_v2) LOAD(cu, cuMemFree_v2)
    LOAD(cu, cuMemcpyHtoD_v2) LOAD(cu, cuMemcpyDtoH_v2) LOAD(cu, cuMemsetD32_v2) LOAD(cu, cuMemcpyHtoDAsync_v2)
    LOAD(cu, cuStreamCreate) LOAD(cu, cuStreamDestroy_v2) LOAD(cu, cuStreamSynchronize) LOAD(cu, cuModuleLoadData)
    LOAD(cu, cuModuleUnload) LOAD(cu, cuModuleGetFunction) LOAD(cu, cuLaunchKernel) LOAD(cu, cuGetErrorName)
    LOAD(cu, cuGetErrorString) LOAD(cu, emuLiveAllocationCount) LOAD(cu, emuLiveAllocationBytes)
    LOAD(cu, emuLastLaunchUsedBarriers) LOAD(rtc, nvrtcCreateProgram) LOAD(rtc, nvrtcCompileProgram)
    LOAD(rtc, nvrtcDestroyProgram) LOAD(rtc, nvrtcGetPTXSize) LOAD(rtc, nvrtcGetPTX) LOAD(rtc, nvrtcGetProgramLogSize)
    LOAD(rtc, nvrtcGetProgramLog) LOAD(rtc, nvrtcGetErrorString)

    // --- initialisation, device, context
    int v = 0; Ptr d = 0; void* ctx = nullptr;
    CHECK(cuDeviceGetCount(&v) == 3, "call before cuInit must return NOT_INITIALIZED");
    CHECK(cuMemAlloc_v2(&d, 16) == 3, "alloc before cuInit");
    CHECK(cuInit(0) == 0, "cuInit");
    CHECK(cuDriverGetVersion(&v) == 0 && v == 13000, "version %d", v);
    CHECK(cuDeviceGetCount(&v) == 0 && v == 1, "count %d", v);
    int dev = -1; char name[64];
    CHECK(cuDeviceGet(&dev, 0) == 0 && dev == 0, "cuDeviceGet");
    CHECK(cuDeviceGet(&dev, 1) == 101, "bad ordinal");
    CHECK(cuDeviceGetName(name, 64, 0) == 0 && !strcmp(name, "Spiking CPU emulator"), "name %s", name);
    int a1 = 0, a75 = 0, a16 = 0; size_t total = 0;
    CHECK(cuDeviceGetAttribute(&a1, 1, 0) == 0 && a1 == 1024 && cuDeviceGetAttribute(&a75, 75, 0) == 0 && a75 == 9 &&
          cuDeviceGetAttribute(&a16, 16, 0) == 0 && a16 == 16, "attributes");
    CHECK(cuDeviceGetAttribute(&v, 12345, 0) == 1, "unknown attribute");
    CHECK(cuDeviceTotalMem_v2(&total, 0) == 0 && total == (8ull << 30), "total memory");
    CHECK(cuMemAlloc_v2(&d, 16) == 201, "alloc without a current context");
    CHECK(cuDevicePrimaryCtxRetain(&ctx, 0) == 0 && ctx && cuCtxSetCurrent(ctx) == 0, "context");
    const char* s = nullptr;
    CHECK(cuGetErrorName(500, &s) == 0 && !strcmp(s, "CUDA_ERROR_NOT_FOUND"), "error name");
    CHECK(cuGetErrorString(3, &s) == 0 && !strcmp(s, "initialization error"), "error string");
    CHECK(cuGetErrorName(123456, &s) == 1 && !s, "unknown error code");
    CHECK(!strcmp(nvrtcGetErrorString(6), "NVRTC_ERROR_COMPILATION"), "nvrtc error string");

    // --- memory
    CHECK(cuMemAlloc_v2(&d, 1000) == 0 && d % 256 == 0 && emuLiveAllocationCount() == 1 && emuLiveAllocationBytes() == 1000, "alloc");
    std::vector<unsigned> host(250);
    CHECK(cuMemsetD32_v2(d, 0xdeadbeef, 250) == 0 && cuMemcpyDtoH_v2(host.data(), d, 1000) == 0 && host[249] == 0xdeadbeef, "memset");
    CHECK(cuMemcpyDtoH_v2(host.data(), d + 4, 1000) == 1, "copy past the end of an allocation");
    void* stream = nullptr;
    CHECK(cuStreamCreate(&stream, 0) == 0 && stream && cuMemcpyHtoDAsync_v2(d, host.data(), 8, stream) == 0 &&
          cuStreamSynchronize(stream) == 0 && cuStreamDestroy_v2(stream) == 0 && cuStreamDestroy_v2(stream) == 400, "streams");
    CHECK(cuMemFree_v2(d) == 0 && cuMemFree_v2(d) == 1 && cuMemFree_v2(12345) == 1, "free / bad free");

    // --- compilation
    std::string log; int rc;
    void* prog = program(kSource, {"--gpu-architecture=compute_90", "-std=c++17", "--fmad=false", "-default-device",
                                   "--use_fast_math", "-DSCALE=2.0f"}, &rc, &log);
    CHECK(rc == 0, "compile rc %d log:\n%s", rc, log.c_str());
    size_t ptxSize = 0; nvrtcGetPTXSize(prog, &ptxSize);
    std::string ptx(ptxSize, '\0'); nvrtcGetPTX(prog, ptx.data());
    nvrtcDestroyProgram(&prog);
    CHECK(prog == nullptr && ptxSize > 100 && ptx.back() == '\0', "PTX image (%zu bytes)", ptxSize);
    void* mod = nullptr;
    CHECK(cuModuleLoadData(&mod, ptx.data()) == 0 && mod, "cuModuleLoadData");
    void *fVadd = fn(mod, "vadd"), *fBlock = fn(mod, "block_sum"), *fWarp = fn(mod, "warp_sum"), *fXor = fn(mod, "block_sum_xor"),
         *fPop = fn(mod, "popcount_sum"), *fIdx = fn(mod, "idx3d"), *fEarly = fn(mod, "early_exit"), *fTouch = fn(mod, "touch");
    void* nf = nullptr;
    CHECK(cuModuleGetFunction(&nf, mod, "no_such_kernel") == 500, "missing kernel must be NOT_FOUND");

    // --- vector add (sequential mode), several grid/block shapes incl. partial blocks and grid-stride loops
    int n = 1000;
    std::vector<float> ha(n), hb(n), hc(n);
    for (int i = 0; i < n; i++) { ha[i] = (float)i; hb[i] = (float)(3 * i % 17); }
    Ptr da = upload(ha.data(), n * 4), db = upload(hb.data(), n * 4), dc = upload(hc.data(), n * 4);
    unsigned shapes[][2] = {{1, 32}, {3, 128}, {8, 256}, {4, 1024}, {1000, 1}, {2, 96}};
    for (auto& sh : shapes) {
        cuMemsetD32_v2(dc, 0, n);
        rc = launch(fVadd, sh[0], sh[1], {&da, &db, &dc, &n});
        cuMemcpyDtoH_v2(hc.data(), dc, n * 4);
        int bad = 0; for (int i = 0; i < n; i++) bad += hc[i] != 2.0f * (ha[i] + hb[i]);
        CHECK(rc == 0 && bad == 0 && emuLastLaunchUsedBarriers() == 0, "vadd <<<%u,%u>>> rc %d, %d wrong", sh[0], sh[1], rc, bad);
    }
    // --- shared-memory block reduction (barrier mode)
    std::vector<float> in(n), out(64);
    for (int i = 0; i < n; i++) in[i] = (float)(i % 7);
    Ptr din = upload(in.data(), n * 4), dout = 0; cuMemAlloc_v2(&dout, 64 * 4);
    for (unsigned b : {32u, 256u, 1024u}) {
        unsigned g = (n + b - 1) / b;
        rc = launch(fBlock, g, b, {&din, &dout, &n});
        cuMemcpyDtoH_v2(out.data(), dout, g * 4);
        int bad = 0;
        for (unsigned k = 0; k < g; k++) { float e = 0; for (unsigned i = k * b; i < (k + 1) * b && i < (unsigned)n; i++) e += in[i]; bad += out[k] != e; }
        CHECK(rc == 0 && bad == 0 && emuLastLaunchUsedBarriers() == 1, "block_sum block %u rc %d, %d wrong", b, rc, bad);
    }
    // --- warp-shuffle reduction + float atomicAdd
    float expect = 0; for (float x : in) expect += x;
    for (unsigned b : {32u, 96u, 256u}) {
        float zero = 0, got = -1; cuMemcpyHtoD_v2(dout, &zero, 4);
        rc = launch(fWarp, (n + b - 1) / b, b, {&din, &dout, &n});
        cuMemcpyDtoH_v2(&got, dout, 4);
        CHECK(rc == 0 && got == expect && emuLastLaunchUsedBarriers() == 1, "warp_sum block %u: %f vs %f", b, got, expect);
    }
    // --- xor shuffles, ballot and a warp-0-only second stage
    for (unsigned b : {64u, 256u, 1024u}) {
        unsigned g = (n + b - 1) / b, nw = b / 32;
        Ptr dballots = 0; cuMemAlloc_v2(&dballots, g * 4);
        rc = launch(fXor, g, b, {&din, &dout, &dballots, &n});
        std::vector<unsigned> ballots(g);
        cuMemcpyDtoH_v2(out.data(), dout, g * 4); cuMemcpyDtoH_v2(ballots.data(), dballots, g * 4); cuMemFree_v2(dballots);
        int bad = 0;
        for (unsigned k = 0; k < g; k++) {
            float e = 0; unsigned mask = 0;
            for (unsigned i = k * b; i < (k + 1) * b && i < (unsigned)n; i++) { e += in[i]; if (in[i] > 0) mask |= 1u << ((i - k * b) / 32); }
            bad += out[k] != e || ballots[k] != mask;
        }
        CHECK(rc == 0 && bad == 0 && nw > 0, "block_sum_xor block %u rc %d, %d wrong", b, rc, bad);
    }
    // --- popcount + atomics (sequential mode, early return)
    int words = 100; std::vector<unsigned long long> bits(words); unsigned long long x = 88172645463325252ull;
    unsigned ones = 0;
    for (auto& w : bits) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; w = x; ones += (unsigned)__builtin_popcountll(x); }
    Ptr dbits = upload(bits.data(), words * 8), dtot = 0, dones = 0; cuMemAlloc_v2(&dtot, 4); cuMemAlloc_v2(&dones, 4);
    cuMemsetD32_v2(dtot, 0, 1); cuMemsetD32_v2(dones, 0, 1);
    rc = launch(fPop, 2, 64, {&dbits, &words, &dtot, &dones});
    float tot = 0; unsigned gotOnes = 0; cuMemcpyDtoH_v2(&tot, dtot, 4); cuMemcpyDtoH_v2(&gotOnes, dones, 4);
    CHECK(rc == 0 && gotOnes == ones && tot == 0.5f * ones && emuLastLaunchUsedBarriers() == 0, "popcount %u vs %u, %f", gotOnes, ones, tot);
    // --- 3-D grid and block indices
    std::vector<unsigned> idx(2 * 3 * 2 * 16);
    Ptr didx = 0; cuMemAlloc_v2(&didx, idx.size() * 4);
    void* idxArgs[] = {&didx};
    rc = cuLaunchKernel(fIdx, 2, 3, 2, 4, 2, 2, 0, nullptr, idxArgs, nullptr);
    cuMemcpyDtoH_v2(idx.data(), didx, idx.size() * 4);
    int bad = 0;
    for (unsigned bz = 0; bz < 2; bz++) for (unsigned by = 0; by < 3; by++) for (unsigned bx = 0; bx < 2; bx++)
        for (unsigned tz = 0; tz < 2; tz++) for (unsigned ty = 0; ty < 2; ty++) for (unsigned tx = 0; tx < 4; tx++)
            bad += idx[(bx + 2 * (by + 3 * bz)) * 16 + tx + 4 * (ty + 2 * tz)] != ((tz << 24) | (ty << 16) | (tx << 8) | (bz << 4) | (by << 2) | bx);
    CHECK(rc == 0 && bad == 0, "idx3d rc %d, %d wrong", rc, bad);
    // --- threads leaving before a __syncthreads
    int limit = 40; std::vector<int> cnt(3);
    rc = launch(fEarly, 3, 64, {&dout, &limit});
    cuMemcpyDtoH_v2(cnt.data(), dout, 12);
    CHECK(rc == 0 && cnt[0] == 40 && cnt[1] == 40 && cnt[2] == 40, "early_exit rc %d: %d %d %d", rc, cnt[0], cnt[1], cnt[2]);

    // --- parameter marshalling
    {
        int a = -3; unsigned b = 4000000000u; long long c = -5; unsigned long long d = 1ull << 40; double e = 0.25;
        float f2 = 1.5f; unsigned long long g0 = 77; int h0 = 9;
        Ptr dg = upload(&g0, 8), dh = upload(&h0, 4);
        rc = launch(fn(mod, "sig"), 1, 1, {&dout, &a, &b, &c, &d, &e, &f2, &dg, &dh});
        float r[8]; cuMemcpyDtoH_v2(r, dout, 32);
        CHECK(rc == 0 && r[0] == -3 && r[1] == 4e9f && r[2] == -5 && r[3] == (float)(1ull << 40) && r[4] == 0.25f &&
              r[5] == 1.5f && r[6] == 77 && r[7] == 9 + 2 + 1.5f, "sig rc %d: %g %g %g %g %g %g %g %g", rc, r[0], r[1],
              r[2], r[3], r[4], r[5], r[6], r[7]);
        CHECK(launch(fn(mod, "no_params"), 1, 1, {}) == 0 && cuModuleGetFunction(&nf, mod, "commented_out") == 500, "no_params");
        cuMemFree_v2(dg); cuMemFree_v2(dh);
    }
    // --- launch errors
    void* extra[] = {nullptr};
    CHECK(launch(fVadd, 1, 1025, {&da, &db, &dc, &n}) == 1, "1025 threads per block");
    CHECK(cuLaunchKernel(fVadd, 1, 1, 1, 32, 1, 1, 49153, nullptr, std::vector<void*>{&da, &db, &dc, &n}.data(), nullptr) == 1, "too much shared memory");
    CHECK(cuLaunchKernel(fVadd, 1, 1, 1, 32, 1, 1, 0, nullptr, std::vector<void*>{&da, &db, &dc, &n}.data(), extra) == 1, "extra != NULL");
    printf("(a deadlock message from the emulator is expected next)\n"); fflush(stdout);
    CHECK(launch(fn(mod, "bad_sync"), 2, 64, {&dout}) == 719, "a deadlocked block must fail the launch");
    CHECK(launch(fEarly, 3, 64, {&dout, &limit}) == 0, "launches work again after a deadlock");
    CHECK(cuModuleLoadData(&nf, "//\n.version 8.0\n") == 218 && cuModuleLoadData(&nf, "\x7f" "ELF") == 200, "bad images");

    // --- launch speed
    Ptr big = 0; cuMemAlloc_v2(&big, 1024 * 256 * 4); cuMemsetD32_v2(big, 0, 1024 * 256);
    launch(fTouch, 1024, 256, {&big});
    auto t0 = std::chrono::steady_clock::now();
    rc = launch(fTouch, 1024, 256, {&big});
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    float probe = 0; cuMemcpyDtoH_v2(&probe, big + 4 * 1000, 4);
    CHECK(rc == 0 && probe == 2.0f && ms < 1000, "touch 1024x256 took %.1f ms", ms);
    printf("launch 1024 blocks x 256 threads, trivial kernel (sequential mode): %.1f ms\n", ms);
    Ptr bigOut = 0; cuMemAlloc_v2(&bigOut, 1024 * 4); int bigN = 1024 * 256;
    t0 = std::chrono::steady_clock::now();
    rc = launch(fBlock, 1024, 256, {&big, &bigOut, &bigN});
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cuMemcpyDtoH_v2(&probe, bigOut + 4 * 1023, 4);
    CHECK(rc == 0 && probe == 512.0f, "block_sum 1024x256 rc %d probe %f", rc, probe);
    printf("launch 1024 blocks x 256 threads, block_sum with __syncthreads (barrier mode): %.1f ms\n", ms);

    // --- compile errors and options
    prog = program("extern \"C\" __global__ void k(float* p) { p[0] = undefined_thing; }", {}, &rc, &log);
    CHECK(rc == 6 && log.find("undefined_thing") != std::string::npos && log.find("error") != std::string::npos,
          "compile error rc %d log:\n%s", rc, log.c_str());
    nvrtcDestroyProgram(&prog);
    const char* hdrName = "spk/helpers.cuh";
    const char* hdr = "#pragma once\n__device__ inline int twice(int x) { return 2 * x; }\n";
    prog = nullptr;
    nvrtcCreateProgram(&prog, "#include \"spk/helpers.cuh\"\nextern \"C\" __global__ void k(int* p) { p[0] = twice(p[0]); }",
                       "hdr.cu", 1, &hdr, &hdrName);
    CHECK(nvrtcCompileProgram(prog, 0, nullptr) == 0, "compile with an in-memory header");
    nvrtcDestroyProgram(&prog);
    prog = program("extern \"C\" __global__ void k() {}", {"--no-such-option"}, &rc, &log);
    CHECK(rc == 5, "unknown option rc %d", rc);
    nvrtcDestroyProgram(&prog);

    // --- cleanup and leak accounting
    for (Ptr p : {da, db, dc, din, dout, dbits, dtot, dones, didx, big, bigOut}) cuMemFree_v2(p);
    CHECK(emuLiveAllocationCount() == 0 && emuLiveAllocationBytes() == 0, "leaked %zu allocations", emuLiveAllocationCount());
    CHECK(cuModuleUnload(mod) == 0 && cuModuleUnload(mod) == 400, "module unload");
    CHECK(cuDevicePrimaryCtxRelease_v2(0) == 0, "context release");
    printf("selftest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
