"""Scale: a synthetic 1,000,000-row samples table opened in the app (first load, Browse, a filter), and a
large generated dataset scanned end to end by the CLI (wall time, files/s, peak memory). Figures go to
the "## Scale" section of docs/benchmarks.md.

    .venv/bin/python benchmarks/scale.py [--rows 1000000] [--files 200000] [--repeats 3]
                                         [--skip-table] [--skip-scan] [--keep-images] [--keep-cache] [--no-doc]

With --keep-cache the scan's cache (benchmarks/data/scale_scan_cache) stays, so that the app can open the
scanned dataset: `benchmarks/dashboard.py --dataset benchmarks/data/tiny_200000 --cache
benchmarks/data/scale_scan_cache` times every page on it and adds the figures to this section.

The table (benchmarks/data/scale_1m_ws, gitignored) has no image files and no thumbnails: it is the
schema the scan writes (inspectors.schema.SAMPLE_COLUMNS, the dtypes of a real samples.parquet) filled
with random but plausible values: 10 classes, train/val/test, 1% exact copies, 1% near copies (pHash a
bit or two off, appearance with noise), 0.02% unreadable files. Its findings and summary come from
running the inspectors (inspectors.run.run) on it, as a scan would. The workspace sits where the app
looks for the (empty) dataset folder benchmarks/data/scale_1m, with INSPECTORS_CACHE pointing at it.

The scan half generates 32x32 PNGs with benchmarks/_data.py's tiny generator (a folder per class) and
runs `python -m inspectors scan DIR --cache CACHE --quiet` under /usr/bin/time -v, while a sampler reads
VmHWM/VmRSS of the scan's process tree from /proc every 0.2 s.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._data import DATA, ensure_set  # noqa: E402
from benchmarks._proc import status_kb, tree  # noqa: E402
from benchmarks.dashboard import STATUS, open_app, wait_shown  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TABLE_DATASET = DATA / "scale_1m"
TABLE_CACHE = DATA / "scale_1m_ws"
SCAN_CACHE = DATA / "scale_scan_cache"
RESULTS = DATA / "scale_results.json"  # the last figures of each part, so one part can be rerun alone
SEED = 20_261_127
CLASSES = 10
GOAL_S = 5.0
DASHBOARD_GOAL_S = 2.0  # the goal of "Dashboard at 100k samples": every page under 2 s after navigation


# ---------------------------------------------------------------- the 1M-row table

def synthetic_samples(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    cls = rng.integers(0, CLASSES, rows)
    split = np.array(["train", "val", "test"])[rng.choice(3, rows, p=[0.8, 0.1, 0.1])]
    labels = np.char.add("class_", np.char.zfill(cls.astype(str), 2))
    paths = pd.Series(split).str.cat(pd.Series(labels), sep="/").str.cat(
        pd.Series(np.char.zfill(np.arange(rows).astype(str), 7)), sep="/img_") + ".png"

    def hexes(n_bytes):
        raw = rng.bytes(n_bytes * rows).hex()
        w = 2 * n_bytes
        return np.array([raw[i * w:(i + 1) * w] for i in range(rows)], dtype=object)

    file_hash, pixel_hash = hexes(16), hexes(16)
    phash = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, rows, dtype=np.int64)
    dhash = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, rows, dtype=np.int64)
    # appearance: a 16x16 grey field per row, an 8x8 random grid upsampled. Not coarser: the appearance
    # hash pools it to 8x8, and a 4x4 grid would leave it 16 bits (a first try made 25.8M candidate
    # pairs at 1M rows, and the inspectors' confirm step asked for 24.6 GiB)
    coarse = rng.integers(0, 256, (rows, 8, 8), dtype=np.uint8)
    appearance = np.repeat(np.repeat(coarse, 2, axis=1), 2, axis=2).reshape(rows, 256)
    side = rng.choice([32, 40, 48, 56, 64], rows)
    width, height = side.copy(), side.copy()
    wide = rng.random(rows) < 0.01
    width[wide] *= 3
    # planted copies: 1% exact (same bytes), 1% near (pHash 1-2 bits off, appearance with noise)
    idx = rng.permutation(rows)
    n = rows // 100
    exact_src, exact_dst = idx[:n], idx[n:2 * n]
    near_src, near_dst = idx[2 * n:3 * n], idx[3 * n:4 * n]
    file_hash[exact_dst], pixel_hash[exact_dst] = file_hash[exact_src], pixel_hash[exact_src]
    phash[exact_dst], dhash[exact_dst] = phash[exact_src], dhash[exact_src]
    appearance[exact_dst] = appearance[exact_src]
    flips = (np.int64(1) << rng.integers(0, 63, n)) | (np.int64(1) << rng.integers(0, 63, n))
    phash[near_dst] = phash[near_src] ^ flips
    dhash[near_dst] = dhash[near_src]
    noisy = appearance[near_src].astype(np.int16) + rng.integers(-3, 4, (n, 256), dtype=np.int16)
    appearance[near_dst] = np.clip(noisy, 0, 255).astype(np.uint8)
    for a, b in ((width, width), (height, height)):
        a[exact_dst] = b[exact_src]
    ok = np.ones(rows, bool)
    bad = idx[4 * n:4 * n + rows // 5000]
    ok[bad] = False
    error = pd.Series(pd.NA, index=range(rows), dtype="string")
    error[bad] = "OSError: image file is truncated"
    uni = lambda lo, hi: rng.uniform(lo, hi, rows)  # noqa: E731
    brightness = uni(0.2, 0.8)
    df = pd.DataFrame({
        "path": paths.astype("string"), "label": pd.Series(labels, dtype="string"),
        "split": pd.Series(split, dtype="string"), "entry": pd.Series(["image"] * rows, dtype="string"),
        "orphan": np.zeros(rows, bool), "bytes": rng.integers(1500, 9000, rows),
        "mtime_ns": 1_795_746_116_000_000_000 + rng.integers(0, 10**12, rows),
        "file_hash": pd.Series(file_hash, dtype="string"), "pixel_hash": pd.Series(pixel_hash, dtype="string"),
        "format": pd.Series(["PNG"] * rows, dtype="string"), "width": width.astype(np.int64),
        "height": height.astype(np.int64), "exif_orientation": np.ones(rows, np.int64),
        "mode": pd.Series(["RGB"] * rows, dtype="string"), "frames": np.ones(rows, np.int64), "ok": ok,
        "error": error, "phash": phash, "dhash": dhash, "brightness": brightness,
        "contrast": uni(0.05, 0.3), "sharpness": rng.lognormal(-4, 0.6, rows), "entropy": uni(5.5, 7.5),
        "colour_entropy": uni(6.5, 9.5), "lum_p01": brightness - uni(0.15, 0.2),
        "lum_p05": brightness - uni(0.1, 0.15), "lum_p95": brightness + uni(0.1, 0.15),
        "lum_p99": brightness + uni(0.15, 0.2), "mean_r": uni(0.2, 0.8), "mean_g": uni(0.2, 0.8),
        "mean_b": uni(0.2, 0.8), "std_r": uni(0.1, 0.3), "std_g": uni(0.1, 0.3), "std_b": uni(0.1, 0.3),
    })
    for col in ("lum_p01", "lum_p05", "lum_p95", "lum_p99"):
        df[col] = df[col].clip(0, 1)
    for col in df.columns[df.columns.str.contains("_r$|_g$|_b$|brightness|contrast|sharpness|entropy")]:
        df.loc[~ok, col] = np.nan
    df["appearance"] = pd.Series([row.tobytes() for row in appearance], dtype=object)
    return df.sort_values("path", kind="stable").reset_index(drop=True)


def ensure_table(rows: int) -> tuple[Path, dict]:
    """The workspace of the synthetic table (built once); facts about how it was built."""
    from inspectors.workspace import workspace_dir
    TABLE_DATASET.mkdir(parents=True, exist_ok=True)
    ws = workspace_dir(TABLE_DATASET, None, TABLE_CACHE)
    facts_file = TABLE_CACHE / f"facts_{rows}.json"
    if facts_file.exists() and all((ws / f).exists() for f in ("samples.parquet", "findings.csv", "summary.json")):
        return ws, json.loads(facts_file.read_text())
    from inspectors.config import Config
    from inspectors.run import run, write_reports
    from inspectors.scan import write_samples
    t0 = time.perf_counter()
    samples = synthetic_samples(rows)
    t1 = time.perf_counter()
    found, summary = run(samples)
    t2 = time.perf_counter()
    ws.mkdir(parents=True, exist_ok=True)
    write_samples(samples, ws)
    write_reports(ws, found, summary, Config())
    facts = {"rows": rows, "build_s": round(t1 - t0, 1), "inspect_s": round(t2 - t1, 1),
             "findings": int(len(found)), "parquet_mb": round((ws / "samples.parquet").stat().st_size / 1e6),
             "issue_counts": {k: v for k, v in summary["issue_counts"].items() if v}}
    facts_file.write_text(json.dumps(facts, indent=2))
    print(f"table: {facts}", flush=True)
    return ws, facts


def wait_idle_since(page, started: float, timeout_s: float = 120.0, stable_s: float = 0.5) -> float:
    """Seconds from `started` until the status widget has been detached for stable_s (not counted)."""
    deadline, idle_at = time.perf_counter() + timeout_s, None
    page.wait_for_timeout(100)  # let the rerun the interaction triggers begin
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError(page.locator('[data-testid="stException"]').first.inner_text()[:1000])
        if page.locator(STATUS).count():
            idle_at = None
        elif idle_at is None:
            idle_at = now
        elif now - idle_at >= stable_s:
            return idle_at - started
        page.wait_for_timeout(40)
    raise RuntimeError(f"not idle within {timeout_s:.0f} s")


def measure_table(repeats: int) -> dict:
    """Per repeat a fresh server: first load (Overview), Browse from the navigation, a class filter."""
    out = {"first_load": [], "browse": [], "filter": [], "browse_again": [], "filter_what": None, "filter_result": None}
    for r in range(repeats):
        with open_app(TABLE_DATASET, TABLE_CACHE, DATA / "scale_streamlit.log", '[data-testid="stMetric"]') as (
                page, first_load):
            out["first_load"].append(first_load)
            nav = page.locator('[data-testid="stSidebarNav"]')
            started = time.perf_counter()
            nav.get_by_role("link", name="Browse", exact=True).click()
            out["browse"].append(wait_shown(page, "Browse", "text=/files match/", started, timeout_s=300))
            out["filter"].append(apply_filter(page, out))
            nav.get_by_role("link", name="Overview", exact=True).click()  # and back: Browse's caches are warm
            wait_shown(page, "Overview", '[data-testid="stMetric"]', time.perf_counter())
            started = time.perf_counter()
            nav.get_by_role("link", name="Browse", exact=True).click()
            out["browse_again"].append(wait_shown(page, "Browse", "text=/files match/", started, timeout_s=300))
            print(f"  repeat {r + 1}: first load {out['first_load'][-1]:.2f} s, Browse "
                  f"{out['browse'][-1]:.2f} s, filter {out['filter'][-1]:.2f} s, Browse again "
                  f"{out['browse_again'][-1]:.2f} s", flush=True)
    return out


def apply_filter(page, out: dict) -> float:
    """Pick one class in Browse's class filter (a multiselect or selectbox); seconds until idle."""
    main = page.locator('[data-testid="stMain"]')
    box = main.locator('[data-testid="stMultiSelect"], [data-testid="stSelectbox"]').filter(
        has_text=re.compile("class|label", re.I)).first
    if not box.count():
        box = main.locator('[data-testid="stMultiSelect"], [data-testid="stSelectbox"]').first
    out["filter_what"] = box.inner_text().split("\n")[0][:60]
    box.locator("input").first.click()
    option = page.get_by_role("option", name="class_03", exact=True)
    option.wait_for(timeout=30_000)
    caption = page.get_by_text(re.compile(r"files match"))
    before = caption.first.inner_text()
    started = time.perf_counter()
    option.click()
    deadline = started + 120
    while caption.first.inner_text() == before and time.perf_counter() < deadline:  # the filtered count shows
        page.wait_for_timeout(40)
    shown = time.perf_counter() - started
    took = max(shown, wait_idle_since(page, started))
    out["filter_result"] = f"{before} -> {caption.first.inner_text()}"
    page.keyboard.press("Escape")
    return took


