"""100,000,000 images on N Dask workers: the figures of benchmarks/cluster.py (benchmarks/data/cluster_results.json)
plus three small measurements made here, scaled. Prints a Markdown table for docs/benchmarks.md.

    .venv/bin/python benchmarks/cluster_plan.py [--images 100000000] [--workers 100 1000] [--sample /tmp/jpeg32]

Measured here (small, seconds each):
- the client's ingest rate: scan.py's on_results path for real rows (2,000 scanned files repeated), i.e. the
  SQLite commits of rows and thumbnails in batches of 512, the one serial step of a cluster scan;
- bytes per row: the samples table in memory (pandas, deep) and in samples.parquet, and the workspace per file;
- a Dask worker's resident memory after scanning those 2,000 files (LocalCluster, 2 processes).
Everything else is a rate from cluster_results.json multiplied out; assumptions are named in the output.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.cluster import RESULTS, make_jpegs  # noqa: E402
from inspectors import cluster, scan_cache  # noqa: E402
from inspectors.config import ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.scan import scan, write_samples  # noqa: E402
from inspectors.workspace import folder_size  # noqa: E402

PHOTO_FILES_PER_CORE_S = 450  # ENVIRONMENT.md: a naive pipeline on 256-1024 px photo JPEGs, 420-510 img/s a core
S3_PAGE_S = 0.1  # assumed: one list_objects_v2 page of 1,000 keys from a cloud region (not measured here)
WINDOWS_PER_IMAGE = 9  # content.Search indexes 9 moved windows a picture, plus one spectrum vector


def measure(sample: Path) -> dict:
    listing = load_dataset(sample)
    work = Path(tempfile.mkdtemp(prefix="cluster_plan_"))
    try:
        with cluster.connect("local:2") as client:
            result = scan(listing, ScanConfig(), work / "ws", executor=cluster.Executor(client))

            def rss():
                import psutil
                return psutil.Process().memory_info().rss
            worker_rss = max(client.run(rss).values())
        samples = result.samples
        parquet = write_samples(samples, work)
        source = scan_cache.connect(work / "ws")
        records = source.execute(f"SELECT {', '.join(scan_cache.CACHE_COLUMNS)} FROM files").fetchall()
        source.close()
        thumbs = scan_cache.read_thumbnails(work / "ws", [r[0] for r in records])
        con = scan_cache.connect(work / "ingest")
        start, copies = time.perf_counter(), 10
        for copy in range(copies):  # distinct paths: every row a new one, as in a first scan
            batch = [(f"{copy}/{r[0]}", *r[1:]) for r in records]
            tb = [(f"{copy}/{p}", t) for p, t in thumbs.items()]
            for lo in range(0, len(batch), 512):
                scan_cache.write_rows(con, batch[lo:lo + 512], tb[lo:lo + 512])
        ingest = copies * len(records) / (time.perf_counter() - start)
        con.close()
        return {"rows": len(samples), "ingest_rows_s": round(ingest),
                "memory_bytes_per_row": int(samples.memory_usage(deep=True).sum() / len(samples)),
                "parquet_bytes_per_row": int(parquet.stat().st_size / len(samples)),
                "workspace_bytes_per_file": int(folder_size(work / "ws") / len(samples)),
                "dask_worker_rss_mb": round(worker_rss / 2**20)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def plan(results: dict, here: dict, images: int, workers: int) -> dict:
    s, q = results["scan"], results["search"]
    dask_s = min(min(v) for v in s["dask_s"].values())
    per_worker = s["files"] / dask_s / 2  # files/s of one worker process, 32 px JPEGs, 2 on 2 cores
    rows = images * (WINDOWS_PER_IMAGE + 1)
    cells = int(2 * np.sqrt(images * WINDOWS_PER_IMAGE))
    # each picture queries twice (itself, its mirror image) the window index (9 rows a picture) and the spectrum
    # index (1 row a picture), each query meeting the rows of `probes` cells of 2 sqrt(rows) cells
    visits = sum(images * 2 * q["probes"] * n / int(2 * np.sqrt(n)) for n in (images * WINDOWS_PER_IMAGE, images))
    per_visit = q["sharded_search_s"] / q["row_visits"]
    shard_rows = 4_000_000  # 1 GB of 64-d float32 a shard
    return {
        "workers": workers,
        "listing_h (S3, one lister)": images / 1000 * S3_PAGE_S / 3600,
        "scan_h (32 px JPEG rate)": images / (workers * per_worker) / 3600,
        "scan_h (photo JPEG rate)": images / (workers * PHOTO_FILES_PER_CORE_S) / 3600,
        "client ingest_h": images / here["ingest_rows_s"] / 3600,
        "search rows": rows, "cells": cells, "shards of 4M rows": int(np.ceil(rows / shard_rows)),
        "search_h": visits * per_visit / workers / 3600,
        "samples table in memory (GB)": images * here["memory_bytes_per_row"] / 1e9,
        "samples.parquet (GB)": images * here["parquet_bytes_per_row"] / 1e9,
        "workspace (GB)": images * here["workspace_bytes_per_file"] / 1e9,
        "search vectors (GB, float32)": rows * 64 * 4 / 1e9,
        "per worker: scan (MB)": here["dask_worker_rss_mb"],
        "per worker: a shard + queries chunk (MB)": (shard_rows * 64 * 4 + 16_384 * 2 * 64 * 4) / 2**20,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=100_000_000)
    p.add_argument("--workers", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--sample", default="/tmp/jpeg32")
    args = p.parse_args()
    results = json.loads(RESULTS.read_text())
    here = measure(make_jpegs(Path(args.sample) / "jpeg32_2000", 2000))
    plans = [plan(results, here, args.images, w) for w in args.workers]
    results["plan_inputs"] = here
    results["plan"] = plans
    RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps(here))
    print("| | " + " | ".join(f"{p['workers']:,} workers" for p in plans) + " |")
    print("|---|" + "---:|" * len(plans))
    for key in plans[0]:
        if key == "workers":
            continue
        cells = [f"{p[key]:,.1f}" if isinstance(p[key], float) else f"{p[key]:,}" for p in plans]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
