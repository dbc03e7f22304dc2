#!/usr/bin/env bash
# Runs on the lent GPU machine from .carry/ (made by scripts/gpu-prepare.sh): the CUDA self-test, W1 training on
# the GPU, and the PyTorch peer's W1 on the same GPU, logs under $OUT; the last lines compare samples/s.
# W1_ARGS adds options to the training (e.g. "--limit 2048" for a quick look).
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
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def last(name, key):
    try:
        return json.loads((out / name).read_text().strip().splitlines()[-1])[key]
    except Exception as e:
        return None
ours, torch = last("w1-cuda.jsonl", "samples_per_s"), last("w1-torch-cuda.jsonl", "samples_per_s")
print(f"W1 on the GPU: spiking {ours} samples/s, torch {torch} samples/s"
      + (f", ratio {ours / torch:.2f}" if ours and torch else ""))
PY