# ---------------------------------------------------------------- the large scan

def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 16_000.0


def run_scan(dataset: Path, cache: Path, memory_limit_mb: float | None = None) -> dict:
    """Scan under /usr/bin/time -v with a /proc sampler. The scan is killed (and the result says so) when
    its process tree holds more than memory_limit_mb: by default 60% of what is available at the start,
    at most 16 GB, so a shared machine never reaches its OOM killer."""
    memory_limit_mb = memory_limit_mb or min(16_000.0, 0.6 * _available_mb())
    shutil.rmtree(cache, ignore_errors=True)
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "inspectors", "scan", str(dataset), "--cache", str(cache),
           "--quiet"]
    peaks: dict[int, tuple[str, int]] = {}
    total_rss, killed, workers_seen = [0], [False], [None]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample():
        while not done.is_set():
            pids = tree(proc.pid)  # [the scan's main process, ...its children and theirs]
            rss = 0
            for k, pid in enumerate(pids):
                hwm = status_kb(pid, "VmHWM")
                rss += status_kb(pid, "VmRSS")
                if k and b"spawn_main" in _cmdline(pid):
                    workers_seen[0] = time.perf_counter() - start
                if hwm:
                    role = "main" if k == 0 else "worker"
                    peaks[pid] = (role, max(hwm, peaks.get(pid, ("", 0))[1]))
            total_rss[0] = max(total_rss[0], rss)
            if rss > memory_limit_mb * 1024:  # the machine is shared: stop before it swaps or OOMs
                killed[0] = True
                for pid in reversed(pids):
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    failed = None
    if killed[0]:
        failed = (f"stopped by this benchmark after {wall:.0f} s: its processes held over "
                  f"{memory_limit_mb:,.0f} MB (the limit: 60% of the memory available at its start, at most 16 GB)")
    elif proc.returncode != 0:
        last = stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""
        failed = f"exited with {proc.returncode}: {last}"
    max_rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    main = [kb for role, kb in peaks.values() if role == "main"]
    workers = [kb for role, kb in peaks.values() if role == "worker"]
    return {"failed": failed, "limit_mb": memory_limit_mb, "wall_s": wall, "workers_last_seen_s": workers_seen[0],
            "time_max_rss_mb": int(max_rss.group(1)) / 1024 if max_rss else None,
            "main_hwm_mb": max(main) / 1024 if main else None,
            "worker_hwm_mb": max(workers) / 1024 if workers else None, "workers": len(workers),
            "tree_rss_mb": total_rss[0] / 1024}


