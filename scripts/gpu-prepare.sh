#!/usr/bin/env bash
# Prepares .carry/ for a GPU check on the lent device machine (../shared/GPU.md): a trimmed, self-contained
# `spiking` (the machine has no .NET), the PyTorch peers (../shared does not travel), Fashion-MNIST and
# scripts/gpu-check.sh. Then run, with the device tool, carry [".carry"] and a timeout that leaves room to rerun:
#   bash .carry/gpu-check.sh
# It writes its logs under $OUT. Everything together stays under the 64 MiB a carry may hold.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo '/.carry/' >> .git/info/exclude
rm -rf .carry && mkdir -p .carry/data
dotnet publish Spiking.Cli -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -p:PublishSingleFile=true \
  -p:DebugType=none -o .carry/cli >/dev/null
rm -f .carry/cli/libSkiaSharp.so .carry/cli/libHarfBuzzSharp.so    # plots are not drawn on the device
cp -r ../shared/peers .carry/peers
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
cp "$data"/*-ubyte.gz .carry/data/
cp scripts/gpu-check.sh .carry/
du -sh .carry
