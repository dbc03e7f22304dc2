// Spiking CUDA emulator: prelude included ahead of every CUDA C source compiled by the emulated
// NVRTC. It maps the supported CUDA C subset onto host C++17 (see README.md for the contract).
#pragma once
#include "emu.h"
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// __device__/__forceinline__ expand to nothing (not `inline`): `__device__ inline` or
// `static __device__ __forceinline__` would otherwise become a "duplicate inline" error.
#define __global__
#define __device__
#define __host__
#define __forceinline__
#define __noinline__
#define __restrict__ __restrict
#define __shared__ static thread_local // a block runs on one worker thread (as fibers)
#define __constant__ static
#define __launch_bounds__(...)
#define EMU_API extern "C" __attribute__((visibility("default")))

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
static thread_local uint3 threadIdx, blockIdx;
static thread_local dim3 blockDim, gridDim;
static const int warpSize = 32;
static EmuHooks __emu_hooks;

EMU_API void __emu_set_hooks(const EmuHooks* h) { __emu_hooks = *h; }
EMU_API void __emu_set_dims(unsigned bx, unsigned by, unsigned bz, unsigned gx, unsigned gy, unsigned gz) {
    blockDim = dim3(bx, by, bz); gridDim = dim3(gx, gy, gz);
}
EMU_API void __emu_set_index(unsigned tx, unsigned ty, unsigned tz, unsigned bx, unsigned by, unsigned bz) {
    threadIdx = uint3{tx, ty, tz}; blockIdx = uint3{bx, by, bz};
}

// ---- synchronisation ----
static inline void __syncthreads() { __emu_hooks.syncthreads(); }
static inline void __syncwarp(unsigned = 0xffffffffu) { __emu_hooks.syncwarp(); }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---- warp shuffles: every live lane of the warp must call them (as with a full mask) ----
static inline unsigned __emu_lin() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
static inline unsigned __emu_live() { // lanes of the caller's warp that exist in this block
    unsigned n = blockDim.x * blockDim.y * blockDim.z - (__emu_lin() & ~31u);
    return n < 32 ? n : 32;
}
template <class T> static inline T __emu_shfl(T v, int mode, int arg, int width) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    unsigned long long bits = 0; memcpy(&bits, &v, sizeof(T));
    const unsigned long long* s = __emu_hooks.exchange(bits);
    int lane = (int)(__emu_lin() & 31), base = lane & ~(width - 1), src;
    if (mode == 0) src = base + (arg & (width - 1));                          // __shfl_sync
    else if (mode == 1) { src = lane - arg; if (src < base) src = lane; }      // __shfl_up_sync
    else { src = mode == 2 ? lane + arg : lane ^ arg; if (src >= base + width) src = lane; } // down / xor
    if (src < 0 || src >= (int)__emu_live()) src = lane;
    T r; memcpy(&r, &s[src], sizeof(T)); return r;
}
template <class T> static inline T __shfl_sync(unsigned, T v, int l, int w = 32) { return __emu_shfl(v, 0, l, w); }
template <class T> static inline T __shfl_up_sync(unsigned, T v, unsigned d, int w = 32) { return __emu_shfl(v, 1, (int)d, w); }
template <class T> static inline T __shfl_down_sync(unsigned, T v, unsigned d, int w = 32) { return __emu_shfl(v, 2, (int)d, w); }
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int m, int w = 32) { return __emu_shfl(v, 3, m, w); }
static inline unsigned __ballot_sync(unsigned, int pred) {
    const unsigned long long* s = __emu_hooks.exchange(pred != 0);
    unsigned r = 0, live = __emu_live();
    for (unsigned i = 0; i < live; i++) r |= s[i] ? 1u << i : 0u;
    return r;
}
static inline int __any_sync(unsigned m, int p) { return __ballot_sync(m, p) != 0; }
static inline int __all_sync(unsigned m, int p) { unsigned l = __emu_live(); return __ballot_sync(m, p) == (l == 32 ? ~0u : (1u << l) - 1); }

// ---- atomics (sequentially consistent host atomics) ----
#define EMU_SEQ __ATOMIC_SEQ_CST
#define EMU_ATOMICS(T) \
    static inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, EMU_SEQ); } \
    static inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, EMU_SEQ); } \
    static inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, EMU_SEQ); } \
    static inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, EMU_SEQ); } \
    static inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, EMU_SEQ); } \
    static inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, EMU_SEQ); } \
    static inline T atomicCAS(T* p, T c, T v) { __atomic_compare_exchange_n(p, &c, v, false, EMU_SEQ, EMU_SEQ); return c; } \
    static inline T atomicMax(T* p, T v) { T o = __atomic_load_n(p, EMU_SEQ); \
        while (o < v && !__atomic_compare_exchange_n(p, &o, v, false, EMU_SEQ, EMU_SEQ)) {} return o; } \
    static inline T atomicMin(T* p, T v) { T o = __atomic_load_n(p, EMU_SEQ); \
        while (o > v && !__atomic_compare_exchange_n(p, &o, v, false, EMU_SEQ, EMU_SEQ)) {} return o; }
EMU_ATOMICS(int) EMU_ATOMICS(unsigned) EMU_ATOMICS(long long) EMU_ATOMICS(unsigned long long)
template <class F> static inline F __emu_fadd(F* p, F v) { // CAS loop on the bit pattern
    F o, n; __atomic_load(p, &o, EMU_SEQ);
    do { n = o + v; } while (!__atomic_compare_exchange(p, &o, &n, false, EMU_SEQ, EMU_SEQ));
    return o;
}
static inline float atomicAdd(float* p, float v) { return __emu_fadd(p, v); }
static inline double atomicAdd(double* p, double v) { return __emu_fadd(p, v); }
static inline float atomicExch(float* p, float v) { float o; __atomic_exchange(p, &v, &o, EMU_SEQ); return o; }

// ---- integer and bit intrinsics ----
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
static inline unsigned __brev(unsigned x) { x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2); x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x); }
template <class To, class From> static inline To __emu_bits(From f) { To t; memcpy(&t, &f, sizeof t); return t; }
static inline unsigned __float_as_uint(float f) { return __emu_bits<unsigned>(f); }
static inline int __float_as_int(float f) { return __emu_bits<int>(f); }
static inline float __uint_as_float(unsigned u) { return __emu_bits<float>(u); }
static inline float __int_as_float(int i) { return __emu_bits<float>(i); }
static inline long long __double_as_longlong(double d) { return __emu_bits<long long>(d); }
static inline double __longlong_as_double(long long l) { return __emu_bits<double>(l); }
template <class T> static inline T __ldg(const T* p) { return *p; }

// ---- math ----
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
#define __expf(x) expf(x)   // glibc already declares __expf/__logf/__sinf/__cosf as functions
#define __logf(x) logf(x)
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
#define EMU_MINMAX(T) \
    static inline T max(T a, T b) { return a > b ? a : b; } static inline T min(T a, T b) { return a < b ? a : b; }
EMU_MINMAX(int) EMU_MINMAX(unsigned) EMU_MINMAX(long) EMU_MINMAX(unsigned long) EMU_MINMAX(long long)
EMU_MINMAX(unsigned long long)
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline float min(float a, float b) { return fminf(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