def doubled(dataset: Path) -> Path:
    """Every file of `dataset` twice (a hard link named copy_<name> beside it): twice the files at no
    generation cost, every second one an exact copy of the first."""
    final = DATA / f"{dataset.name}_x2"
    if (final / "COMPLETE").exists():
        return final
    tmp = DATA / f".{dataset.name}_x2.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for path in sorted(p for p in dataset.rglob("*.png")):
        rel = path.relative_to(dataset)
        (tmp / rel.parent).mkdir(parents=True, exist_ok=True)
        os.link(path, tmp / rel)
        os.link(path, tmp / rel.parent / f"copy_{rel.name}")
    (tmp / "COMPLETE").write_text("doubled\n")
    os.replace(tmp, final)
    return final


def _du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True).stdout.split()
    return float(out[0]) if out else 0.0


# ---------------------------------------------------------------- report

SCAN_SETS = {"tiny": "32×32 PNGs, benchmarks/_data.py tiny generator: smooth gradients, many near-alike",
             "dash": "32-64 px PNGs with planted copies, benchmarks/dashboard.py generator",
             "dash_x2": "the dash set with every file hard-linked twice: each image also an exact copy"}


def dashboard_report(name: str, dash: dict) -> list[str]:
    """The app on a dataset the CLI scanned (benchmarks/dashboard.py --dataset): every page's times."""
    lines = [f"### The app on {name} ({dash['rows']:,} files, scanned by the CLI)", "",
             f"Measured {dash['measured']} with `{dash['command']}` (load average {dash['loads'][0]:.2f} at start, "
             f"{dash['loads'][1]:.2f} at the end): `streamlit run app.py -- benchmarks/data/{name}` with "
             f"INSPECTORS_CACHE={dash['cache']}, one browser session, as in \"Dashboard at 100k samples\" (first "
             "load = `page.goto` of a fresh server until the Overview shows and is idle; each page from the click "
             "on its link until its title and main content show and the app is idle; visited "
             f"{len(next(iter(dash['pages'].values())))} times in navigation order). Duplicates counts as shown when "
             "its groups table is: its pair-distance histogram comes from a background process (see the notes), "
             "with a \"measuring\" notice until then; Integrity when its table or its \"No ...\" notices are. "
             f"Goal as at 100k: every page under {DASHBOARD_GOAL_S:.0f} s after navigation (judged on the median).", "",
             f"First load: **{dash['first_load']:.2f} s**", "",
             "| page | first visit (s) | median (s) | max (s) | < 2 s (median) |", "|---|---:|---:|---:|---|"]
    for page, values in dash["pages"].items():
        median = statistics.median(values)
        lines.append(f"| {page} | {values[0]:.2f} | {median:.2f} | {max(values):.2f} | "
                     f"{'met' if median < DASHBOARD_GOAL_S else '**not met**'} |")
    return lines + [""]


