#!/usr/bin/env python3
"""Joins `spiking bench kernels --json` with `torch_kernels.py --json` lines: for every Spiking measurement, the
speedup over torch's dense product on the same (M, K, N), from medians (median of torch's runs) and from minima."""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: join-kernels.py SPIKING.jsonl TORCH.jsonl [TORCH.jsonl ...]")
    ours = load(sys.argv[1])
    torch = [r for path in sys.argv[2:] for r in load(path)]
    medians, minima = {}, {}
    for r in torch:
        if r["workload"] == "dense":
            shape = (r["M"], r["K"], r["N"])
            medians.setdefault(shape, []).append(r["median_ms"])
            minima.setdefault(shape, []).append(r["min_ms"])
    print(f"{'workload':12} {'MxKxN':15} {'rate':>5} {'ours_ms':>9} {'torch_dense_ms':>15} {'speedup':>8} {'by_min':>7}")
    for r in ours:
        shape = (r["M"], r["K"], r["N"])
        if shape not in medians:
            continue
        t = statistics.median(medians[shape])
        rate = "-" if r["rate"] is None else r["rate"]
        print(f"{r['workload']:12} {'x'.join(map(str, shape)):15} {rate!s:>5} {r['median_ms']:9.3f} {t:15.3f} "
              f"{t / r['median_ms']:8.2f} {min(minima[shape]) / r['min_ms']:7.2f}")


if __name__ == "__main__":
    main()
