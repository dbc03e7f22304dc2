// Spiking CUDA emulator: a CPU implementation of the subset of the CUDA driver API (libcuda.so.1)
// that the Spiking GPU backend uses. Device memory is host memory; launches run synchronously.
#include "emu.h"
#include <dlfcn.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#define API extern "C" __attribute__((visibility("default")))
typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef int CUdevice;
enum { OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101,
       INVALID_IMAGE = 200, INVALID_CONTEXT = 201, INVALID_PTX = 218, INVALID_HANDLE = 400, NOT_FOUND = 500,
       LAUNCH_FAILED = 719 };
static const size_t kTotalMem = 8ull << 30;

// ---------------------------------------------------------------- global state
static std::atomic<bool> g_init{false};
static std::mutex g_mu;                        // guards everything below
static int g_ctxRefs = 0;
static int g_ctxObject;                        // address = the primary context handle
static thread_local void* tl_ctx = nullptr;
static std::map<uintptr_t, size_t> g_allocs;   // base -> bytes
static size_t g_allocBytes = 0;
static std::set<void*> g_streams;
struct Function;
struct Module { void* dl; EmuSetDimsFn setDims; EmuSetIndexFn setIndex; std::map<std::string, Function*> funcs; };
struct Function { Module* mod; EmuTrampolineFn fn; int needsBarrier, nparams; };
static std::set<Module*> g_modules;
static std::set<Function*> g_functions;

static CUresult ready(bool needCtx = true) {
    if (!g_init) return NOT_INITIALIZED;
    if (needCtx && (tl_ctx != &g_ctxObject || g_ctxRefs == 0)) return INVALID_CONTEXT;
    return OK;
}
#define READY(...) do { CUresult r_ = ready(__VA_ARGS__); if (r_) return r_; } while (0)

static bool validStream(void* s) { std::lock_guard<std::mutex> l(g_mu); return !s || g_streams.count(s); }
// True when [p, p+n) lies inside one live allocation.
static bool inAlloc(CUdeviceptr p, size_t n) {
    std::lock_guard<std::mutex> l(g_mu);
    auto it = g_allocs.upper_bound((uintptr_t)p);
    if (it == g_allocs.begin()) return false;
    --it;
    return p >= it->first && p - it->first <= it->second && n <= it->second - (p - it->first);
}

// ---------------------------------------------------------------- init, device, context
API CUresult cuInit(unsigned flags) { if (flags) return INVALID_VALUE; g_init = true; return OK; }
API CUresult cuDriverGetVersion(int* v) { if (!v) return INVALID_VALUE; *v = 13000; return OK; }
API CUresult cuDeviceGetCount(int* n) { READY(false); if (!n) return INVALID_VALUE; *n = 1; return OK; }
API CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    READY(false); if (!d) return INVALID_VALUE; if (ordinal != 0) return INVALID_DEVICE; *d = 0; return OK;
}
API CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    READY(false); if (!name || len <= 0) return INVALID_VALUE; if (d != 0) return INVALID_DEVICE;
    snprintf(name, (size_t)len, "%s", "Spiking CPU emulator"); return OK;
}
API CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    READY(false); if (!v) return INVALID_VALUE; if (d != 0) return INVALID_DEVICE;
    static const std::map<int, int> attrs = {{1, 1024}, {2, 1024}, {3, 1024}, {4, 64}, {5, 2147483647}, {6, 65535},
        {7, 65535}, {8, 49152}, {9, 65536}, {10, 32}, {12, 65536}, {16, 16}, {39, 2048}, {75, 9}, {76, 0},
        {81, 233472}, {97, 232448}};
    auto it = attrs.find(attr); if (it == attrs.end()) return INVALID_VALUE;
    *v = it->second; return OK;
}
API CUresult cuDeviceTotalMem_v2(size_t* b, CUdevice d) {
    READY(false); if (!b) return INVALID_VALUE; if (d != 0) return INVALID_DEVICE; *b = kTotalMem; return OK;
}
API CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d) {
    READY(false); if (!ctx) return INVALID_VALUE; if (d != 0) return INVALID_DEVICE;
    std::lock_guard<std::mutex> l(g_mu); g_ctxRefs++; *ctx = &g_ctxObject; return OK;
}
API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    READY(false); if (d != 0) return INVALID_DEVICE;
    std::lock_guard<std::mutex> l(g_mu); if (g_ctxRefs == 0) return INVALID_CONTEXT; g_ctxRefs--; return OK;
}
API CUresult cuCtxSetCurrent(void* ctx) {
    READY(false); if (ctx && ctx != &g_ctxObject) return INVALID_CONTEXT; tl_ctx = ctx; return OK;
}
API CUresult cuCtxGetCurrent(void** ctx) { READY(false); if (!ctx) return INVALID_VALUE; *ctx = tl_ctx; return OK; }
API CUresult cuCtxSynchronize() { READY(); return OK; }

