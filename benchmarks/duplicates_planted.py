#!/usr/bin/env python
"""Duplicates at scale: planted copies among the 20,000 photo-like JPEGs of the scan benchmark.

    python benchmarks/duplicates_planted.py [--no-peers] [--rerun-peers] [--no-doc]

The set: benchmarks/data/photos_20000 (benchmarks/_data.py) hard-linked into benchmarks/data/planted_20000,
plus 600 planted copies in the class folder of their original: 400 near copies (re-encoded at another
JPEG quality, resized to 90-97 %, a third also cropped by 1-3 %, a third also 4-8 % brighter or darker)
and 200 exact copies (the same bytes). Some originals get two or three copies, so planted groups have
2-4 members. The ground truth, one row per planted copy, lies beside the set (planted_20000_truth.csv),
outside the dataset folder. Everything is a pure function of SEED.

Scored for each tool, as pairs of files: the truth pairs are all pairs inside a planted group (original
and its copies); a tool's pairs are all pairs inside its groups (imagededup gives a neighbour list per file:
its pairs). Copy recall = planted copies paired with their original; pair precision = found pairs that
are truth pairs; largest group (for imagededup: the largest connected component of its pairs, what
merging its neighbour lists gives) against the largest planted group.
  ours        inspectors.run.scan_and_inspect, default Config with 2 scan workers, fresh temporary workspace
  cleanvision Imagelab.find_issues({exact_duplicates, near_duplicates}), defaults, n_jobs=2 (benchmarks/env)
  imagededup  PHash().find_duplicates(recursive=True), default max_distance_threshold=10 (benchmarks/env)
  fastdup     fastdup.create(...).run(), default threshold, its connected components (benchmarks/data/fastdup_env),
              when it installs and runs here
Peer results do not depend on our code: they are kept in benchmarks/data/planted_20000_peers/ and reused
unless --rerun-peers. The table goes to stdout and to the "## Planted copies in 20,000 photos" section of
docs/benchmarks.md.
"""

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import _data  # noqa: E402
import _doc  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from inspectors.config import Config, ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.run import scan_and_inspect  # noqa: E402

HEADING = "Planted copies in 20,000 photos"
NOTES_HEADING = "### Notes"  # hand-written notes under this heading survive a rerun
SEED = 20_261_127
N_PHOTOS, N_NEAR, N_EXACT = 20_000, 400, 200
PLANTED = _data.DATA / f"planted_{N_PHOTOS}"
TRUTH = _data.DATA / f"planted_{N_PHOTOS}_truth.csv"
PEER_RESULTS = _data.DATA / f"planted_{N_PHOTOS}_peers"
PEERS_ENV = HERE / "env" / "bin" / "python"
FASTDUP_ENV = _data.DATA / "fastdup_env"
MIN_RECALL, MIN_PRECISION = 0.99, 0.95
COPIES_PER_ORIGINAL = {1: 460, 2: 40, 3: 20}  # copies -> originals with that many: 600 copies

# ---------------------------------------------------------------- the planted set


