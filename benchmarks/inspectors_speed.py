#!/usr/bin/env python
"""All inspectors together over a 100k-row samples table.

    python benchmarks/inspectors_speed.py [--rows 100000] [--runs 3] [--no-doc]

The table is sample_data/shapes' scanned samples replicated to --rows, each copy's hashes and
appearance perturbed (random bit flips, pixel noise) so duplicates stay rare and every inspector does
its real work. Median wall time of `inspectors.run.run` over --runs, per inspector too.
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _doc  # noqa: E402

from inspectors.config import Config  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.run import run  # noqa: E402
from inspectors.scan import scan  # noqa: E402


def big_table(rows: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as ws:
        base = scan(load_dataset(ROOT / "sample_data" / "shapes"), Config().scan, Path(ws)).samples
    rng = np.random.default_rng(0)
    copies = []
    for k in range(-(-rows // len(base))):
        part = base.copy()
        part["path"] = f"copy{k}/" + part["path"]
        if k:
            ok = part["phash"].notna()
            flips = rng.integers(0, 2**63, size=ok.sum(), dtype=np.int64)
            part.loc[ok, "phash"] = part.loc[ok, "phash"].astype("int64").to_numpy() ^ flips
            part.loc[ok, "dhash"] = part.loc[ok, "dhash"].astype("int64").to_numpy() ^ flips
            part["pixel_hash"] = part["pixel_hash"] + f"-{k}"
            part["appearance"] = [a if not isinstance(a, bytes) else np.clip(np.frombuffer(a, np.uint8).astype(int)
                                                              + rng.integers(-30, 31, 256), 0, 255)
                                  .astype(np.uint8).tobytes() for a in part["appearance"]]
        copies.append(part)
    return pd.concat(copies, ignore_index=True).head(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    table = big_table(args.rows)
    totals, per = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        _, summary = run(table, Config())
        totals.append(time.perf_counter() - start)
        per.append(summary["inspector_seconds"])
    median = statistics.median(totals)
    rows = [f"| {name} | {statistics.median(p[name] for p in per):.2f} s |" for name in per[0]]
    body = "\n".join([
        "## All inspectors at 100k rows",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/inspectors_speed.py --rows "
        f"{args.rows} --runs {args.runs}` on {platform.machine()}, 2 shared cores: sample_data/shapes' samples "
        f"replicated to {len(table):,} rows with perturbed hashes and appearance. Median of {args.runs} runs of "
        "`inspectors.run.run`.",
        "",
        f"Total: **{median:.1f} s** (goal under 10 s: {'met' if median < 10 else 'not met'}).",
        "",
        "| inspector | median |",
        "|---|---:|",
        *rows,
    ])
    print(body)
    if not args.no_doc:
        _doc.write_section("All inspectors at 100k rows", body)


if __name__ == "__main__":
    main()
