#!/usr/bin/env python
"""Content-level copies: recall per edit kind, hard negatives, precision and cost of the CLI's duplicate and
split-leak findings (and outliers) on sets cut from real photos and from real handwritten digits.

    python benchmarks/copies.py [--sets copies32,copies256,digits32] [--seed S] [--images N] [--no-doc]
    python benchmarks/copies.py --sets copies32 --score-only REPORT_DIR   # score an existing findings.csv
    python benchmarks/copies.py --speed [--runs 3]                        # the scan-speed baselines

The sets (built once under benchmarks/data/, a pure function of the seed; the truth lies beside each dataset
folder, never inside it):
  copies32   CIFAR-like: 10,000 32x32 JPEGs (quality 90-95) cut from the photos of benchmarks/_real_photos.py,
             10 classes, train/ and test/; planted copies of every edit kind alone and in pairs, and planted
             hard negatives (benchmarks/_copies_sets.py). --images N sets the number of base images.
  copies256  the same at 256-600 px (windows of >= 200 px, shifts of 1-4 % of the side), ~700 images.
  digits32   scikit-learn's digits at 32 px with shifted copies and ~2.5 % outliers (benchmarks/_digits32.py).
  fashion    the real Fashion-MNIST (70,000 product photos, 28 px, train/ and test/) with ~540 planted edited
             copies (benchmarks/_fashion.py; needs `apt-get install dataset-fashion-mnist`). Not in the default
             --sets (its scan takes minutes); its figures go to a section of their own.
Each set is scanned as a user would: `python -m inspectors scan DATASET --cache TMP --out REPORT --workers 2
--quiet` (this checkout's inspectors/, cold: a fresh cache, default settings), and its findings.csv scored
against the truth (benchmarks/_copies_truth.py, benchmarks/_copies_score.py). Cost: wall and CPU time (the CLI
and its workers, getrusage), peak RSS summed over the process tree and of its largest process (/proc, 0.1 s).
The last report of each set stays in benchmarks/data/<set>_report/ for --score-only.
--speed: the cold scan of a 60,000-image copies32 set and of benchmarks/_data.py's 20,000 photos, --runs times
each (median), page cache warmed first: the baselines of the goals "<= 1.5x today" and "<= 1.3x today".
Tables go to stdout and to the "## Content-level copies" (or "...: scan speed") section of docs/benchmarks.md.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE)]

import _copies_score as score_  # noqa: E402
import _copies_sets  # noqa: E402
import _data  # noqa: E402
import _digits32  # noqa: E402
import _doc  # noqa: E402
import _fashion  # noqa: E402
import _proc  # noqa: E402
import pandas as pd  # noqa: E402

HEADING, SPEED_HEADING, NOTES = "Content-level copies", "Content-level copies: scan speed", "### Notes"
FASHION_HEADING = "Content-level copies: real photos at scale (Fashion-MNIST)"
SEED = 20_261_206
SETS = ("copies32", "copies256", "digits32")
BY_SOURCE = {"digits32": _digits32, "fashion": _fashion}  # sets judged by source, not cut from photos
SPEED_IMAGES = 60_000


def set_dir(name: str, seed: int, images: int | None) -> Path:
    """Where a set is cached: named by everything it is a function of, the generator's version included."""
    version = BY_SOURCE[name].VERSION if name in BY_SOURCE else _copies_sets.VERSION
    return _data.DATA / (f"{name}_n{images}_s{seed}_v{version}" if images else f"{name}_s{seed}_v{version}")


