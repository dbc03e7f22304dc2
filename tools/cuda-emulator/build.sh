#!/usr/bin/env bash
# Builds the Spiking CUDA emulator: libcuda.so.1 and libnvrtc.so (+ libnvrtc.so.13) in OUTDIR.
# Usage: tools/cuda-emulator/build.sh [OUTDIR] [--test]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/out"; TEST=0
for a in "$@"; do case "$a" in --test) TEST=1 ;; *) OUT="$a" ;; esac; done
mkdir -p "$OUT/gen"; OUT="$(cd "$OUT" && pwd)"
CXX="${CXX:-g++}"
FLAGS=(-std=c++20 -Wall -Wextra -O2 -fPIC -pthread)

# Embed emu.h and prelude.h into libnvrtc as raw string literals.
{ for f in emu.h:kEmuH prelude.h:kPreludeH; do
    printf 'static const char %s[] = R"EMU(' "${f#*:}"; cat "$HERE/${f%%:*}"; printf ')EMU";\n'
  done; } > "$OUT/gen/embedded.inc"

"$CXX" "${FLAGS[@]}" -fvisibility=hidden -shared -Wl,-soname,libcuda.so.1 -Wl,-z,nodelete \
    -o "$OUT/libcuda.so.1" "$HERE/driver.cpp" -ldl
ln -sf libcuda.so.1 "$OUT/libcuda.so"
"$CXX" "${FLAGS[@]}" -fvisibility=hidden -shared -Wl,-soname,libnvrtc.so.13 -I "$OUT/gen" \
    -o "$OUT/libnvrtc.so" "$HERE/nvrtc.cpp"
ln -sf libnvrtc.so "$OUT/libnvrtc.so.13"
echo "built $OUT/libcuda.so.1 $OUT/libnvrtc.so"

if [ "$TEST" = 1 ]; then
    "$CXX" "${FLAGS[@]}" -o "$OUT/selftest" "$HERE/selftest.cpp" -ldl
    "$OUT/selftest" "$OUT"
fi
