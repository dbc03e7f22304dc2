// Spiking CUDA emulator: declarations shared by the emulated driver (driver.cpp), the emulated
// NVRTC (nvrtc.cpp) and every kernel module it compiles (prelude.h includes this file).
#pragma once

// A "PTX" image produced by the emulated NVRTC: this header line, the hex-encoded bytes of the
// compiled shared object, a newline and a terminating NUL.
#define EMU_IMAGE_MAGIC "//SPIKING-EMU-SO v1\n"

// Entry points the driver hands to a kernel module (so the module never links against libcuda).
struct EmuHooks {
    void (*syncthreads)();                                   // block barrier
    void (*syncwarp)();                                      // barrier of the caller's warp
    const unsigned long long* (*exchange)(unsigned long long v); // warp exchange; returns the warp's 32 slots
};

// Symbols every kernel module exports (see prelude.h) and, per kernel NAME, the generated
// trampoline NAME__emu(void** args) plus NAME__emu_info[2] = { needs barrier mode, parameter count }.
typedef void (*EmuSetHooksFn)(const EmuHooks*);
typedef void (*EmuSetDimsFn)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned);
typedef void (*EmuSetIndexFn)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned);
typedef void (*EmuTrampolineFn)(void**);