def record_dashboard(dataset: Path, cache: Path, result: dict, rows: int, loads, command: str, write_doc: bool):
    """Called by benchmarks/dashboard.py --dataset: keep its figures with this script's, rewrite the section
    (with write_doc False: print the section, keep nothing)."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"table": None, "facts": None, "scans": {}}
    cache = Path(cache).resolve()
    results.setdefault("dashboards", {})[dataset.name] = dict(
        result, rows=rows, loads=list(loads), command=command,
        cache=str(cache.relative_to(REPO) if cache.is_relative_to(REPO) else cache),
        measured=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    body = report(results["table"], results["facts"], results["scans"], None,
                  results.get("command", "python benchmarks/scale.py"), results["dashboards"])
    print(body)
    if write_doc:
        RESULTS.write_text(json.dumps(results, indent=2))
        from benchmarks._doc import write_section
        write_section("Scale", body, keep="### Notes")


def report(table: dict | None, facts: dict | None, scans: dict, loads, command: str, dashboards=None) -> str:
    med = statistics.median
    lines = ["## Scale", "",
             f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command}` (each part keeps its "
             "last figures in benchmarks/data/scale_results.json, so one part can be rerun alone). Machine: "
             f"{os.cpu_count()} shared cores, 24 GiB; other sessions share these cores, so absolute seconds are "
             "inflated (load averages per part below).", ""]
    if table:
        n = len(table["first_load"])
        lines += [
            f"### {facts['rows']:,}-row samples table in the app", "",
            f"A synthetic samples table of {facts['rows']:,} rows ({facts['parquet_mb']} MB parquet; no image "
            "files, no thumbnails) with the scan's schema: 10 classes, train/val/test 80/10/10, 1% exact and 1% "
            f"near copies, 0.02% unreadable. Findings from `inspectors.run.run` on it ({facts['findings']:,} "
            f"findings, {facts['inspect_s']:.0f} s): {facts['issue_counts']}. Opened with `streamlit run app.py -- "
            "benchmarks/data/scale_1m` (INSPECTORS_CACHE=benchmarks/data/scale_1m_ws), Debian's chromium driven "
            f"by Playwright, viewport 1400×900; a fresh server per repeat, {n} repeat(s). Measured "
            f"{table.get('measured', '?')}" + (f" by `{table['command']}`" if table.get("command") else "") +
            f", load average {table.get('loads', [0, 0])[0]:.2f} at start and "
            f"{table.get('loads', [0, 0])[1]:.2f} at the end.", "",
            "First load = `page.goto` until the Overview's title and metrics show and the app is idle. Browse = "
            "the click on its link until its title and its \"N of M files match\" caption show and the app is idle. "
            "Filter = picking `class_03` in "
            f"Browse's filter ({table['filter_what']!r}) until the count caption changes and the app is idle "
            f"(idle held 0.5 s, not counted; caption: {table.get('filter_result')}). "
            f"Goal: each within {GOAL_S:.0f} s (judged on the median).", "",
            "| step | times (s) | median (s) | within 5 s |", "|---|---|---:|---|"]
        for key, name in (("first_load", "first load (Overview)"), ("browse", "Browse, first visit"),
                          ("filter", "filter (class_03)"), ("browse_again", "Browse again (after the Overview)")):
            values = table[key]
            lines.append(f"| {name} | {', '.join(f'{v:.2f}' for v in values)} | {med(values):.2f} | "
                         f"{'met' if med(values) <= GOAL_S else '**not met**'} |")
        lines.append("")
    if scans:
        lines += [
            "### Large datasets scanned by the CLI", "",
            "`python -m inspectors scan DIR --cache CACHE --quiet`, cold cache (a fresh folder), the files in "
            "the page cache. Peak memory: VmHWM per process read from /proc every 0.2 s (the scan's main "
            "process; the largest of its child processes: decode workers, the resource tracker), the largest "
            "sum of VmRSS over its process tree, and `/usr/bin/time -v` maximum RSS. \"decode done\" = when "
            "the decode workers were last seen (the rest is the inspectors and writing the reports). A scan is "
            "stopped when its tree holds more than 60% of the memory available at its start (at most 16 GB).",
            "",
            "| dataset | files | MB | wall (s) | files/s | decode done (s) | main VmHWM (MB) | child VmHWM max (MB) | "
            "tree RSS peak (MB) | time -v max RSS (MB) | completed |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for name, scan in scans.items():
            rate = f"{scan['files'] / scan['wall_s']:,.0f}" if not scan.get("failed") else "—"
            seen = scan.get("workers_last_seen_s")
            lines.append(
                f"| {name} ({SCAN_SETS[scan['set']]}) | {scan['files']:,} | {scan['mb']:,.0f} | {scan['wall_s']:.0f} | "
                f"{rate} | {f'{seen:.0f}' if seen else '—'} | {scan['main_hwm_mb'] or 0:,.0f} | "
                f"{scan['worker_hwm_mb'] or 0:,.0f} | {scan['tree_rss_mb']:,.0f} | "
                f"{scan['time_max_rss_mb'] or 0:,.0f} | "
                f"{'yes' if not scan.get('failed') else '**no**'} |")
        lines.append("")
        for name, scan in scans.items():
            text = [f"{name}: measured {scan['measured']}" + (f" by `{scan['command']}`" if scan.get("command") else "")
                    + f", load average {scan['loads'][0]:.2f} at start, {scan['loads'][1]:.2f} at the end."]
            if scan.get("failed"):
                text.append(f"**Did not complete**: {scan['failed']}; wall = until it was stopped.")
            if scan.get("note"):
                text.append(scan["note"])
            lines += ["- " + " ".join(text)]
        lines.append("")
    for name, dash in (dashboards or {}).items():
        lines += dashboard_report(name, dash)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scan-set", choices=["tiny", "dash", "dash_x2"], default="tiny")
    parser.add_argument("--skip-table", action="store_true", help="reuse the stored table figures")
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--keep-images", action="store_true", help="keep the generated images even above 1 GB")
    parser.add_argument("--keep-cache", action="store_true", help="keep the scan's cache, for benchmarks/dashboard.py")
    parser.add_argument("--note", default="", help="a sentence added under the scan figures")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"table": None, "facts": None, "scans": {}}
    loads = [os.getloadavg()[0]]
    command = shlex.join(["python", "benchmarks/scale.py", *sys.argv[1:]])
    if not args.skip_table:
        ws, results["facts"] = ensure_table(args.rows)
        table_loads = [os.getloadavg()[0]]
        results["table"] = measure_table(args.repeats)
        results["table"].update(measured=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                loads=table_loads + [os.getloadavg()[0]], command=command)
        RESULTS.write_text(json.dumps(results, indent=2))
    if not args.skip_scan:
        t0 = time.perf_counter()
        if args.scan_set == "tiny":
            dataset = ensure_set("tiny", args.files)
        else:
            from benchmarks.dashboard import ensure_dataset
            dataset = ensure_dataset(args.files // 2 if args.scan_set == "dash_x2" else args.files)
            dataset = doubled(dataset) if args.scan_set == "dash_x2" else dataset
        gen_s = time.perf_counter() - t0
        mb = _du_mb(dataset)
        scan_loads = [os.getloadavg()[0]]
        scan = run_scan(dataset, SCAN_CACHE)
        scan.update(set=args.scan_set, files=args.files, mb=mb, gen_s=gen_s, note=args.note, command=command,
                    measured=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    loads=scan_loads + [os.getloadavg()[0]])
        print(f"scan: {scan}", flush=True)
        results["scans"][dataset.name] = scan
        RESULTS.write_text(json.dumps(results, indent=2))
        if not args.keep_cache:
            shutil.rmtree(SCAN_CACHE, ignore_errors=True)
        if mb > 1000 and not args.keep_images and not dataset.name.endswith("_x2"):
            shutil.rmtree(dataset, ignore_errors=True)
    loads.append(os.getloadavg()[0])
    results["command"] = command
    RESULTS.write_text(json.dumps(results, indent=2))
    body = report(results["table"], results["facts"], results["scans"], loads, results["command"],
                  results.get("dashboards"))
    print(body)
    if not args.no_doc:
        from benchmarks._doc import write_section
        write_section("Scale", body, keep="### Notes")

if __name__ == "__main__":
    main()
