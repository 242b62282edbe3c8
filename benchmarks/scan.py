#!/usr/bin/env python
"""Scan throughput: our scan against the decode floor, the cache, peak memory, and two peer tools.

    python benchmarks/scan.py [--quick] [--runs 3] [--no-peers] [--no-doc]

Two generated sets (benchmarks/_data.py): 20,000 photo-like JPEGs and 50,000 32x32 PNGs (--quick:
2,000 and 5,000). Per set and run, with 2 spawn worker processes on the same files:
  floor  a process pool that reads each file and does only the decode the scan needs (JPEG: the same
         DCT-scaled `draft` decode as features.py; PNG: a plain load);
  cold   scan() into a fresh empty workspace; warm: scan() again on that workspace (all cached).
Peak memory: one cold scan in a fresh subprocess (its own max RSS, and its largest worker's VmHWM from /proc).
Peers (cleanvision's full audit, imagededup's PHash) run in their own venv benchmarks/env
(peers_env.sh) on the first files of the JPEG set, against our cold scan of the same subset.
Medians over --runs; the table goes to stdout and to the "## Scan" section of docs/benchmarks.md.
"""

import argparse
import functools
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _data  # noqa: E402
import _doc  # noqa: E402
import _floor  # noqa: E402
import _proc  # noqa: E402
import PIL  # noqa: E402
from PIL import features  # noqa: E402

from inspectors import pool  # noqa: E402
from inspectors.config import ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.scan import scan  # noqa: E402

WORKERS = 2
CONFIG = ScanConfig(workers=WORKERS)
PEERS_ENV = HERE / "env" / "bin" / "python"
NOTES_HEADING = "### Notes"  # hand-written notes under this heading survive a rerun

# ---------------------------------------------------------------- the floor: decode only


def cpu_seconds() -> float:
    """CPU time of this process and of its joined children: unlike wall time, it barely moves when
    other work on the machine takes the cores away."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))


def floor(paths) -> tuple[float, float]:
    """(wall, CPU) seconds. Pool start-up included, as in scan(): 2 spawn workers, the scan's chunk size."""
    chunks = [paths[i:i + CONFIG.chunk_size] for i in range(0, len(paths), CONFIG.chunk_size)]
    start, cpu = time.perf_counter(), cpu_seconds()
    with pool.worker_start(_floor.decode_chunk, None):  # started as the scan's workers are: no __main__
        workers = mp.get_context("spawn").Pool(WORKERS)
    with workers:
        done = sum(workers.imap_unordered(functools.partial(_floor.decode_chunk, work_side=CONFIG.work_side), chunks))
    assert done == len(paths)
    return time.perf_counter() - start, cpu_seconds() - cpu


# ---------------------------------------------------------------- ours


def ours(root: Path) -> dict:
    start = time.perf_counter()
    listing = load_dataset(root)
    listing_s = time.perf_counter() - start
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=_data.DATA))
    try:
        cpu = cpu_seconds()
        cold = scan(listing, CONFIG, ws)  # its workers are joined before it returns
        cold_cpu = cpu_seconds() - cpu
        warm = scan(listing, CONFIG, ws)
    finally:
        shutil.rmtree(ws, ignore_errors=True)
    n = len(listing.samples)
    assert cold.decoded == n and warm.cached == n and warm.decoded == 0, (cold.decoded, warm.cached, n)
    assert bool(cold.samples["ok"].all()), cold.samples.loc[~cold.samples["ok"], "error"].head().tolist()
    return {"listing_s": listing_s, "cold_s": cold.seconds, "cold_cpu": cold_cpu, "warm_s": warm.seconds}


RUSAGE_MAIN = """
import json, resource, sys
from pathlib import Path
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import scan
result = scan(load_dataset(sys.argv[1]), ScanConfig(workers=int(sys.argv[3])), Path(sys.argv[2]))
print("RUSAGE " + json.dumps({"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              "seconds": result.seconds, "decoded": result.decoded}))
"""