// ---------------------------------------------------------------- memory
API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
    READY(); if (!p || n == 0) return INVALID_VALUE;
    std::lock_guard<std::mutex> l(g_mu);
    if (n > kTotalMem - g_allocBytes) return OUT_OF_MEMORY;
    void* m = aligned_alloc(256, (n + 255) & ~(size_t)255);
    if (!m) return OUT_OF_MEMORY;
    g_allocs[(uintptr_t)m] = n; g_allocBytes += n; *p = (CUdeviceptr)(uintptr_t)m; return OK;
}
API CUresult cuMemFree_v2(CUdeviceptr p) {
    READY(); std::lock_guard<std::mutex> l(g_mu);
    auto it = g_allocs.find((uintptr_t)p); if (it == g_allocs.end()) return INVALID_VALUE;
    g_allocBytes -= it->second; g_allocs.erase(it); free((void*)(uintptr_t)p); return OK;
}
API CUresult cuMemGetInfo_v2(size_t* freeB, size_t* total) {
    READY(); if (!freeB || !total) return INVALID_VALUE;
    std::lock_guard<std::mutex> l(g_mu); *freeB = kTotalMem - g_allocBytes; *total = kTotalMem; return OK;
}
API size_t emuLiveAllocationCount(void) { std::lock_guard<std::mutex> l(g_mu); return g_allocs.size(); }
API size_t emuLiveAllocationBytes(void) { std::lock_guard<std::mutex> l(g_mu); return g_allocBytes; }
API size_t emuLiveStreamCount(void) { std::lock_guard<std::mutex> l(g_mu); return g_streams.size(); }
API size_t emuLiveModuleCount(void) { std::lock_guard<std::mutex> l(g_mu); return g_modules.size(); }

API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    READY(); if (n == 0) return OK; if (!src || !inAlloc(dst, n)) return INVALID_VALUE;
    memcpy((void*)(uintptr_t)dst, src, n); return OK;
}
API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    READY(); if (n == 0) return OK; if (!dst || !inAlloc(src, n)) return INVALID_VALUE;
    memcpy(dst, (const void*)(uintptr_t)src, n); return OK;
}
API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    READY(); if (n == 0) return OK; if (!inAlloc(dst, n) || !inAlloc(src, n)) return INVALID_VALUE;
    memmove((void*)(uintptr_t)dst, (const void*)(uintptr_t)src, n); return OK;
}
API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) {
    READY(); if (n == 0) return OK; if (!inAlloc(dst, n)) return INVALID_VALUE;
    memset((void*)(uintptr_t)dst, v, n); return OK;
}
API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned v, size_t n) {
    READY(); if (n == 0) return OK; if (dst % 4 || n > SIZE_MAX / 4 || !inAlloc(dst, n * 4)) return INVALID_VALUE;
    unsigned* p = (unsigned*)(uintptr_t)dst; for (size_t i = 0; i < n; i++) p[i] = v;
    return OK;
}
#define ASYNC(call) do { if (!validStream(s)) return ready() ? ready() : INVALID_HANDLE; return call; } while (0)
API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void* h, size_t n, void* s) { ASYNC(cuMemcpyHtoD_v2(d, h, n)); }
API CUresult cuMemcpyDtoHAsync_v2(void* h, CUdeviceptr d, size_t n, void* s) { ASYNC(cuMemcpyDtoH_v2(h, d, n)); }
API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr x, size_t n, void* s) { ASYNC(cuMemcpyDtoD_v2(d, x, n)); }
API CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void* s) { ASYNC(cuMemsetD8_v2(d, v, n)); }
API CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void* s) { ASYNC(cuMemsetD32_v2(d, v, n)); }

// ---------------------------------------------------------------- streams
API CUresult cuStreamCreate(void** s, unsigned) {
    READY(); if (!s) return INVALID_VALUE;
    std::lock_guard<std::mutex> l(g_mu); *s = new char; g_streams.insert(*s); return OK;
}
API CUresult cuStreamDestroy_v2(void* s) {
    READY(); std::lock_guard<std::mutex> l(g_mu);
    if (!g_streams.erase(s)) return INVALID_HANDLE;
    delete (char*)s; return OK;
}
API CUresult cuStreamSynchronize(void* s) { READY(); return validStream(s) ? OK : INVALID_HANDLE; }

