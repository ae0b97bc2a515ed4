#!/usr/bin/env python3
"""Summarize criterion results as the markdown tables in docs/BENCHMARKS.md.

Reads target/criterion/<group>/<bench>/new/{estimates,benchmark}.json (written by
`cargo bench -p lethe-benches --bench ring`) and prints, per group, each benchmark's
median time per record (criterion's median of per-iteration times divided by the
records per iteration), and its ratio to the Lethe ring measured in the same group and
the same run.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
groups = {}
for est in sorted(root.glob("*/*/new/estimates.json")):
    bench_dir = est.parent
    meta = json.loads((bench_dir / "benchmark.json").read_text())
    elements = (meta.get("throughput") or {}).get("Elements", 1)
    median = json.loads(est.read_text())["median"]["point_estimate"] / elements
    groups.setdefault(meta["group_id"], {})[meta["function_id"]] = median

for group, benches in groups.items():
    print(f"\n**{group}**\n")
    print("| benchmark | median ns/record | ratio to the Lethe ring |")
    print("|---|---:|---:|")
    for name, ns in benches.items():
        suffix = name[name.rfind("_"):] if name.endswith("p") and name[-2].isdigit() else ""
        base = benches.get("lethe_ring" + suffix)
        ratio = f"{ns / base:.2f}×" if base else "n/a"
        print(f"| {name} | {ns:.1f} | {ratio} |")