def scan_memory(root: Path) -> dict:
    """One cold scan in a fresh process (load_dataset + scan(), as the CLI does before its analysis): the max
    RSS of that process, and the largest VmHWM of its child processes, read from /proc every 0.2 s.
    RUSAGE_CHILDREN's max RSS would be the parent's size: a child is forked before it execs Python, and
    that moment counts."""
    cache = Path(tempfile.mkdtemp(prefix="mem-", dir=_data.DATA))
    workers_kb, done = {}, threading.Event()
    try:
        proc = subprocess.Popen([sys.executable, "-c", RUSAGE_MAIN, str(root), str(cache / "ws"), str(WORKERS)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def watch():
            while not done.is_set():
                for pid in _proc.tree(proc.pid):
                    workers_kb[pid] = max(_proc.status_kb(pid, "VmHWM"), workers_kb.get(pid, 0))
                done.wait(0.2)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stdout, stderr = proc.communicate()
        done.set()
        watcher.join()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    usage = [line for line in stdout.splitlines() if line.startswith("RUSAGE ")]
    if proc.returncode or not usage:
        raise RuntimeError(f"scan subprocess failed ({proc.returncode}): {stderr[-2000:]}")
    usage = json.loads(usage[-1][len("RUSAGE "):])
    return {"parent_mb": usage["self_kb"] / 1024, "worker_mb": max(workers_kb.values(), default=0) / 1024,
            "seconds": usage["seconds"], "decoded": usage["decoded"]}


# ---------------------------------------------------------------- peers

PEER_TIMER = """
import json, resource, sys, time
def cpu():  # this process and its joined workers (both peers join their multiprocessing pools)
    usage = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(r.ru_utime + r.ru_stime for r in usage)
start, cpu0 = time.perf_counter(), cpu()
"""
PEER_DONE = """
print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu() - cpu0, "images": images}))
"""
PEERS = {  # (imports, the timed call): each is timed from after its imports to the end of the call
    "imagededup PHash().encode_images": (
        "from imagededup.methods import PHash",
        "images = len(PHash(verbose=False).encode_images(image_dir=sys.argv[1], num_enc_workers=2))"),
    "cleanvision Imagelab.find_issues() (default issue types)": (
        "from cleanvision import Imagelab",
        "lab = Imagelab(data_path=sys.argv[1])\nlab.find_issues(n_jobs=2)\nimages = len(lab.issues)"),
}


def run_peer(peer: tuple[str, str], folder: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    code = peer[0] + PEER_TIMER + peer[1] + PEER_DONE
    proc = subprocess.run([str(PEERS_ENV), "-c", code, str(folder)], capture_output=True, text=True, env=env)
    result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not result:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)[-600:]}
    return json.loads(result[-1][len("RESULT "):])


def ensure_peers_env() -> str | None:
    proc = subprocess.run(["bash", str(HERE / "peers_env.sh")], capture_output=True, text=True)
    return None if proc.returncode == 0 else f"peers_env.sh failed: {proc.stderr.strip()[-600:]}"


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu}, {mem_kb / 2**20:.1f} GiB RAM; "
            f"load average {os.getloadavg()[0]:.2f} at start; Python {platform.python_version()}, "
            f"Pillow {PIL.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}")


def code_version() -> str:
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()
    dirty = " plus uncommitted changes" if git("status", "--porcelain", "inspectors") else ""
    return f"`inspectors/` at commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}"


def goal(ok: bool, text: str) -> str:
    return f"- {'met' if ok else '**not met**'}: {text}"


