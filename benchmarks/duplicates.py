#!/usr/bin/env python
"""Near-duplicate search at scale: our pigeonhole hash index at 100k and 1M hashes.

    python benchmarks/duplicates.py [--sizes 100000,1000000] [--peer-sizes 5000,10000,20000] [--no-doc]

Two kinds of hashes per size N: random 64-bit hashes, and real pHashes (scanned from the photo set of
benchmarks/scan.py, replicated with 6-20 random bit flips so the clustering of real hashes stays in);
each with planted copies at every distance 1..radius. Per run, in a fresh subprocess: wall time, peak
RSS, recall of the planted pairs. Plus: agreement with an exact brute force on a 20k subset, and
imagededup's find_duplicates (its own venv, benchmarks/env) on random hashes at the sizes it finishes
within 10 minutes, against ours on the same hashes.
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from _doc import write_section  # noqa: E402

from inspectors.config import DuplicatesConfig  # noqa: E402
from inspectors.hash_copies import near_pairs  # noqa: E402

RADIUS = DuplicatesConfig().radius
PLANTED_PER_DISTANCE = 500
PEER_PYTHON = HERE / "env" / "bin" / "python"
PHOTOS = HERE / "data" / "photos_20000"


def flip_random_bits(rng, hashes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    out = hashes.view(np.uint64).copy()
    for i, k in enumerate(counts):
        for bit in rng.choice(64, size=int(k), replace=False):
            out[i] ^= np.uint64(1) << np.uint64(bit)
    return out.view(np.int64)


def hash_set(kind: str, n: int, seed: int = 0) -> tuple[np.ndarray, set]:
    """n hashes whose last RADIUS*PLANTED_PER_DISTANCE are copies, at distance 1..RADIUS, of earlier ones."""
    rng = np.random.default_rng(seed)
    planted_n = RADIUS * PLANTED_PER_DISTANCE
    base_n = n - planted_n
    if kind == "random":
        base = rng.integers(-(2**63), 2**63 - 1, size=base_n, dtype=np.int64)
    else:
        real = real_phashes()
        picks = rng.integers(0, len(real), size=base_n)
        base = flip_random_bits(rng, real[picks], rng.integers(6, 21, size=base_n))
        base[: len(real)] = real[: min(len(real), base_n)]
    originals = rng.choice(base_n, size=planted_n, replace=False)
    distances = np.repeat(np.arange(1, RADIUS + 1), PLANTED_PER_DISTANCE)
    copies = flip_random_bits(rng, base[originals], distances)
    planted = {(int(o), base_n + i) for i, o in enumerate(originals)}
    return np.r_[base, copies], planted


def real_phashes() -> np.ndarray:
    cache = HERE / "data" / "photo_phashes.npy"
    if cache.exists():
        return np.load(cache)
    from inspectors.config import ScanConfig
    from inspectors.dataset import load_dataset
    from inspectors.scan import scan
    samples = scan(load_dataset(PHOTOS), ScanConfig(workers=2), None).samples
    hashes = samples.loc[samples["ok"], "phash"].astype("int64").to_numpy()
    np.save(cache, hashes)
    return hashes


def timed_search(kind: str, n: int) -> dict:
    """Our search in a fresh subprocess, so its peak RSS is the search's own."""
    code = (f"import sys, time, resource, json; sys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]\n"
            "import duplicates as b\n"
            f"h, planted = b.hash_set({kind!r}, {n})\n"
            "t = time.perf_counter(); i, j, d = b.near_pairs(h, b.RADIUS); dt = time.perf_counter() - t\n"
            "found = set(zip(i.tolist(), j.tolist()))\n"
            "hit = sum((min(a, c), max(a, c)) in found for a, c in planted)\n"
            "print(json.dumps({'seconds': dt, 'pairs': len(found), 'recall': hit / len(planted),\n"
            "                  'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def brute_force_agreement(n: int = 20_000) -> dict:
    hashes, _ = hash_set("real" if PHOTOS.exists() else "random", n, seed=1)
    i, j, _ = near_pairs(hashes, RADIUS)
    ours = set(zip(i.tolist(), j.tolist(), strict=True))
    u = hashes.view(np.uint64)
    exact = set()
    for lo in range(0, n, 2000):
        d = np.bitwise_count(u[lo:lo + 2000, None] ^ u[None, :])
        a, b = np.nonzero(d <= RADIUS)
        exact.update((int(x + lo), int(y)) for x, y in zip(a, b, strict=True) if x + lo < y)
    return {"exact_pairs": len(exact), "ours": len(ours), "missing": len(exact - ours), "extra": len(ours - exact)}


def imagededup_seconds(n: int, limit_s: int = 600) -> float | None:
    code = ("import sys, json, time, numpy as np\n"
            "from imagededup.methods import PHash\n"
            f"rng = np.random.default_rng(0); h = rng.integers(0, 2**63, size={n}, dtype=np.int64)\n"
            "enc = {str(k): format(int(v), '016x') for k, v in enumerate(h)}\n"
            f"t = time.perf_counter(); PHash().find_duplicates(encoding_map=enc, max_distance_threshold={RADIUS})\n"
            "print(time.perf_counter() - t)\n")
    try:
        out = subprocess.run([str(PEER_PYTHON), "-c", code], capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        return None
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--peer-sizes", default="5000,10000,20000")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    kinds = ["random"] + (["real"] if PHOTOS.exists() else [])
    rows = []
    for kind in kinds:
        for n in map(int, args.sizes.split(",")):
            r = timed_search(kind, n)
            rows.append(f"| {kind} | {n:,} | {r['seconds']:.1f} s | {r['peak_mb']:,.0f} MB | {r['recall']:.4f} | "
                        f"{r['pairs']:,} |")
            print(rows[-1], flush=True)
    agree = brute_force_agreement()
    peers = []
    for n in map(int, args.peer_sizes.split(",")):
        theirs = imagededup_seconds(n) if PEER_PYTHON.exists() else None
        hashes = np.random.default_rng(0).integers(0, 2**63, size=n, dtype=np.int64)
        t = time.perf_counter()
        near_pairs(hashes, RADIUS)
        ours = time.perf_counter() - t
        peers.append(f"| {n:,} | {ours:.3f} s | " + (f"{theirs:.1f} s | {theirs / ours:,.0f}x |" if theirs else
                                                    "did not finish / not installed | |"))
        print(peers[-1], flush=True)
    body = "\n".join([
        "## Duplicate search",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/duplicates.py`; "
        f"{platform.machine()}, 2 cores; radius {RADIUS} (the default), {PLANTED_PER_DISTANCE} planted copies at "
        f"each distance 1..{RADIUS}. Each search runs in a fresh process (peak RSS = the search's own).",
        "",
        "| hashes | N | wall | peak RSS | recall of planted pairs | pairs found |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Agreement with an exact brute force on 20,000 hashes: {agree['exact_pairs']:,} pairs within the radius, "
        f"ours found {agree['ours']:,} ({agree['missing']} missing, {agree['extra']} extra).",
        "",
        "imagededup `PHash().find_duplicates(encoding_map=..., max_distance_threshold=radius)` on the same random "
        "hashes (its own venv), against our search:",
        "",
        "| N | ours | imagededup | ratio |",
        "|---:|---:|---:|---:|",
        *peers,
        "",
        "Goals at 1M: under 30 s, under 2 GB, recall ≥ 0.99.",
    ])
    print(body)
    if not args.no_doc:
        write_section("Duplicate search", body)


if __name__ == "__main__":
    main()
