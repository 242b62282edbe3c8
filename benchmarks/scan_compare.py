#!/usr/bin/env python
"""Cold CLI scans of one dataset by two or more checkouts, alternating: ratios measured in one run.

    python benchmarks/scan_compare.py DATASET RUNS CHECKOUT [CHECKOUT ...]

Each run scans DATASET with every CHECKOUT's inspectors/ in turn (`python -m inspectors scan DATASET --cache
FRESH --out FRESH --workers 2 --quiet`, PYTHONPATH and working directory the checkout, this interpreter), so
a later version and its baseline share the machine's load. A checkout is any folder holding the project,
e.g. `git worktree add --detach /tmp/base COMMIT`. Prints wall and CPU time (the scan and its workers) per
run and the medians; nothing is written to docs/benchmarks.md (copy the lines you report, with the load).
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def scan(dataset: str, checkout: str) -> tuple[int, float, float, str]:
    """(exit code, wall, CPU, where the wall went as the report's summary.json tells: the scan, the inspectors)."""
    with tempfile.TemporaryDirectory(prefix="scan-compare-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "inspectors", "scan", dataset, "--cache", f"{tmp}/cache",
                               "--out", f"{tmp}/report", "--workers", "2", "--quiet"], cwd=checkout,
                              env={**os.environ, "PYTHONPATH": checkout}, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        parts = ""
        try:
            summary = json.loads(open(f"{tmp}/report/summary.json").read())
            parts = (f" (scan {summary['scan']['scan_seconds']:.1f} s, inspectors "
                     f"{sum(summary['inspector_seconds'].values()):.1f} s)")
        except (OSError, KeyError, ValueError):
            pass
    return done.returncode, wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), parts


def main(argv) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    dataset, runs, checkouts = argv[0], int(argv[1]), argv[2:]
    results = {c: [] for c in checkouts}
    for run in range(runs):
        for checkout in checkouts:
            rc, wall, cpu, parts = scan(dataset, checkout)
            results[checkout].append((wall, cpu))
            print(f"{checkout} run {run + 1}: exit {rc}, {wall:.1f} s wall{parts}, {cpu:.1f} s CPU, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
    base_wall, base_cpu = (statistics.median(x[k] for x in results[checkouts[0]]) for k in (0, 1))
    for checkout in checkouts:
        wall, cpu = (statistics.median(x[k] for x in results[checkout]) for k in (0, 1))
        print(f"{checkout}: median {wall:.1f} s wall ({wall / base_wall:.2f}x), "
              f"{cpu:.1f} s CPU ({cpu / base_cpu:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