def measure_set(name: str, root: Path, target: float, n_runs: int) -> tuple[str, list[str]]:
    """One table row and the goal lines of one set."""
    paths = [str(p) for p in _data.image_files(root)]
    n, mb = len(paths), sum(os.path.getsize(p) for p in paths) / 1e6
    _data.read_all(paths)
    runs = []
    for r in range(n_runs):
        if r % 2:  # alternate the order so a drift in machine load does not favour one side
            o = ours(root)
            f_s, f_cpu = floor(paths)
        else:
            f_s, f_cpu = floor(paths)
            o = ours(root)
        runs.append({"floor": n / f_s, "ours": n / o["cold_s"], "ratio": f_s / o["cold_s"],
                     "cpu_ratio": f_cpu / o["cold_cpu"], "warm_s": o["warm_s"],
                     "cold_warm": o["cold_s"] / o["warm_s"], "listing_s": o["listing_s"]})
        print(f"{name} run {r + 1}: floor {n / f_s:,.0f} img/s, ours {n / o['cold_s']:,.0f} img/s "
              f"(ratio {f_s / o['cold_s']:.2f}; CPU {f_cpu:.1f} s vs {o['cold_cpu']:.1f} s, "
              f"ratio {f_cpu / o['cold_cpu']:.2f}), warm {o['warm_s']:.2f} s, listing {o['listing_s']:.2f} s",
              flush=True)
    m = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
    mem = scan_memory(root)
    print(f"{name} cold scan in a subprocess: {mem}", flush=True)
    peak = max(mem["parent_mb"], mem["worker_mb"])
    row = (f"| {name} | {n:,} | {mb:,.0f} | {m['floor']:,.0f} | {m['ours']:,.0f} | {m['ratio']:.2f} | "
           f"{m['cpu_ratio']:.2f} | {m['warm_s']:.2f} s | {m['cold_warm']:.0f}× | {m['listing_s']:.2f} s | "
           f"{mem['parent_mb']:,.0f} MB / {mem['worker_mb']:,.0f} MB |")
    return row, [
        goal(m["ratio"] >= target, f"{name}: ours ÷ floor = {m['ratio']:.2f} (goal ≥ {target}; "
                                   f"in CPU time {m['cpu_ratio']:.2f})"),
        goal(m["cold_warm"] >= 20, f"{name}: cold ÷ warm = {m['cold_warm']:.0f}× (goal ≥ 20×)"),
        goal(peak < 1024, f"{name} ({n:,} files): peak RSS {peak:,.0f} MB (goal < 1 GB)"),
    ]


