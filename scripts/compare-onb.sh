#!/usr/bin/env bash
# The Open Neuromorphic workload (one Linear(n, n) and one multi-step LIF, batch 16, T=500, randn input, loss the sum
# of the spikes) side by side with the PyTorch peer (../shared/peers/torch_onb.py) on THREADS threads: each width in
# a process of its own (peak RSS is per process), peer and engine alternating, so a busy neighbour hurts both alike.
# Prints both engines' medians of forward and backward, their peak RSS, the ratios, and what the two products of
# the step (x·Wᵀ forward, Gᵀ·x for dW backward, 2·T·B·n² flops each) ran at. The JSON lines stay in OUT.
# Needs: apt-get install -y python3-torch python3-numpy libopenblas0-openmp
#
#   scripts/compare-onb.sh [THREADS] [OUT]     (defaults 2 compare-onb; NEURONS="512 4096" and REPS=5 from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
out="${2:-compare-onb}"
neurons="${NEURONS:-512 4096}"
reps="${REPS:-5}"
peers="$(realpath ../shared/peers)"
mkdir -p "$out"
rm -f "$out"/torch.jsonl "$out"/spiking.jsonl
dotnet build Spiking.Cli -c Release -v q -nologo >/dev/null
spiking() { dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll "$@"; }

for n in $neurons; do
  /usr/bin/python3 "$peers/torch_onb.py" --neurons "$n" --threads "$threads" --reps "$reps" --json "$out/torch.jsonl"
  spiking bench onb --neurons "$n" --threads "$threads" --reps "$reps" --json "$out/spiking.jsonl"
done

/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = lambda name: {r["neurons"]: r for r in map(json.loads, open(f"{out}/{name}.jsonl"))}
torch, ours = rows("torch"), rows("spiking")
t0 = next(iter(torch.values()))
o0 = next(iter(ours.values()))
print(f"# torch {t0['torch_version']} ({t0['blas']}) vs spiking ({o0['simd']}), {o0['threads']} threads, {o0['cpu']}; "
      f"batch {o0['batch']}, T {o0['T']}; medians of forward and backward; ratio = torch / spiking")
head = ["neurons", "engine", "forward_ms", "backward_ms", "total_ms", "peak_rss_mib", "gemm_GFLOP/s"]
lines = []
for n in sorted(set(torch) & set(ours)):
    t, o = torch[n], ours[n]
    flops = 2.0 * t["T"] * t["batch"] * n * n  # one product: x·Wᵀ forward, Gᵀ·x backward
    for name, r in (("torch", t), ("spiking", o)):
        lines.append([n, name, f"{r['forward_ms']:.1f}", f"{r['backward_ms']:.1f}", f"{r['total_ms']:.1f}",
                      f"{r['peak_rss_mib']:.0f}", f"{2 * flops / (r['total_ms'] * 1e-3) / 1e9:.0f}"])
    lines.append([n, "ratio", f"{t['forward_ms'] / o['forward_ms']:.2f}x", f"{t['backward_ms'] / o['backward_ms']:.2f}x",
                  f"{t['total_ms'] / o['total_ms']:.2f}x", f"{o['peak_rss_mib'] / t['peak_rss_mib']:.2f}", ""])
widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
fmt = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths))
print(fmt(head))
print(fmt(["-" * w for w in widths]))
for l in lines:
    print(fmt(l))
print("# time ratios: torch's time over ours (above 1: spiking is faster); peak RSS ratio: ours over torch's;")
print("# gemm_GFLOP/s: the step's two products, 2 x 2*T*B*n^2 flops, over the total time (everything else counts against it)")
PY
