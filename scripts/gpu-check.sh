#!/usr/bin/env bash
# Runs on the lent GPU machine from .carry/ (made by scripts/gpu-prepare.sh): the CUDA self-test, W1 and W2 training
# on the GPU, and the PyTorch peers' W1 and W2 on the same GPU, logs under $OUT; the last lines compare samples/s.
# W1_ARGS / W2_ARGS add options to the trainings (W2 defaults to --limit 12800: 200 steps, to fit the device time).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
nvrtc=$(ls /usr/local/cuda*/lib64/libnvrtc.so* 2>/dev/null | head -1)
[ -n "$nvrtc" ] && export LD_LIBRARY_PATH=$(dirname "$nvrtc"):${LD_LIBRARY_PATH:-}
{ nvidia-smi -L; ldconfig -p | grep -E 'libcuda|libnvrtc'; echo "nvrtc: $nvrtc"; } > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
spiking="$here/cli/spiking"
"$spiking" info | tee "$out/info.txt"
timeout 180 "$spiking" gpu-selftest 2>&1 | tee "$out/selftest.txt" | tail -25
timeout 300 "$spiking" train --device cuda --data "$here/data" ${W1_ARGS:-} --json "$out/w1-cuda.jsonl" > "$out/w1-cuda.txt" 2>&1
tail -6 "$out/w1-cuda.txt"
timeout 200 python3 "$here/peers/torch_w1.py" --device cuda --steps 200 --data "$here/data" --json "$out/w1-torch-cuda.jsonl" \
  > "$out/w1-torch-cuda.txt" 2>&1
tail -4 "$out/w1-torch-cuda.txt"
timeout 240 "$spiking" train --model cnn --device cuda --data "$here/data" ${W2_ARGS:---limit 12800} --json "$out/w2-cuda.jsonl" > "$out/w2-cuda.txt" 2>&1
tail -4 "$out/w2-cuda.txt"
timeout 120 python3 "$here/peers/torch_w2.py" --device cuda --steps 200 --data "$here/data" --json "$out/w2-torch-cuda.jsonl" \
  > "$out/w2-torch-cuda.txt" 2>&1
tail -3 "$out/w2-torch-cuda.txt"
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def last(name, key):
    try:
        return json.loads((out / name).read_text().strip().splitlines()[-1])[key]
    except Exception as e:
        return None
for w in ("w1", "w2"):
    ours, torch = last(f"{w}-cuda.jsonl", "samples_per_s"), last(f"{w}-torch-cuda.jsonl", "samples_per_s")
    print(f"{w.upper()} on the GPU: spiking {ours} samples/s (test_acc {last(f'{w}-cuda.jsonl', 'test_acc')}), torch {torch} samples/s"
          + (f", ratio {ours / torch:.2f}" if ours and torch else ""))
PY
