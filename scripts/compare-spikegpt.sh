#!/usr/bin/env bash
# SpikeGPT on the King James Bible side by side with the PyTorch peer (../shared/peers/torch_spikegpt.py) at its
# defaults (4 blocks, width 128, context 128, batch 16), the same steps, on THREADS threads, for SEEDS seeds each;
# peer and engine runs alternate seed by seed so that a busy neighbour hurts both alike. Then the checkpoints of the
# first seed cross both ways (torch -> spiking eval, spiking -> torch_spikegpt.py --load), spiking-lm trains on the
# same seeds, and generation is timed on one thread. Prints medians, spreads and ratios; the JSON lines stay in OUT.
# Needs: apt-get install -y python3-torch python3-numpy libopenblas0-openmp bible-kjv
#
#   scripts/compare-spikegpt.sh [STEPS] [SEEDS] [THREADS] [OUT]     (defaults 1000 3 2 compare-spikegpt)
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1000}"
seeds="${2:-3}"
threads="${3:-2}"
out="${4:-compare-spikegpt}"
peers="$(realpath ../shared/peers)"
mkdir -p "$out"
rm -f "$out"/*.jsonl
dotnet build Spiking.Cli -c Release -v q -nologo >/dev/null
spiking() { dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll "$@"; }

for ((seed = 0; seed < seeds; seed++)); do
  /usr/bin/python3 "$peers/torch_spikegpt.py" --steps "$steps" --seed "$seed" --threads "$threads" \
    --json "$out/torch.jsonl" --save "$out/torch_seed$seed.safetensors" --log-every 250
  spiking train --model spikegpt --corpus kjv --steps "$steps" --seed "$seed" --threads "$threads" \
    --json "$out/spikegpt.jsonl" --out "$out/spikegpt_seed$seed.safetensors"
done
spiking eval --checkpoint "$out/torch_seed0.safetensors" --corpus kjv --threads "$threads" --json "$out/crossed.jsonl"
/usr/bin/python3 "$peers/torch_spikegpt.py" --load "$out/spikegpt_seed0.safetensors" --threads "$threads" --json "$out/crossed.jsonl"
for ((seed = 0; seed < seeds; seed++)); do
  spiking train --model spiking-lm --corpus kjv --steps "$steps" --seed "$seed" --threads "$threads" --json "$out/spiking-lm.jsonl"
done
spiking generate --checkpoint "$out/spikegpt_seed0.safetensors" --prompt "In the beginning" --tokens 20000 --seed 0 \
  --threads 1 --json "$out/generate.jsonl" >"$out/sample.txt"

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = lambda name: [json.loads(l) for l in open(f"{out}/{name}.jsonl")]
torch, ours, lm, crossed = rows("torch"), rows("spikegpt"), rows("spiking-lm"), rows("crossed")
def summary(rs, key):
    v = [r[key] for r in rs]
    return statistics.median(v), min(v), max(v), v
for key, fmt in (("test_bpc", "{:.4f}"), ("val_bpc", "{:.4f}"), ("tokens_per_s", "{:.0f}"), ("peak_rss_mb", "{:.0f}")):
    tm, tlo, thi, tv = summary(torch, key)
    om, olo, ohi, ov = summary(ours, key)
    ratio = om / tm
    print(f"{key:13s} torch median {fmt.format(tm)} [{', '.join(fmt.format(x) for x in tv)}] | "
          f"spiking median {fmt.format(om)} [{', '.join(fmt.format(x) for x in ov)}] | ratio {ratio:.3f}")
print(f"test BPC difference (spiking - torch), medians: {summary(ours, 'test_bpc')[0] - summary(torch, 'test_bpc')[0]:+.4f}")
lmm = summary(lm, "test_bpc")
print(f"spiking-lm test_bpc median {lmm[0]:.4f} [{', '.join(f'{x:.4f}' for x in lmm[3])}], "
      f"{lmm[0] - summary(ours, 'test_bpc')[0]:+.4f} from spikegpt; tokens/s median {summary(lm, 'tokens_per_s')[0]:.0f}")
t0 = torch[0]
s0 = ours[0]
ce = [r for r in crossed if r.get("mode") == "eval"]
print(f"checkpoints: torch seed 0 (test {t0['test_bpc']:.4f} in torch) -> spiking eval {ce[0]['test_bpc']:.4f}; "
      f"spiking seed 0 (test {s0['test_bpc']:.4f} in spiking) -> torch --load {ce[1]['test_bpc']:.4f}")
g = rows("generate")[-1]
print(f"generation (1 thread): {g['chars_per_s']:.0f} chars/s over {g['tokens']} characters, peak RSS {g['peak_rss_mb']:.0f} MiB")
PY
