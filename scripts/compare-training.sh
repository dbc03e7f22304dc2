#!/usr/bin/env bash
# Trains W1 (one epoch) and W2 (two epochs) with the PyTorch
# peers of ../shared/peers and with `spiking train`, on the same machine and thread count in one run, then moves the
# W1 checkpoints across (torch -> spiking eval, spiking -> torch --load) and prints the ratios.
# Usage: scripts/compare-training.sh [THREADS] [OUT_DIR]   (needs python3-torch, libopenblas0-openmp, dataset-fashion-mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
out=${2:-compare-training}
peers=../shared/peers
mkdir -p "$out"
rm -f "$out/torch.jsonl" "$out/spiking.jsonl"
dotnet build Spiking.Cli -c Release -v q -nologo >/dev/null
spiking() { dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll "$@"; }

/usr/bin/python3 "$peers/torch_w1.py" --epochs 1 --threads "$threads" --save "$out/torch_w1.safetensors" --json "$out/torch.jsonl"
spiking train --model mlp --epochs 1 --threads "$threads" --out "$out/spiking_w1.safetensors" --json "$out/spiking.jsonl" --plot "$out/w1"
spiking eval --checkpoint "$out/torch_w1.safetensors" --threads "$threads" --json "$out/spiking.jsonl"
/usr/bin/python3 "$peers/torch_w1.py" --load "$out/spiking_w1.safetensors" --threads "$threads" --json "$out/torch.jsonl"
/usr/bin/python3 "$peers/torch_w2.py" --epochs 2 --threads "$threads" --json "$out/torch.jsonl"
spiking train --model cnn --epochs 2 --threads "$threads" --json "$out/spiking.jsonl" --plot "$out/w2"

/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
torch = [json.loads(l) for l in open(f"{out}/torch.jsonl")]
ours = [json.loads(l) for l in open(f"{out}/spiking.jsonl")]
def pick(rows, workload, mode):
    return [r for r in rows if r.get("workload") == workload and r.get("mode", "train") == mode]
for w in ("W1", "W2"):
    epochs = pick(torch, w, "epoch")
    t = epochs[-1]
    s = pick(ours, w, "train")[-1]
    torch_acc = ", ".join(f"{e['test_acc']:.4f}" for e in epochs)
    ours_acc = ", ".join(f"{a:.4f}" for a in s.get("epoch_test_acc", [s["test_acc"]]))
    torch_sps = sum(e["samples_per_s"] for e in epochs) / len(epochs)
    print(f"{w}: torch {torch_sps:.0f} samples/s, test_acc per epoch {torch_acc}, peak RSS {t['peak_rss_mib']:.0f} MiB | "
          f"spiking {s['samples_per_s']:.0f} samples/s, test_acc per epoch {ours_acc}, peak RSS {s['peak_rss_mb']:.0f} MiB | "
          f"speed x{s['samples_per_s'] / torch_sps:.2f}, RSS x{s['peak_rss_mb'] / t['peak_rss_mib']:.2f}")
te = pick(torch, "W1", "eval")[-1]
se = pick(ours, "W1", "eval")[-1]
tw1 = pick(torch, "W1", "epoch")[-1]
sw1 = pick(ours, "W1", "train")[-1]
print(f"checkpoints: torch's W1 ({tw1['test_acc']:.4f} in torch) evaluates to {se['test_acc']:.4f} in spiking eval; "
      f"ours ({sw1['test_acc']:.4f} in spiking) evaluates to {te['test_acc']:.4f} in torch_w1.py --load")
PY
