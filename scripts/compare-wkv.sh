#!/usr/bin/env bash
# The WKV scan side by side in one run: the PyTorch peer's WKVFunction (../shared/peers/torch_spikegpt.py: the
# official kernel's forward and backward as torch ops) and this engine's Functional.Wkv (Spiking.Bench's WkvBench),
# at SpikeGPT's defaults T=128, B=16, C=128, float32, on THREADS threads (default 2). Prints medians in ms.
# Needs: apt-get install -y python3-torch python3-numpy libopenblas0-openmp
#
#   scripts/compare-wkv.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
peers="$(realpath ../shared/peers)"
/usr/bin/python3 - "$peers" "$threads" <<'PY'
import statistics, sys, time
sys.path.insert(0, sys.argv[1])
import torch
import torch_spikegpt as peer
torch.set_num_threads(int(sys.argv[2]))
torch.manual_seed(0)
T, B, C = 128, 16, 128
decay = (torch.rand(C) * 4 - 2).requires_grad_()
first = (torch.rand(C) * 2 - 1).requires_grad_()
k = (torch.rand(T, B, C) * 6 - 3).requires_grad_()
v = (torch.rand(T, B, C) * 2 - 1).requires_grad_()
g = torch.rand(T, B, C) * 2 - 1

def forward():
    with torch.no_grad():
        peer.WKVFunction.apply(decay, first, k, v)

def forward_backward():
    y = peer.WKVFunction.apply(decay, first, k, v)
    y.backward(g)
    for t in (decay, first, k, v):
        t.grad = None

for name, fn in (("Forward", forward), ("ForwardBackward", forward_backward)):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < 20 or time.perf_counter() - start < 2:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(f"torch    {name:16} threads={sys.argv[2]}  median {statistics.median(times) * 1e3:8.3f} ms  ({len(times)} runs)")
PY
dotnet run -c Release --project Spiking.Bench -- --filter '*WkvBench*' --job short 2>&1 \
  | awk -v t="$threads" -F'|' '
      /^\| Method/ { for (i = 1; i <= NF; i++) { h = $i; gsub(/ /, "", h); col[h] = i } }
      /^\| (Forward|ForwardBackward) / {
        m = $(col["Method"]); n = $(col["Threads"]); d = $(col["Median"]); gsub(/ /, "", m); gsub(/ /, "", n); gsub(/^ +| +$/, "", d)
        if (n == t) printf "spiking  %-16s threads=%s  median %s\n", m, n, d
      }'