def near_copy(data: bytes, rng: np.random.Generator) -> tuple[bytes, dict]:
    """A re-encoded, slightly resized copy; some also slightly cropped or re-exposed."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    params = {"scale": round(float(rng.uniform(0.90, 0.97)), 3), "quality": int(rng.choice([70, 75, 80, 85, 95])),
              "crop": 0.0, "brightness": 1.0}
    if rng.random() < 1 / 3:  # crop 1-3 % of each side's length, split at random between its two ends
        params["crop"] = round(float(rng.uniform(0.01, 0.03)), 3)
        cw, ch = round(w * params["crop"]), round(h * params["crop"])
        left, top = int(rng.integers(0, cw + 1)), int(rng.integers(0, ch + 1))
        im = im.crop((left, top, w - (cw - left), h - (ch - top)))
    if rng.random() < 1 / 3:
        params["brightness"] = round(float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.08) + 1), 3)
        im = ImageEnhance.Brightness(im).enhance(params["brightness"])
    size = (round(im.size[0] * params["scale"]), round(im.size[1] * params["scale"]))
    buf = io.BytesIO()
    im.resize(size, Image.Resampling.LANCZOS).save(buf, "JPEG", quality=params["quality"])
    return buf.getvalue(), params


def copies_per_original(rng: np.random.Generator) -> list[int]:
    """Original indices, one entry per copy: 460 originals get one copy, 40 two, 20 three (600 copies)."""
    originals = rng.choice(N_PHOTOS, size=sum(COPIES_PER_ORIGINAL.values()), replace=False)
    out, at = [], 0
    for copies, count in COPIES_PER_ORIGINAL.items():
        out += list(np.repeat(originals[at:at + count], copies))
        at += count
    return out


def plant() -> tuple[Path, pd.DataFrame]:
    """The planted set and its truth, building them first if they are not there."""
    if PLANTED.is_dir() and TRUTH.exists():
        return PLANTED, pd.read_csv(TRUTH, keep_default_na=False)
    photos = _data.ensure_set("photos", N_PHOTOS)
    files = _data.image_files(photos)
    assert len(files) == N_PHOTOS
    rng = np.random.default_rng(SEED)
    owners = copies_per_original(rng)
    assert len(owners) == N_NEAR + N_EXACT
    kinds = rng.permutation(["near"] * N_NEAR + ["exact"] * N_EXACT)
    tmp = _data.DATA / f".planted_{N_PHOTOS}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.perf_counter()
    for path in files:  # the originals: hard links (the same bytes, no extra disk)
        target = tmp / path.relative_to(photos)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    rows = []
    for n, (owner, kind) in enumerate(zip(owners, kinds, strict=True)):
        original = files[owner].relative_to(photos).as_posix()
        data = files[owner].read_bytes()
        params = {"scale": 1.0, "quality": 90, "crop": 0.0, "brightness": 1.0}
        if kind == "near":
            data, params = near_copy(data, rng)
        copy = f"{Path(original).parent.as_posix()}/planted_{n:04d}.jpg"
        (tmp / copy).write_bytes(data)
        rows.append({"copy": copy, "original": original, "kind": kind, **params})
    truth = pd.DataFrame(rows)
    truth.to_csv(tmp.with_suffix(".csv"), index=False)
    shutil.rmtree(PLANTED, ignore_errors=True)
    os.replace(tmp, PLANTED)
    os.replace(tmp.with_suffix(".csv"), TRUTH)  # written last: its presence says the set is complete
    print(f"planted {len(truth)} copies into {PLANTED} in {time.perf_counter() - start:.0f} s", flush=True)
    return PLANTED, truth


# ---------------------------------------------------------------- scoring


def pairs_in(groups) -> set:
    return {frozenset(p) for g in groups for p in combinations(sorted(set(g)), 2)}


def components(pairs: set) -> list[set]:
    """Connected components of a pair graph (union-find)."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in (tuple(p) for p in pairs):
        parent[find(a)] = find(b)
    out = {}
    for x in parent:
        out.setdefault(find(x), set()).add(x)
    return list(out.values())


def truth_groups(truth: pd.DataFrame) -> list[set]:
    return [{orig, *part["copy"]} for orig, part in truth.groupby("original")]


def score(pairs: set, groups: list[set], truth: pd.DataFrame) -> dict:
    true_pairs = pairs_in(truth_groups(truth))
    found = {kind: sum(frozenset((c, o)) in pairs for c, o in zip(part["copy"], part["original"], strict=True))
             for kind, part in truth.groupby("kind")}
    tp = len(pairs & true_pairs)
    return {"copies": len(truth), "copies_found": int(sum(found.values())),
            "near": int((truth["kind"] == "near").sum()), "near_found": int(found.get("near", 0)),
            "exact": int((truth["kind"] == "exact").sum()), "exact_found": int(found.get("exact", 0)),
            "recall": sum(found.values()) / len(truth),
            "pairs": len(pairs), "true_pairs": tp, "truth_pairs": len(true_pairs),
            "pair_precision": tp / len(pairs) if pairs else 1.0, "pair_recall": tp / len(true_pairs),
            "largest_group": max((len(g) for g in groups), default=0),
            "false_pairs": sorted(sorted(p) for p in pairs - true_pairs),
            "missed": sorted(c for c, o in zip(truth["copy"], truth["original"], strict=True)
                             if frozenset((c, o)) not in pairs)}


# ---------------------------------------------------------------- ours


def cpu_seconds() -> float:
    """This process and its joined children (the scan's workers are joined before scan() returns)."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))


def ours(root: Path) -> dict:
    ws = Path(tempfile.mkdtemp(prefix="ws-planted-", dir=_data.DATA))
    try:
        start, cpu = time.perf_counter(), cpu_seconds()
        result, found, summary, _ = scan_and_inspect(load_dataset(root), Config(scan=ScanConfig(workers=2)), ws)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    finally:
        shutil.rmtree(ws, ignore_errors=True)
    dup = found[found["issue"].isin(["exact_duplicate", "near_duplicate"])]
    groups = [set(part) for _, part in dup.groupby("group")["path"]]
    return {"pairs": pairs_in(groups), "groups": groups, "seconds": wall, "cpu": cpu, "images": len(result.samples),
            "search_seconds": summary["inspector_seconds"]["duplicates"], "samples": result.samples}


# ---------------------------------------------------------------- peers (each in its own venv, in a subprocess)

PEER_TIMER = """
import json, resource, sys, time
from pathlib import Path
def cpu():
    usage = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(r.ru_utime + r.ru_stime for r in usage)