// ---------------------------------------------------------------- execution
// Barrier mode: a block runs on one worker thread as cooperative fibers, one per CUDA thread.
// A fiber runs until it reaches __syncthreads/__syncwarp/a shuffle (or exits) and then yields to
// the worker's scheduler, which releases a barrier once every still-running party has reached it
// (threads that exited no longer count, as on Volta and later).
enum { READY, WAIT_BLOCK, WAIT_WARP, DONE };
struct Fiber { ucontext_t ctx; int state; unsigned parity; };
struct BlockRunner {
    std::deque<Fiber> fibers;                          // deque: a ucontext_t must never move
    std::vector<char*> stacks;
    ucontext_t sched;
    unsigned cur = 0, alive = 0, blockWaiting = 0, warpAlive[32], warpWaiting[32];
    unsigned long long slots[2][1024];                 // shuffle exchange, double-buffered
    EmuTrampolineFn fn = nullptr; void** params = nullptr;
};
static const size_t kStack = 256 << 10, kGuard = 4096;
static thread_local BlockRunner* tl_runner = nullptr;
static std::mutex g_launchMu;                          // one launch at a time
static std::atomic<int> g_lastLaunchBarriers{-1};
API int emuLastLaunchUsedBarriers(void) { return g_lastLaunchBarriers; } // for tests: 1 barrier mode, 0 sequential

static BlockRunner& runner(const char* what) {
    if (!tl_runner) { fprintf(stderr, "cuda-emulator: %s outside a barrier-mode launch\n", what); abort(); }
    return *tl_runner;
}
static void yieldAs(BlockRunner& r, int state) {
    Fiber& f = r.fibers[r.cur];
    f.state = state;
    if (state == WAIT_BLOCK) r.blockWaiting++; else r.warpWaiting[r.cur >> 5]++;
    swapcontext(&f.ctx, &r.sched);
}
static void emuSyncThreads() { yieldAs(runner("__syncthreads"), WAIT_BLOCK); }
static void emuSyncWarp() { yieldAs(runner("__syncwarp"), WAIT_WARP); }
static const unsigned long long* emuExchange(unsigned long long v) {
    BlockRunner& r = runner("warp shuffle");
    unsigned lin = r.cur;
    unsigned long long* s = r.slots[r.fibers[lin].parity]; // alternate buffers: a lane cannot overwrite
    r.fibers[lin].parity ^= 1;                              // a slot its warp has not read yet
    s[lin] = v;
    yieldAs(r, WAIT_WARP);
    return s + (lin & ~31u);
}
static void fiberMain() {
    BlockRunner& r = *tl_runner;
    r.fn(r.params);
    r.fibers[r.cur].state = DONE; r.alive--; r.warpAlive[r.cur >> 5]--;
} // returns to uc_link, the scheduler

// Runs one block; false on a deadlock (e.g. __syncthreads not reached by all threads).
static bool runBlock(BlockRunner& r, EmuSetIndexFn setIndex, unsigned bx, unsigned by, unsigned T, unsigned x,
                     unsigned y, unsigned z) {
    while (r.fibers.size() < T) { // fibers and their stacks are created once per worker and reused
        char* st = (char*)mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (st == MAP_FAILED) { perror("cuda-emulator: fiber stack"); abort(); }
        mprotect(st, kGuard, PROT_NONE); // overflow faults instead of corrupting a neighbour
        r.stacks.push_back(st); r.fibers.emplace_back();
        getcontext(&r.fibers.back().ctx);
    }
    r.alive = T; r.blockWaiting = 0;
    for (unsigned w = 0; w * 32 < T; w++) { r.warpAlive[w] = T - w * 32 < 32 ? T - w * 32 : 32; r.warpWaiting[w] = 0; }
    for (unsigned i = 0; i < T; i++) {
        Fiber& f = r.fibers[i];
        f.ctx.uc_stack.ss_sp = r.stacks[i] + kGuard; f.ctx.uc_stack.ss_size = kStack - kGuard;
        f.ctx.uc_link = &r.sched; makecontext(&f.ctx, fiberMain, 0);
        f.state = READY; f.parity = 0;
    }
    while (r.alive) {
        bool progress = false;
        for (unsigned i = 0; i < T; i++) {
            if (r.fibers[i].state != READY) continue;
            r.cur = i; progress = true;
            setIndex(i % bx, i / bx % by, i / (bx * by), x, y, z);
            swapcontext(&r.sched, &r.fibers[i].ctx);
        }
        auto release = [&](int state, unsigned from, unsigned to) {
            for (unsigned i = from; i < to; i++) if (r.fibers[i].state == state) r.fibers[i].state = READY;
            progress = true;
        };
        if (r.alive && r.blockWaiting == r.alive) { release(WAIT_BLOCK, 0, T); r.blockWaiting = 0; }
        for (unsigned w = 0; w * 32 < T; w++)
            if (r.warpWaiting[w] && r.warpWaiting[w] == r.warpAlive[w]) { release(WAIT_WARP, w * 32, w * 32 + r.warpAlive[w]); r.warpWaiting[w] = 0; }
        if (!progress) return false;
    }
    return true;
}

