#!/usr/bin/env bash
# Builds and runs samples/Extensions as a user would: against the packages `dotnet pack` makes from this checkout
# (a fresh version number and a private package folder, so no cached copy stands in), never against the projects.
# The sample defines a custom op, surrogate and neuron through the public API and exits non-zero when a check fails.
# Usage: scripts/run-samples.sh [--no-build]   (--no-build packs what `dotnet build -c Release` left, as .ci/run does)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build=()
case "${1-}" in
  --no-build) build=(--no-build) ;;
  "") ;;
  *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
version="$(dotnet msbuild Spiking.Tensors/Spiking.Tensors.csproj -getProperty:Version)-sample.$(date +%s)"
dotnet pack Spiking.sln -c Release "${build[@]}" -p:PackageVersion="$version" -o "$out/packages" >"$out/pack.log" 2>&1 \
  || { cat "$out/pack.log" >&2; echo "run-samples: dotnet pack failed" >&2; exit 1; }
# The private package folder keeps this version out of the machine's cache; the registry still serves the engine's
# own dependencies (System.Numerics.Tensors, CommunityToolkit.HighPerformance).
NUGET_PACKAGES="$out/nuget" dotnet run --project samples/Extensions -c Release \
  -p:SpikingVersion="$version" -p:RestoreAdditionalProjectSources="$out/packages"
