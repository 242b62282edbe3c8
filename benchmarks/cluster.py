"""Beyond one machine: the scan on a Dask LocalCluster (`--cluster local:2`) against the local pool, on the same
machine and the same files, and the sharded near-duplicate search's speed. Figures go to
benchmarks/data/cluster_results.json, which benchmarks/cluster_plan.py scales to 100,000,000 images.

    .venv/bin/python benchmarks/cluster.py [--files 50000] [--workers 2] [--runs 1] [--batch-chunks 8]
                                           [--search-rows 300000] [--data /tmp/jpeg32]

The files: `--files` JPEGs of 32x32 px (a smooth random colour field, quality 90, 10 class folders), generated
once under --data. Each run scans them cold (a fresh workspace, listing done once beforehand, files in the page
cache) with `scan()`: the pool (`workers` processes, spawned inside the timing), then the Dask path (a
LocalCluster of `workers` processes started before the timing: its start-up is reported apart). The two
samples tables are compared (file times aside). The inspectors are not run: they run in the client either way.

The search: `--search-rows` 64-d unit vectors in clusters (as content.py's window vectors are), cells = 2 sqrt(n)
as content.Search makes them, 12 probes; the one-machine vector_join.Cells against sharded_join in shards of
n/8 rows, one after the other here, then as Dask tasks on a 2-worker LocalCluster (with the workers' peak
memory). Their pair counts must agree.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from inspectors import cluster, content, sharded_join, vector_join  # noqa: E402
from inspectors.config import ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.scan import scan  # noqa: E402
from inspectors.workspace import folder_size  # noqa: E402

RESULTS = REPO / "benchmarks" / "data" / "cluster_results.json"


def make_jpegs(root: Path, count: int) -> Path:
    from PIL import Image
    done = root / "COMPLETE"
    if done.exists():
        return root
    rng = np.random.default_rng(20_261_206)
    for i in range(count):
        folder = root / "train" / f"class_{i % 10:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((32, 32), Image.Resampling.BICUBIC).save(folder / f"{i:07d}.jpg", quality=90)
    done.write_text("")
    return root


def without_times(samples):
    return samples.drop(columns="mtime_ns")


def scan_runs(args, data: Path) -> dict:
    import pandas as pd
    start = time.perf_counter()
    listing = load_dataset(data)
    listed_s = time.perf_counter() - start
    images = int((listing.samples["entry"] == "image").sum())
    config = ScanConfig(workers=args.workers)
    out = {"files": images, "listing_s": round(listed_s, 2), "pool_s": [], "dask_s": {}, "workspace_bytes": None}
    work = Path(tempfile.mkdtemp(prefix="cluster_bench_"))
    try:
        start = time.perf_counter()
        with cluster.connect(f"local:{args.workers}") as client:
            out["cluster_start_s"] = round(time.perf_counter() - start, 2)
            client.run(cluster.local_versions)  # the workers' first imports, outside the timing as the pool's are not
            for run in range(args.runs):
                start = time.perf_counter()
                local = scan(listing, config, work / f"pool{run}").samples
                out["pool_s"].append(round(time.perf_counter() - start, 2))
                out["workspace_bytes"] = folder_size(work / f"pool{run}")
                for chunks in args.batch_chunks:
                    start = time.perf_counter()
                    remote = scan(listing, config, work / f"dask{run}_{chunks}",
                                  executor=cluster.Executor(client, chunks)).samples
                    out["dask_s"].setdefault(str(chunks), []).append(round(time.perf_counter() - start, 2))
                    pd.testing.assert_frame_equal(without_times(local), without_times(remote))
                print(json.dumps(out), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["identical_tables"] = True
    return out


def peak_mb() -> int:
    """This process's peak resident memory (VmHWM), in MB: run on each Dask worker."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))


def search_run(rows: int) -> dict:
    rng = np.random.default_rng(0)
    centres = content.normalised(rng.normal(size=(rows // 20, 64)))
    vectors = content.normalised(centres[rng.integers(0, len(centres), rows)]
                                 + rng.normal(scale=0.02, size=(rows, 64))).astype(np.float32)
    cells, probes, floor, per_block = int(2 * np.sqrt(rows)), 12, 0.9, 20
    start = time.perf_counter()
    one = vector_join.Cells(vectors, cells, content.TRAINING_ROWS, content.EXACT_ROWS, threads=1)
    built = time.perf_counter() - start
    start = time.perf_counter()
    q, _, _ = one.pairs(vectors, floor, probes, per_block)
    searched = time.perf_counter() - start
    path = Path(tempfile.mkdtemp(prefix="cluster_search_")) / "rows.npy"
    np.save(path, vectors)
    try:
        read = sharded_join.ArrayReader(path)
        start = time.perf_counter()
        plan, cell = sharded_join.plan(read, rows, cells, content.TRAINING_ROWS, content.EXACT_ROWS, rows // 8)
        planned = time.perf_counter() - start
        start = time.perf_counter()
        got = sharded_join.search(plan, cell, read, vectors, floor, probes, per_block)
        sharded = time.perf_counter() - start
        with cluster.connect("local:2") as client:  # the same shards as Dask tasks, two worker processes
            idle_mb = max(client.run(peak_mb).values())
            start = time.perf_counter()
            on_cluster = sharded_join.search(plan, cell, read, vectors, floor, probes, per_block, client=client)
            dask_s = time.perf_counter() - start
            worker_mb = max(client.run(peak_mb).values())
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    assert len(got[0]) == len(q) == len(on_cluster[0]), (len(got[0]), len(q), len(on_cluster[0]))
    return {"rows": rows, "dim": 64, "cells": cells, "probes": probes, "pairs": int(len(q)),
            "one_machine_build_s": round(built, 2), "one_machine_search_s": round(searched, 2),
            "shards": len(plan.ranges), "sharded_plan_s": round(planned, 2), "sharded_search_s": round(sharded, 2),
            "dask_search_s (2 workers)": round(dask_s, 2), "dask_worker_peak_mb": worker_mb,
            "dask_worker_idle_peak_mb": idle_mb, "largest_shard_rows": int(max(plan.counts[a:b].sum()
                                                                             for a, b in plan.ranges)),
            # the products' share: queries x probes x (rows a cell) multiply-adds of 64 dims
            "row_visits": int(rows * probes * rows / cells)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=50_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--batch-chunks", type=int, nargs="+", default=[cluster.BATCH_CHUNKS])
    p.add_argument("--search-rows", type=int, default=300_000)
    p.add_argument("--data", default="/tmp/jpeg32")
    p.add_argument("--skip-scan", action="store_true")
    args = p.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(),
                          "cpu": platform.processor() or platform.machine(), "load_at_start": os.getloadavg()}
    results["command"] = "python benchmarks/cluster.py " + " ".join(sys.argv[1:])
    results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if not args.skip_scan:
        start = time.perf_counter()
        data = make_jpegs(Path(args.data) / f"jpeg32_{args.files}", args.files)
        print(f"data ready in {time.perf_counter() - start:.0f} s", flush=True)
        results["scan"] = scan_runs(args, data)
    if args.search_rows:
        results["search"] = search_run(args.search_rows)
    results["machine"]["load_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