// Persistent worker pool; each worker sleeps on its own generation counter.
struct Pool {
    struct Worker { std::atomic<uint64_t> gen{0}; };
    std::vector<std::unique_ptr<Worker>> workers;
    std::function<void(unsigned)> job;
    std::atomic<unsigned> remaining{0};
    void run(unsigned n, std::function<void(unsigned)> fn) {
        while (workers.size() < n) {
            workers.emplace_back(new Worker);
            Worker* w = workers.back().get(); unsigned idx = (unsigned)workers.size() - 1;
            std::thread([this, w, idx] {
                for (uint64_t seen = 0;;) {
                    w->gen.wait(seen); seen = w->gen.load();
                    job(idx);
                    if (remaining.fetch_sub(1) == 1) remaining.notify_one();
                }
            }).detach();
        }
        job = std::move(fn); remaining = n;
        for (unsigned i = 0; i < n; i++) { workers[i]->gen.fetch_add(1); workers[i]->gen.notify_one(); }
        for (unsigned r; (r = remaining.load()) != 0;) remaining.wait(r);
    }
};
static Pool* g_pool = new Pool; // never destroyed: workers stay parked until the process exits

// ---------------------------------------------------------------- modules
static const EmuHooks g_hooks = {emuSyncThreads, emuSyncWarp, emuExchange};

API CUresult cuModuleLoadData(void** mod, const void* image) {
    READY(); if (!mod || !image) return INVALID_VALUE;
    const char* img = (const char*)image;
    size_t magic = strlen(EMU_IMAGE_MAGIC);
    if (strncmp(img, EMU_IMAGE_MAGIC, magic) != 0) return (img[0] == '/' || img[0] == '.') ? INVALID_PTX : INVALID_IMAGE;
    std::string bytes;
    auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    for (const char* p = img + magic; *p && *p != '\n'; p += 2) {
        int hi = hex(p[0]), lo = hi < 0 ? -1 : hex(p[1]);
        if (lo < 0) return INVALID_IMAGE;
        bytes.push_back((char)(hi * 16 + lo));
    }
    // dlopen needs a file: write a uniquely named temp copy, load it, unlink it (the mapping stays).
    const char* tmp = getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/spiking-emu-module-XXXXXX";
    int fd = mkstemp(path.data());
    if (fd < 0) return INVALID_IMAGE;
    bool written = write(fd, bytes.data(), bytes.size()) == (ssize_t)bytes.size();
    close(fd);
    void* dl = written ? dlopen(path.c_str(), RTLD_LOCAL | RTLD_NOW) : nullptr;
    unlink(path.c_str());
    if (!dl) { if (written) fprintf(stderr, "cuda-emulator: dlopen failed: %s\n", dlerror()); return INVALID_IMAGE; }
    auto setHooks = (EmuSetHooksFn)dlsym(dl, "__emu_set_hooks");
    auto m = new Module{dl, (EmuSetDimsFn)dlsym(dl, "__emu_set_dims"), (EmuSetIndexFn)dlsym(dl, "__emu_set_index"), {}};
    if (!setHooks || !m->setDims || !m->setIndex) { dlclose(dl); delete m; return INVALID_IMAGE; }
    setHooks(&g_hooks);
    std::lock_guard<std::mutex> l(g_mu); g_modules.insert(m); *mod = m; return OK;
}
API CUresult cuModuleUnload(void* mod) {
    READY(); std::lock_guard<std::mutex> l(g_mu);
    Module* m = (Module*)mod;
    if (!g_modules.erase(m)) return INVALID_HANDLE;
    for (auto& f : m->funcs) { g_functions.erase(f.second); delete f.second; }
    dlclose(m->dl); delete m; return OK;
}
API CUresult cuModuleGetFunction(void** fn, void* mod, const char* name) {
    READY(); if (!fn || !name) return INVALID_VALUE;
    std::lock_guard<std::mutex> l(g_mu);
    Module* m = (Module*)mod;
    if (!g_modules.count(m)) return INVALID_HANDLE;
    Function*& f = m->funcs[name];
    if (!f) {
        auto tr = (EmuTrampolineFn)dlsym(m->dl, (std::string(name) + "__emu").c_str());
        auto info = (const int*)dlsym(m->dl, (std::string(name) + "__emu_info").c_str());
        if (!tr || !info) { m->funcs.erase(name); return NOT_FOUND; }
        f = new Function{m, tr, info[0], info[1]}; g_functions.insert(f);
    }
    *fn = f; return OK;
}

API CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                            unsigned shared, void* stream, void** params, void** extra) {
    READY();
    Function* f = (Function*)fn;
    { std::lock_guard<std::mutex> l(g_mu); if (!g_functions.count(f)) return INVALID_HANDLE; }
    if (!validStream(stream)) return INVALID_HANDLE;
    if (extra || (f->nparams > 0 && !params)) return INVALID_VALUE;
    if (!gx || !gy || !gz || !bx || !by || !bz || gx > 2147483647u || gy > 65535 || gz > 65535 || bx > 1024 ||
        by > 1024 || bz > 64 || (uint64_t)bx * by * bz > 1024 || shared > 49152)
        return INVALID_VALUE;
    const unsigned T = bx * by * bz;
    const uint64_t nblocks = (uint64_t)gx * gy * gz;
    Module* m = f->mod;
    auto blockIndex = [&](uint64_t b, unsigned& x, unsigned& y, unsigned& z) {
        x = (unsigned)(b % gx); y = (unsigned)(b / gx % gy); z = (unsigned)(b / ((uint64_t)gx * gy));
    };
    std::lock_guard<std::mutex> launchLock(g_launchMu);
    g_lastLaunchBarriers = f->needsBarrier;
    // Blocks are spread over the workers; each worker runs whole blocks.
    static const unsigned hw = [] {
        const char* env = getenv("SPIKING_EMU_THREADS"); // e.g. 1 for a deterministic block order
        unsigned n = env && atoi(env) > 0 ? (unsigned)atoi(env) : std::thread::hardware_concurrency();
        return n ? n : 1u;
    }();
    unsigned W = nblocks < hw ? (unsigned)nblocks : hw;
    std::atomic<uint64_t> next{0};
    std::atomic<bool> deadlock{false};
    g_pool->run(W, [&](unsigned) {
        m->setDims(bx, by, bz, gx, gy, gz);
        static thread_local BlockRunner* runnerOfWorker = nullptr;
        if (f->needsBarrier && !runnerOfWorker) runnerOfWorker = new BlockRunner; // kept for later launches
        tl_runner = f->needsBarrier ? runnerOfWorker : nullptr;
        if (tl_runner) { tl_runner->fn = f->fn; tl_runner->params = params; }
        for (uint64_t b; !deadlock && (b = next.fetch_add(1)) < nblocks;) {
            unsigned x, y, z; blockIndex(b, x, y, z);
            if (tl_runner) {
                if (!runBlock(*tl_runner, m->setIndex, bx, by, T, x, y, z)) deadlock = true;
                continue;
            }
            for (unsigned tz = 0; tz < bz; tz++) // no barriers or shuffles: threads one after another
                for (unsigned ty = 0; ty < by; ty++)
                    for (unsigned tx = 0; tx < bx; tx++) { m->setIndex(tx, ty, tz, x, y, z); f->fn(params); }
        }
        tl_runner = nullptr;
    });
    if (deadlock) {
        fprintf(stderr, "cuda-emulator: deadlock in a block: not all running threads reached the same "
                        "__syncthreads/__syncwarp/shuffle\n");
        return LAUNCH_FAILED;
    }
    return OK;
}

// ---------------------------------------------------------------- errors
static const struct { int code; const char *name, *text; } kErrors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
static CUresult lookupError(CUresult e, const char** out, bool name) {
    if (!out) return INVALID_VALUE;
    for (auto& k : kErrors) if (k.code == e) { *out = name ? k.name : k.text; return OK; }
    *out = nullptr; return INVALID_VALUE;
}
API CUresult cuGetErrorName(CUresult e, const char** s) { return lookupError(e, s, true); }
API CUresult cuGetErrorString(CUresult e, const char** s) { return lookupError(e, s, false); }
