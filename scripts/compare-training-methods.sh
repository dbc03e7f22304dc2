#!/usr/bin/env bash
# The memory levers of long time, side by side in one run on THREADS threads (spiking train --training):
#  1. W2 (--model cnn) at T = 4, 16, 64 by bptt, sltt and checkpoint=4 on the first 1024 training images: the training
#     loop's own peak RSS (train_peak_rss_mb) and its median step (step_ms_median);
#  2. W2 at T = 4 for EPOCHS epochs by bptt and sltt, with its spiking output and with the membrane readout (SLTT's
#     kind of output layer), SEEDS seeds each, alternating: test accuracy;
#  3. Spikformer and SDT at T = 4 by bptt and sltt on the first 1024 training images: peak RSS and median step;
#     with TRANSFORMER_EPOCHS > 0 also that many epochs on all images, the first seed: test accuracy.
# Prints medians and spreads; the JSON lines stay in OUT. Needs Fashion-MNIST (apt-get install -y dataset-fashion-mnist).
#
#   [TRANSFORMER_EPOCHS=N] scripts/compare-training-methods.sh [EPOCHS] [SEEDS] [THREADS] [OUT]
#   (defaults 1 3 2 compare-training-methods, TRANSFORMER_EPOCHS 0)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-1}"
seeds="${2:-3}"
threads="${3:-2}"
out="${4:-compare-training-methods}"
mkdir -p "$out"
rm -f "$out"/*.jsonl
dotnet build Spiking.Cli -c Release -v q -nologo >/dev/null
spiking() { dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll "$@" >/dev/null; }

for t in 4 16 64; do
  for method in bptt sltt checkpoint=4; do
    spiking train --model cnn --timesteps "$t" --training "$method" --limit 1024 --test-limit 256 --threads "$threads" --json "$out/w2-memory.jsonl"
  done
done
for ((seed = 0; seed < seeds; seed++)); do
  for readout in spikes membrane; do
    for method in bptt sltt; do
      spiking train --model cnn --timesteps 4 --readout "$readout" --training "$method" --epochs "$epochs" --seed "$seed" --threads "$threads" --json "$out/w2-accuracy.jsonl"
    done
  done
done
for model in spikformer sdt; do
  for method in bptt sltt; do
    spiking train --model "$model" --timesteps 4 --training "$method" --limit 1024 --test-limit 256 --threads "$threads" --json "$out/transformers-memory.jsonl"
    if [ "${TRANSFORMER_EPOCHS:-0}" -gt 0 ]; then
      spiking train --model "$model" --timesteps 4 --training "$method" --epochs "$TRANSFORMER_EPOCHS" --threads "$threads" --json "$out/transformers.jsonl"
    fi
  done
done

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = lambda name: [json.loads(l) for l in open(f"{out}/{name}.jsonl")]
print("W2 on 1024 images: training peak RSS (MiB) and median step (ms)")
memory = rows("w2-memory")
for r in memory:
    print(f"  T={r['T']:>3} {r['training']:<13} peak {r['train_peak_rss_mb']:7.0f} MiB  step {r['step_ms_median']:8.1f} ms")
peak = {(r["T"], r["training"]): r["train_peak_rss_mb"] for r in memory}
step = {(r["T"], r["training"]): r["step_ms_median"] for r in memory}
print(f"  sltt peak T=64 / T=4: x{peak[(64, 'sltt')] / peak[(4, 'sltt')]:.2f}; bptt: x{peak[(64, 'bptt')] / peak[(4, 'bptt')]:.2f}")
print(f"  T=16: sltt uses {100 * (1 - peak[(16, 'sltt')] / peak[(16, 'bptt')]):.0f} % less than bptt; step sltt/bptt x{step[(16, 'sltt')] / step[(16, 'bptt')]:.2f}")
acc = rows("w2-accuracy")
for readout in ("spikes", "membrane"):
    for method in ("bptt", "sltt"):
        a = [r["test_acc"] for r in acc if r["training"] == method and r.get("readout", "spikes") == readout]
        print(f"W2 T=4 readout {readout:<8} {method}: test accuracy median {100 * statistics.median(a):.2f} % [{', '.join(f'{100 * x:.2f}' for x in a)}]")
for r in rows("transformers-memory"):
    print(f"{r['model']} T=4 {r['training']} on 1024 images: training peak RSS {r['train_peak_rss_mb']:.0f} MiB, "
          f"process peak {r['peak_rss_mb']:.0f} MiB, step {r['step_ms_median']:.1f} ms")
import os
if os.path.exists(f"{out}/transformers.jsonl"):
    for r in rows("transformers"):
        print(f"{r['model']} T=4 {r['training']}, {r['epochs']} epochs: test accuracy {100 * r['test_acc']:.2f} %, "
              f"training peak RSS {r['train_peak_rss_mb']:.0f} MiB, {r['samples_per_s']:.0f} samples/s")
PY
