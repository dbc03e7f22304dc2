#!/usr/bin/env bash
# Side-by-side kernel timings, Spiking against PyTorch on this machine, in one script run:
# torch, spiking, torch (so drifts of a shared machine hit both), then speedups of every Spiking product over
# torch's dense fp32 product on the same shape (medians; and minima as a check).
# Needs: apt-get install -y python3-torch python3-numpy libopenblas0-openmp, and ../shared/peers beside the repo.
# Usage: scripts/compare-kernels.sh [THREADS] [extra bench options, e.g. --shapes 512x784x512 --rates 0.1]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shift || true
peers=../shared/peers
out=$(mktemp -d)
dotnet build Spiking.Cli -c Release -v quiet -nologo >/dev/null
/usr/bin/python3 "$peers/torch_kernels.py" --threads "$threads" --json "$out/torch.jsonl" "$@"
dotnet Spiking.Cli/bin/Release/net10.0/spiking.dll bench kernels --threads "$threads" --json "$out/spiking.jsonl" "$@"
/usr/bin/python3 "$peers/torch_kernels.py" --threads "$threads" --json "$out/torch.jsonl" "$@"
/usr/bin/python3 scripts/join-kernels.py "$out/spiking.jsonl" "$out/torch.jsonl"
echo "# raw JSON lines in $out"