def ensure(name: str, seed: int, images: int | None = None) -> tuple[Path, pd.DataFrame]:
    """(dataset folder, truth) of a set, building it first if it is not there."""
    final = set_dir(name, seed, images)
    if (final / "COMPLETE").exists():
        return final / "dataset", pd.read_csv(final / "truth.csv", keep_default_na=False, dtype=str).pipe(_typed)
    start = time.perf_counter()
    if name in BY_SOURCE:
        files, truth = BY_SOURCE[name].build(seed)
    else:
        spec = {"copies32": _copies_sets.COPIES32, "copies256": _copies_sets.COPIES256}[name]
        files, truth = _copies_sets.build(replace(spec, images=images or spec.images), seed)
        _copies_sets.check(truth)
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for path, data in files:
        (tmp / "dataset" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "dataset" / path).write_bytes(data)
    truth.to_csv(tmp / "truth.csv", index=False)
    (tmp / "COMPLETE").write_text(f"{len(files)} files, seed {seed}\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    print(f"built {final} ({len(files):,} files) in {time.perf_counter() - start:.0f} s", flush=True)
    return final / "dataset", _typed(pd.read_csv(final / "truth.csv", keep_default_na=False, dtype=str))


def _typed(truth: pd.DataFrame) -> pd.DataFrame:
    for c in ("x0", "y0", "x1", "y1"):
        truth[c] = truth[c].astype(float)
    for c in ("mirrored", "changed"):
        truth[c] = truth[c].astype(str) == "True"
    return truth


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def scan(dataset: Path, report: Path) -> dict:
    """The CLI's cold scan of a dataset into a fresh cache, its report in `report`; wall, CPU and memory."""
    shutil.rmtree(report, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="copies-cache-", dir=_data.DATA) as cache:
        cmd = [sys.executable, "-m", "inspectors", "scan", str(dataset), "--cache", cache, "--out", str(report),
               "--workers", "2", "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        peak = {"tree": 0, "largest": 0}
        start, cpu = time.perf_counter(), cpu_seconds()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def watch():
            while proc.poll() is None:
                pids = [proc.pid, *_proc.tree(proc.pid)]
                peak["tree"] = max(peak["tree"], sum(_proc.status_kb(p, "VmRSS") for p in pids))
                peak["largest"] = max(peak["largest"], *(_proc.status_kb(p, "VmHWM") for p in pids))
                time.sleep(0.1)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        out, err = proc.communicate()
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        watcher.join()
    if proc.returncode != 0 or not (report / "findings.csv").exists():
        raise SystemExit(f"scan of {dataset} failed (exit {proc.returncode}): {(err or out).strip()[-2000:]}")
    return {"wall": wall, "cpu": cpu, "rss_tree_mb": peak["tree"] / 1024, "rss_largest_mb": peak["largest"] / 1024}


def set_lines(name: str, truth: pd.DataFrame, result: dict, cost: dict | None) -> list[str]:
    """The markdown of one set's figures."""
    groups = ["all"] if name in BY_SOURCE else ["tuning", "held_out"]
    roles = truth["role"].value_counts()
    photos = "" if name in BY_SOURCE else (
        f"; photos: tuning {', '.join(sorted(truth.loc[truth['group'] == 'tuning', 'photo'].unique()))}; held out "
        f"{', '.join(sorted(truth.loc[truth['group'] == 'held_out', 'photo'].unique()))}")
    lines = [f"### {name}", "", f"{len(truth):,} files ({int((truth['split'] == 'train').sum()):,} train, "
             f"{int((truth['split'] == 'test').sum()):,} test): {int(roles.get('base', 0)):,} base images, "
             f"{int(roles.get('copy', 0))} planted copies, {int(roles.get('negative', 0))} planted hard negatives, "
             f"{int(roles.get('outlier', 0))} planted outliers{photos}.", ""]
    order = {"digits32": list(_digits32.COPIES), "fashion": ["exact", *_fashion.SINGLES, *_fashion.PAIRS]}.get(
        name, ["exact", *_copies_sets.SINGLES, *_copies_sets.PAIRS])
    lines += score_.kind_table(result["recall"], groups, order) + [""]
    if len(result["negatives"]):
        lines += score_.negative_table(result["negatives"], groups, list(_copies_sets.NEGATIVES)) + [""]
    if "outliers" in result:
        lines += score_.outlier_table(result["outliers"]) + [""]
    lines += score_.summary_lines(result, groups)
    if name == "fashion":
        lines += natural_lines(truth, result)
    if cost:
        lines.append(f"- cost: {cost['wall']:.1f} s wall, {cost['cpu']:.1f} s CPU (CLI and workers), peak RSS "
                     f"{cost['rss_tree_mb']:,.0f} MB summed over the processes, {cost['rss_largest_mb']:,.0f} MB "
                     "the largest")
    return lines + [""]


def natural_lines(truth: pd.DataFrame, result: dict) -> list[str]:
    """What the "false" pairs of a set judged by source are: on Fashion-MNIST most are the dataset's own
    pictures of one product in other colours or tones (judge a sample by eye), which the source calls negatives."""
    pairs = result["pairs"]
    role, label = dict(zip(truth["path"], truth["role"], strict=True)), dict(zip(truth["path"], truth["label"],
                                                                               strict=True))
    false = pairs[pairs["label"] == "negative"]
    planted = false["a"].map(role).eq("copy") | false["b"].map(role).eq("copy")
    across = false["a"].map(label) != false["b"].map(label)
    return [f"- the {len(false)} pairs the source calls false: {int(planted.sum())} join a planted copy to a picture "
            f"other than its original, {int((~planted).sum())} join two of the dataset's own pictures; "
            f"{int(across.sum())} of all of them join two classes"]


def correctness(args) -> None:
    sections = [f"## {HEADING}", "", f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{' '.join(args.argv)}` "
                f"on `inspectors/` at {_doc.commit()}. Machine: {_doc.machine()} at the start.", "",
                "How to read: a copy is *found* when the CLI puts it in one duplicate group (near or exact) with its "
                "original and, for a train→test copy, also flags it split_leak. Truth by geometry "
                "(`benchmarks/_copies_truth.py`): images of one photo sharing >= 80 % of the larger window are "
                "copies, < 50 % different pictures, in between ambiguous (left out). *held_out* photos are the ones "
                "not to look at while tuning a detector: a gap between the columns means a detector fitted to the "
                "tuning photos. Sets: see the docstring of `benchmarks/copies.py`.", ""]
    for name in args.sets:
        dataset, truth = ensure(name, args.seed, args.images if name == "copies32" else None)
        report = _data.DATA / f"{name}_report"
        cost = scan(dataset, report)
        result = score_.score(truth, score_.read_findings(report / "findings.csv"))
        lines = set_lines(name, truth, result, cost)
        print("\n".join(lines) + "\n" + "\n".join(score_.misses(result)), flush=True)
        sections += lines
    if not args.no_doc and tuple(args.sets) == SETS:
        _doc.write_section(HEADING, "\n".join(sections), keep=NOTES)
        print(f"wrote the {HEADING} section of {_doc.DOC.relative_to(ROOT)}")
    elif not args.no_doc and args.sets == ["fashion"]:
        sections[0] = f"## {FASHION_HEADING}"
        sections[4] = ("How to read: as in the section \"Content-level copies\", but the truth is by source (a "
                       "planted copy and its original, identical source pictures); near-identical source pictures "
                       "are ambiguous (left out) and every other pair is a negative, so the dataset's own pictures "
                       "of one product in other colours count as false pairs (see the notes). The set: "
                       "`benchmarks/_fashion.py`.")
        _doc.write_section(FASHION_HEADING, "\n".join(sections), keep=NOTES)
        print(f"wrote the {FASHION_HEADING} section of {_doc.DOC.relative_to(ROOT)}")


def speed(args) -> None:
    sets = [(f"copies32, {SPEED_IMAGES:,} base images (32 px JPEG)", ensure("copies32", args.seed, SPEED_IMAGES)[0]),
            ("photos_20000 (benchmarks/_data.py, JPEG 256-1024 px)", _data.ensure_set("photos", 20_000))]
    rows, loads = [], [_doc.machine()]
    for label, dataset in sets:
        files = sorted(p for p in dataset.rglob("*") if p.is_file() and p.name != "COMPLETE")
        costs = []
        for run in range(args.runs):
            _data.read_all(files)  # the page cache holds the files: cold means no workspace, not a cold disk
            with tempfile.TemporaryDirectory(prefix="copies-speed-", dir=_data.DATA) as tmp:
                costs.append(scan(dataset, Path(tmp) / "report"))
            print(f"{label} run {run + 1}: {costs[-1]['wall']:.1f} s wall, {costs[-1]['cpu']:.1f} s CPU", flush=True)
        walls, cpus = [c["wall"] for c in costs], [c["cpu"] for c in costs]
        rows.append(f"| {label} | {len(files):,} | {len(costs)} | {statistics.median(walls):.1f} s "
                    f"({min(walls):.1f}-{max(walls):.1f}) | {statistics.median(cpus):.1f} s | "
                    f"{max(c['rss_tree_mb'] for c in costs):,.0f} MB / "
                    f"{max(c['rss_largest_mb'] for c in costs):,.0f} MB |")
        loads.append(_doc.machine())
    section = [f"## {SPEED_HEADING}", "",
               f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{' '.join(args.argv)}` on `inspectors/` at "
               f"{_doc.commit()}: the CLI's cold scan (`python -m inspectors scan DATASET --cache "
               "FRESH --out REPORT --workers 2 --quiet`, default settings, page cache warmed first), medians. These "
               "are the baselines of issue 15's speed goals: 60,000 32 px JPEGs <= 1.5x, 20,000 photos <= 1.3x. "
               "Compare only with figures measured on the same machine, and read the load: it is a shared machine.",
               "", "| set | files | runs | wall, median (min-max) | CPU, median | peak RSS tree / largest |",
               "|---|---:|---:|---:|---:|---:|", *rows, "", "Machine before, and after each set:",
               *[f"- {line}" for line in loads], ""]
    print("\n".join(section))
    if not args.no_doc:
        _doc.write_section(SPEED_HEADING, "\n".join(section), keep=NOTES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated, of " + ", ".join(SETS))
    ap.add_argument("--seed", type=int, default=SEED, help="another seed builds other sets (held-out checks)")
    ap.add_argument("--images", type=int, default=None, help="copies32's base images (default 10,000)")
    ap.add_argument("--score-only", type=Path, metavar="REPORT_DIR", help="score REPORT_DIR/findings.csv; no scan")
    ap.add_argument("--speed", action="store_true", help="the scan-speed baselines instead")
    ap.add_argument("--runs", type=int, default=3, help="--speed: runs per set (median)")
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    args.argv = ["python", "benchmarks/copies.py", *sys.argv[1:]]
    args.sets = [s for s in args.sets.split(",") if s]
    if unknown := set(args.sets) - set(SETS) - {"fashion"}:
        ap.error(f"unknown set(s): {', '.join(sorted(unknown))}")
    if args.score_only:
        if len(args.sets) != 1:
            ap.error("--score-only needs one --sets NAME: the set the report is of")
        name = args.sets[0]
        _, truth = ensure(name, args.seed, args.images if name == "copies32" else None)
        result = score_.score(truth, score_.read_findings(args.score_only / "findings.csv"))
        print("\n".join(set_lines(name, truth, result, None) + score_.misses(result)))
    elif args.speed:
        speed(args)
    else:
        correctness(args)


if __name__ == "__main__":
    main()