root = Path(sys.argv[1]).resolve()
def rel(p):  # the tools give absolute paths or paths relative to the working folder
    return Path(p).resolve().relative_to(root).as_posix()
start, cpu0 = time.perf_counter(), cpu()
"""
PEER_DONE = """
out = {"seconds": time.perf_counter() - start, "cpu": cpu() - cpu0, "pairs": pairs, "groups": groups}
Path(sys.argv[2]).write_text(json.dumps(out))
"""
PEERS = {  # name -> (python, imports, the timed code that sets `pairs` and `groups`: lists of lists of paths)
    "cleanvision": (PEERS_ENV, "from cleanvision import Imagelab", """
lab = Imagelab(data_path=str(root))
lab.find_issues({"exact_duplicates": {}, "near_duplicates": {}}, n_jobs=2, verbose=False)
groups = [[rel(p) for p in s] for kind in ("exact_duplicates", "near_duplicates") for s in lab.info[kind]["sets"]]
pairs = []
"""),
    "imagededup": (PEERS_ENV, "from imagededup.methods import PHash", """
found = PHash(verbose=False).find_duplicates(image_dir=str(root), recursive=True, num_enc_workers=2,
                                             num_dist_workers=2)
pairs = [[rel(root / a), rel(root / b)] for a, others in found.items() for b in others]
groups = []
"""),
    "fastdup": (FASTDUP_ENV / "bin" / "python", "import fastdup, tempfile", """
