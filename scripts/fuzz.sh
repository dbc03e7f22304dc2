#!/usr/bin/env bash
# The long fuzzing campaign: every loader (safetensors, IDX raw and gzip, golden JSON) for ITERATIONS mutated inputs
# each (default 1000000), with the tests' fixed seed or SPIKING_FUZZ_SEED, the three loaders in parallel. Prints inputs tried, accepted/refused, crashes and hangs per loader; crashing or hanging
# inputs are saved under CRASH_DIR (default ./fuzz-crashes/<loader>/) to be added to Spiking.Tests/Fuzzing/Corpus.
# Exit status 1 when any loader crashed or hung.
#
#   scripts/fuzz.sh [ITERATIONS] [CRASH_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-1000000}"
crashes="$(realpath -m "${2:-fuzz-crashes}")"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
mkdir -p "$crashes"

dotnet build Spiking.Tests -c Release --nologo -v quiet >/dev/null
echo "fuzzing $iterations inputs per loader; crashing inputs go to $crashes"
start=$(date +%s)
status=0
SPIKING_FUZZ_ITERATIONS="$iterations" SPIKING_FUZZ_CRASHES="$crashes" SPIKING_FUZZ_REPORT="$report" \
    dotnet test Spiking.Tests -c Release --no-build -- --filter-class "*.SafeTensorsFuzzTests" --filter-class "*.IdxFuzzTests" \
    --filter-class "*.GoldenJsonFuzzTests" >/dev/null || status=1
cat "$report"
echo "total: $(( $(date +%s) - start )) s"
exit $status