def measure_peers(photos: list[Path], files: int, n_runs: int) -> tuple[list[str], list[str]]:
    """The peers table (markdown lines) and the goal line, on the first `files` JPEGs. Ratios are
    taken within each run (ours and the peer one after the other) and their median reported."""
    subset = _data.flat_subset(photos, files)
    env_error = ensure_peers_env()
    paths = sorted(str(p) for p in subset.iterdir() if p.is_file())
    mine, floors, results = [], [], {peer: [] for peer in PEERS}
    for r in range(n_runs):
        mine.append(ours(subset))
        floors.append(floor(paths))
        print(f"peers run {r + 1}: ours {files / mine[-1]['cold_s']:,.0f} img/s, floor "
              f"{files / floors[-1][0]:,.0f} img/s", flush=True)
        for peer, code in PEERS.items():
            res = {"error": env_error} if env_error else run_peer(code, subset)
            if "error" not in res and res["images"] != files:
                res = {"error": f"it returned {res['images']} of {files} images"}
            results[peer].append(res)
            print(f"  {peer}: {res}", flush=True)
    lines = [f"Peers on the first {files:,} JPEGs of the set (hard-linked into one flat folder), {n_runs} run(s). "
             f"Peers in their own venv (`benchmarks/peers_env.sh`), 2 worker processes each (`num_enc_workers=2`, "
             f"`n_jobs=2`), timed inside their process from after their imports to the end of the call; ours = cold "
             f"`scan()` of the same folder in the same runs, worker start-up included. Ratios: median of the "
             f"per-run ratios, in wall time and in CPU time (the process and its joined workers).", "",
             "| tool | img/s (median) | ours ÷ tool | same, in CPU time |", "|---|---:|---:|---:|",
             f"| ours: `scan()` cold, workers=2 | {statistics.median(files / m['cold_s'] for m in mine):,.0f} "
             f"| 1× | 1× |",
             f"| the decode floor (as above) on these files | {statistics.median(files / f[0] for f in floors):,.0f} "
             f"| {statistics.median(f[0] / m['cold_s'] for m, f in zip(mine, floors, strict=True)):.2f}× "
             f"| {statistics.median(f[1] / m['cold_cpu'] for m, f in zip(mine, floors, strict=True)):.2f}× |"]
    best = None
    for peer, runs in results.items():
        ok = [(m, res) for m, res in zip(mine, runs, strict=True) if "error" not in res]
        if not ok:
            lines.append(f"| {peer} | failed: {runs[0]['error']} | — | — |")
            continue
        ips = statistics.median(files / res["seconds"] for _, res in ok)
        wall = statistics.median(res["seconds"] / m["cold_s"] for m, res in ok)
        cpu = statistics.median(res["cpu"] / m["cold_cpu"] for m, res in ok)
        lines.append(f"| {peer} | {ips:,.1f} | {wall:,.1f}× | {cpu:,.1f}× |")
        floor_wall = statistics.median(res["seconds"] / f[0] for f, (_, res) in zip(
            [f for f, res in zip(floors, runs, strict=True) if "error" not in res], ok, strict=True))
        best = max(best or (0, 0, 0, 0), (ips, wall, cpu, floor_wall))
    if best is None:
        return lines + [""], ["- **not measured**: ours ÷ faster peer (both peers failed)"]
    return lines + [""], [goal(best[1] >= 10, f"ours ÷ faster peer = {best[1]:.1f}× (goal ≥ 10×; "
                                              f"in CPU time {best[2]:.1f}×; the decode floor alone ÷ that peer = "
                                              f"{best[3]:.1f}× in wall time)")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 JPEGs and 5,000 PNGs: a smoke run")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported (default 3)")
    parser.add_argument("--peer-runs", type=int, help="repetitions of the peers (default: --runs)")
    parser.add_argument("--peer-files", type=int, help="JPEGs the peers get (default 2,000; --quick 300)")
    parser.add_argument("--no-peers", action="store_true", help="skip cleanvision and imagededup")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    n_jpeg, n_png = (2_000, 5_000) if args.quick else (20_000, 50_000)
    info, version = machine(), code_version()
    print(info, version, sep="\n", flush=True)
    photos = _data.ensure_set("photos", n_jpeg)
    sets = [("JPEG photos 256-1024 px", photos, 0.7), ("PNG 32x32", _data.ensure_set("tiny", n_png), 0.4)]
    rows, goals = [], []
    for name, root, target in sets:
        row, set_goals = measure_set(name, root, target, args.runs)
        rows.append(row)
        goals += set_goals
    peer_lines = []
    if not args.no_peers:
        files = min(args.peer_files or (300 if args.quick else 2_000), n_jpeg)
        peer_lines, peer_goals = measure_peers(_data.image_files(photos), files, args.peer_runs or args.runs)
        goals += peer_goals
    command = " ".join(["python benchmarks/scan.py", *sys.argv[1:]])
    section = "\n".join([
        "## Scan", "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`, {args.runs} runs, medians.",
        f"Machine: {info}. Code: {version}.", "",
        "Floor = 2 spawn processes that read each file and decode it exactly as the scan must (JPEG: the "
        "DCT-scaled `draft` decode to ≥128 px; PNG: a full load), pool start-up included. Ours = `scan()` "
        "with `workers=2` into a fresh workspace (cold), then again on that workspace (warm: all cached). "
        "\"In CPU time\": floor ÷ ours in user+system seconds of the main process and its workers "
        "(getrusage), which other work on a shared machine disturbs far less than wall time. Listing "
        "(`load_dataset`) is timed apart and in neither. Memory: one cold scan (`load_dataset` + `scan()`) "
        "in a fresh subprocess, max RSS of that process / VmHWM of its largest worker (read from /proc).", "",
        "| set | files | MB | floor img/s | ours cold img/s | ours ÷ floor | same, in CPU time | warm re-scan "
        "| cold ÷ warm | listing | peak RSS main / worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        *peer_lines, "Goals (ours ÷ floor goals: ≥ 0.7 on JPEGs, ≥ 0.4 on PNGs, judged on wall time):", *goals, "",
    ])
    print("\n" + section)
    if not args.no_doc:
        _doc.write_section("Scan", section, keep=NOTES_HEADING)
        print(f"wrote the Scan section of {_doc.DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