work = tempfile.mkdtemp(prefix="fastdup-")
fd = fastdup.create(work_dir=work, input_dir=str(root))
fd.run(overwrite=True, num_threads=2)
cc = fd.connected_components()[0]
cc = cc[cc["count"] > 1]
groups = [[rel(p) for p in part["filename"]] for _, part in cc.groupby("component_id")]
pairs = []
"""),
}


def run_peer(name: str, root: Path) -> dict:
    python, imports, code = PEERS[name]
    if not Path(python).exists():
        return {"error": f"{python} not found"}
    out = PEER_RESULTS / f"{name}.json"
    PEER_RESULTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.run([str(python), "-c", imports + PEER_TIMER + code + PEER_DONE, str(root), str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)[-600:]}
    return json.loads(out.read_text())


def peer_result(name: str, root: Path, rerun: bool) -> dict:
    cached = PEER_RESULTS / f"{name}.json"
    res = json.loads(cached.read_text()) if cached.exists() and not rerun else run_peer(name, root)
    if "error" in res:
        return res
    pairs = {frozenset(p) for p in res["pairs"] if p[0] != p[1]} | pairs_in(res["groups"])
    groups = [set(g) for g in res["groups"]] or components(pairs)
    return {"pairs": pairs, "groups": groups, "seconds": res["seconds"], "cpu": res["cpu"]}


def ensure_peers_env() -> str | None:
    proc = subprocess.run(["bash", str(HERE / "peers_env.sh")], capture_output=True, text=True)
    return None if proc.returncode == 0 else f"peers_env.sh failed: {proc.stderr.strip()[-600:]}"


# ---------------------------------------------------------------- report


def hamming(a: int, b: int) -> int:
    return bin((a ^ b) & (2**64 - 1)).count("1")


def explain(pairs, samples: pd.DataFrame, limit: int = 8) -> list[str]:
    """pHash distance and appearance distance of some pairs, for reading the misses and false pairs."""
    by_path = samples.set_index("path")
    lines = []
    for a, b in list(pairs)[:limit]:
        ra, rb = by_path.loc[a], by_path.loc[b]
        app = [np.frombuffer(r["appearance"], np.uint8).astype(np.float32) for r in (ra, rb)]
        app = [(v - v.mean()) / max(v.std(), 1.0) for v in app]
        lines.append(f"  {a} ~ {b}: pHash {hamming(int(ra['phash']), int(rb['phash']))} bits, "
                     f"appearance {np.abs(app[0] - app[1]).mean():.3f}")
    return lines


def row(name: str, s: dict, seconds: float, cpu: float) -> str:
    return (f"| {name} | {s['copies_found']}/{s['copies']} ({s['recall']:.3f}) | {s['near_found']}/{s['near']} | "
            f"{s['exact_found']}/{s['exact']} | {s['pairs']:,} | {s['pair_precision']:.3f} | {s['pair_recall']:.3f} | "
            f"{s['largest_group']:,} | {seconds:,.0f} s / {cpu:,.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-peers", action="store_true", help="skip cleanvision, imagededup and fastdup")
    parser.add_argument("--rerun-peers", action="store_true", help="run the peers again, not their kept results")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    root, truth = plant()
    planted_max = max(len(g) for g in truth_groups(truth))
    mine = ours(root)
    s = score(mine["pairs"], mine["groups"], truth)
    print(f"ours: {json.dumps({k: v for k, v in s.items() if k not in ('false_pairs', 'missed')})}", flush=True)
    print("missed:", *explain([(c, truth.set_index('copy').loc[c, 'original']) for c in s["missed"]],
                              mine["samples"]), sep="\n")
    print("false pairs:", *explain(s["false_pairs"], mine["samples"]), sep="\n", flush=True)
    rows = [row("ours", s, mine["seconds"], mine["cpu"])]
    verdict = [
        f"- {'met' if s['recall'] >= MIN_RECALL else '**not met**'}: copy recall {s['recall']:.3f} "
        f"(goal ≥ {MIN_RECALL})",
        f"- {'met' if s['pair_precision'] >= MIN_PRECISION else '**not met**'}: pair precision "
        f"{s['pair_precision']:.3f} (goal ≥ {MIN_PRECISION})",
        f"- {'met' if s['largest_group'] <= planted_max else '**not met**'}: largest group {s['largest_group']} "
        f"(largest planted group {planted_max})"]
    peer_notes = []
    if not args.no_peers:
        env_error = ensure_peers_env()
        for name in PEERS:
            res = {"error": env_error} if env_error and name != "fastdup" else peer_result(name, root, args.rerun_peers)
            if "error" in res:
                print(f"{name}: {res['error']}", flush=True)
                rows.append(f"| {name} | failed: {res['error']} | | | | | | | |")
                continue
            ps = score(res["pairs"], res["groups"], truth)
            print(f"{name}: {json.dumps({k: v for k, v in ps.items() if k not in ('false_pairs', 'missed')})}",
                  flush=True)
            rows.append(row(name, ps, res["seconds"], res["cpu"]))
    else:
        peer_notes.append("Peers not run (`--no-peers`).")
    command = " ".join(["python benchmarks/duplicates_planted.py", *sys.argv[1:]])
    section = "\n".join([
        f"## {HEADING}", "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`. Machine: x86_64, {os.cpu_count()} shared "
        f"cores, load average {load:.2f} at start (other benchmarks ran beside it: wall times are noisy, CPU "
        f"times less so).", "",
        f"The set: the {N_PHOTOS:,} photo-like JPEGs of the scan benchmark plus {N_NEAR} near copies (re-encoded at "
        f"quality 70-95, resized to 90-97 %, a third also cropped by 1-3 %, a third also 4-8 % brighter or darker) "
        f"and {N_EXACT} exact copies (same bytes), {len(truth):,} copies of {truth['original'].nunique():,} "
        f"originals: planted groups of 2 to {planted_max} files, {s['truth_pairs']:,} truth pairs. Copy recall = "
        f"planted copies paired with their original; pairs = all pairs inside a tool's groups (imagededup: its "
        f"neighbour lists); pair precision against the pairs inside planted groups. Largest group: for imagededup "
        f"the largest connected component of its pairs (what merging its lists gives). Time: wall / CPU "
        f"(process and joined workers) of the whole run, decoding included, 2 workers each.", "",
        "| tool | copies found | near | exact | pairs reported | pair precision | pair recall | largest group "
        "| wall / CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        "Ours: `scan_and_inspect` (default Config, 2 scan workers, fresh workspace). cleanvision: "
        "`find_issues({exact_duplicates, near_duplicates})`, defaults. imagededup: `PHash().find_duplicates("
        "recursive=True)`, default `max_distance_threshold=10`. fastdup: `fastdup.create(...).run()` defaults, "
        "its connected components.", *peer_notes, "",
        f"Goals (ours): recall ≥ {MIN_RECALL}, pair precision ≥ {MIN_PRECISION}, no group larger than the planted "
        "ones:", *verdict, ""])
    print("\n" + section)
    if not args.no_doc:
        _doc.write_section(HEADING, section, keep=NOTES_HEADING)
        print(f"wrote the {HEADING} section of {_doc.DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
