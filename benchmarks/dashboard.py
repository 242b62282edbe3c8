"""The dashboard at 100,000 samples, in a real browser: the first load, then every page from a click in
the navigation until the page is idle (median of 3 visits). Figures go to docs/benchmarks.md.

    .venv/bin/python benchmarks/dashboard.py [--count 100000] [--visits 3] [--no-doc]
    .venv/bin/python benchmarks/dashboard.py --dataset DIR [--cache CACHE] [--visits 3] [--no-doc]

With --dataset, an existing dataset folder is opened instead (scanned into CACHE first if it is not
there yet), and the figures go to the "## Scale" section (through benchmarks/scale.py's results file),
e.g. the 200,000-file set that `benchmarks/scale.py --keep-cache` scanned:
    .venv/bin/python benchmarks/dashboard.py --dataset benchmarks/data/tiny_200000 \
        --cache benchmarks/data/scale_scan_cache

The dataset (benchmarks/data/dash_100000, gitignored) is generated once: small PNGs (32-64 px, some
wider or taller) in a folder per class under train/ and val/, with planted exact copies, near copies
(re-encoded with noise or resized by a few pixels), copies that leak from train to val, and a few
broken files, so every page has something to show. It is scanned once with our CLI into its own cache
(benchmarks/data/dash_cache); the app is then started on it with INSPECTORS_CACHE pointing there, and
Debian's chromium is driven with Playwright.
"""

import argparse
import contextlib
import io
import multiprocessing as mp
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._data import DATA  # noqa: E402
from ui import pages  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CACHE = DATA / "dash_cache"
SEED = 20_261_126
CLASSES = 10
VAL_SHARE = 0.15
SIDES = (32, 40, 48, 56, 64)


def _rng(index: int) -> np.random.Generator:
    return np.random.default_rng([SEED, index])


def split_of(index: int) -> str:
    return "val" if _rng(index).random() < VAL_SHARE else "train"


def source_of(index: int) -> int:
    """The image a planted copy copies (itself for an original); see file_bytes."""
    slot = index % 100
    return index - {1: 1, 2: 2, 3: 53}[slot] if slot in (1, 2, 3) and index >= 53 else index


def relative_path(index: int) -> str:
    # a copy keeps its source's class (a copy with another label is a different issue)
    return f"{split_of(index)}/class_{source_of(index) % CLASSES:02d}/img_{index:06d}.png"


def original(index: int) -> Image.Image:
    """A smooth random colour field (a coarse random grid, upsampled), one or two shapes, light noise; the
    size varies a little, now and then a lot. A plain linear gradient would not do: thousands of images
    would then share their perceptual hashes, which no real dataset does."""
    rng = _rng(index)
    rng.random()  # the split's draw
    w = h = int(rng.choice(SIDES))
    odd = rng.random()
    if odd < 0.01:
        w = w * 3  # a wide strip now and then
    elif odd < 0.02:
        h = h * 3
    cells = int(rng.integers(3, 6))
    coarse = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    canvas = Image.fromarray(coarse, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 3))):
        x0, y0 = int(rng.integers(0, w * 2 // 3)), int(rng.integers(0, h * 2 // 3))
        x1, y1 = x0 + int(rng.integers(w // 5, w // 2.5)), y0 + int(rng.integers(h // 5, h // 2.5))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    img = np.asarray(canvas, dtype=np.int16) + rng.integers(-6, 7, (h, w, 3), dtype=np.int16)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def near_copy(image: Image.Image, index: int) -> Image.Image:
    """What a re-export does: a few pixels off in size, or fresh noise, or a small exposure change."""
    rng = _rng(index)
    kind = index % 3
    if kind == 0:
        return image.resize((image.width + 4, image.height + 4), Image.Resampling.BILINEAR)
    arr = np.asarray(image, dtype=np.int16)
    if kind == 1:
        arr = arr + rng.integers(-4, 5, arr.shape, dtype=np.int16)
    else:
        arr = arr * 1.06 + 6
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def file_bytes(index: int) -> bytes:
    """Per 100 files: #1 is an exact copy of #0 (same bytes), #2 a near copy of #0, #3 a near copy of
    #50 (often in another split: a leak); every 5,000th file is truncated (corrupt)."""
    source = source_of(index)
    if index % 100 == 1 and source != index:
        return png(original(source))
    if source != index:
        return png(near_copy(original(source), index))
    data = png(original(index))
    return data[: len(data) // 2] if index % 5000 == 4999 else data


def _write(job):
    folder, index = job
    target = Path(folder) / relative_path(index)
    target.write_bytes(file_bytes(index))
    return target.stat().st_size


def ensure_dataset(count: int, workers: int = 2) -> Path:
    final = DATA / f"dash_{count}"
    if (final / "COMPLETE").exists():
        return final
    tmp = DATA / f".dash_{count}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for split in ("train", "val"):
        for c in range(CLASSES):
            (tmp / split / f"class_{c:02d}").mkdir(parents=True, exist_ok=True)
    start, total = time.perf_counter(), 0
    with mp.get_context("spawn").Pool(workers) as pool:
        for n, size in enumerate(pool.imap_unordered(_write, ((str(tmp), i) for i in range(count)), chunksize=256), 1):
            total += size
            if n % 20_000 == 0:
                print(f"  generated {n:,}/{count:,}", flush=True)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    # outside the class folders' tree of images, the marker would be an unsupported file: keep it at the root
    (final / "COMPLETE").write_text(f"{count} files, {total} bytes, seed {SEED}\n")
    print(f"generated {final} ({count:,} files, {total / 1e6:,.0f} MB) in {time.perf_counter() - start:.0f} s",
          flush=True)
    return final


def ensure_scanned(dataset: Path, cache: Path = CACHE) -> float | None:
    """Scan with our CLI into the benchmark's own cache; returns the seconds if it scanned."""
    from inspectors.workspace import workspace_dir
    ws = workspace_dir(dataset, None, cache)
    if all((ws / f).exists() for f in ("samples.parquet", "findings.csv", "summary.json")):
        return None
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inspectors", "scan", str(dataset), "--cache", str(cache), "--quiet"],
                   cwd=REPO, check=True)
    return time.perf_counter() - start


# what marks a page's main content as shown, for the data pages (the lab pages train: not timed here)
# Duplicates counts as shown with its groups table. Its pair-distance histogram is saved by the CLI's scan (as
# here); where it is not (other settings, an older workspace), a background process aligns every candidate pair
# again (minutes at 100k) and the page's run waits for it at its end: not idle until then
CONTENT = {"overview": '[data-testid="stMetric"]', "browse": '[data-testid="stImage"] img',
           "duplicates": '[data-testid="stDataFrame"]', "integrity": '[data-testid="stDataFrame"]',
           "balance": '[data-testid="stPlotlyChart"]', "sizes": '[data-testid="stPlotlyChart"]',
           "quality": '[data-testid="stImage"] img', "review": '[data-testid="stDataFrame"]'}
# (sidebar label, <h1> title, main-content selector), in the app's order
PAGES = [(p.label, p.title, CONTENT[p.name]) for p in pages.PAGES if p.name in CONTENT]
# with --dataset, a set made for something else: Integrity may have no table, only its "No ..." notices
OTHER_DATASET = {"Integrity": '[data-testid="stDataFrame"], [data-testid="stAlert"]'}
STATUS = '[data-testid="stStatusWidget"]'
EXCEPTION = '[data-testid="stException"]'
STABLE_S = 0.5  # idle must hold this long (a rerun can start just after one ends); not counted in the time


def wait_shown(page, title: str, content: str, started: float, timeout_s: float = 120.0) -> float:
    """Seconds from `started` until the page's title and main content are visible and the app is idle
    (the status widget detached), confirmed by staying so for STABLE_S; fails on an exception box."""
    deadline = time.perf_counter() + timeout_s
    heading = page.get_by_role("heading", name=title, level=1, exact=True)
    shown_at = None
    while time.perf_counter() < deadline:
        if page.locator(EXCEPTION).count():
            raise RuntimeError(f"{title}: {page.locator(EXCEPTION).first.inner_text()[:1000]}")
        ready = (heading.count() and heading.is_visible() and page.locator(content).count()
                 and page.locator(content).first.is_visible() and not page.locator(STATUS).count())
        now = time.perf_counter()
        if ready and shown_at is None:
            shown_at = now
        elif not ready:
            shown_at = None
        if shown_at is not None and now - shown_at >= STABLE_S:
            return shown_at - started
        page.wait_for_timeout(40)
    raise RuntimeError(f"{title}: not shown within {timeout_s:.0f} s")


@contextlib.contextmanager
def open_app(dataset: Path, cache: Path, log: Path, shown: str):
    """A fresh server on dataset and a chromium page on it: yields (page, seconds from `goto` until the
    Overview shows `shown` and is idle). Server and browser are stopped on the way out."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
    from tests.browser.helpers import Server

    server = Server(dataset, cache, log)
    try:
        server.wait_healthy()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            started = time.perf_counter()
            page.goto(server.url + "/", wait_until="domcontentloaded")
            yield page, wait_shown(page, "Overview", shown, started, timeout_s=300)
            browser.close()
    finally:
        server.stop()


def measure(dataset: Path, visits: int, cache: Path = CACHE, content: dict | None = None) -> dict:
    """content: a page's main-content selector instead of the one in PAGES."""
    times = {label: [] for label, _, _ in PAGES}
    with open_app(dataset, cache, DATA / "dash_streamlit.log", PAGES[0][2]) as (page, first_load):
        print(f"  first load {first_load:.2f} s", flush=True)
        nav = page.locator('[data-testid="stSidebarNav"]')
        order = PAGES[1:] + PAGES[:1]  # from the Overview on, every page is reached by a click
        for visit in range(visits):
            for label, title, shown in order:
                shown = (content or {}).get(label, shown)
                link = nav.get_by_role("link", name=label, exact=True)
                started = time.perf_counter()
                link.click()
                times[label].append(wait_shown(page, title, shown, started))
                print(f"  visit {visit + 1}: {label:<20} {times[label][-1]:.2f} s", flush=True)
    return {"first_load": first_load, "pages": times}


def report(result: dict, count: int, scan_seconds, loads: tuple, rows: int, command: str) -> str:
    goal = 2.0
    lines = [
        "## Dashboard at 100k samples", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`: the app "
        f"(`streamlit run app.py -- benchmarks/data/dash_{count}`, INSPECTORS_CACHE=benchmarks/data/dash_cache) in "
        f"Debian's chromium driven by Playwright, viewport 1400×900, one browser session.",
        f"Machine: {os.cpu_count()} shared cores, load average {loads[0]:.2f} at start and {loads[1]:.2f} at the end "
        "(other sessions were running benchmarks and tests on the same cores: absolute seconds are inflated).",
        f"Dataset: {rows:,} files (32-64 px PNGs, 1% three times wider or taller, in 10 classes under train/ and "
        "val/; per 100 files one exact copy and two near copies, one of them often across splits; every 5,000th "
        "file truncated), scanned with `python -m inspectors scan DATASET --cache benchmarks/data/dash_cache`"
        + (f" in {scan_seconds:.0f} s." if scan_seconds else " beforehand."),
        "",
        "First load = from `page.goto` of a freshly started server until the Overview is shown and idle (the "
        "server reads the tables and computes the page). Page = from the click on its link in the navigation "
        "until its title and main content are visible and `[data-testid=\"stStatusWidget\"]` is detached "
        f"(held {STABLE_S} s, not counted). Each page visited {len(next(iter(result['pages'].values())))} times "
        "in navigation order; the first visit of a page fills its per-dataset caches.",
        "",
        "Main content: Overview its metrics, Browse and Quality a thumbnail, Duplicates its groups table (its "
        "pair-distance histogram saved by the scan), Balance and Sizes their chart, "
        "Integrity and Review their table. Goal: every page under 2 s after navigation (judged on the median).",
        "",
        f"First load: **{result['first_load']:.2f} s**",
        "",
        "| page | first visit (s) | median (s) | max (s) | < 2 s |",
        "|---|---:|---:|---:|---|",
    ]
    for label, values in result["pages"].items():
        median = statistics.median(values)
        lines.append(f"| {label} | {values[0]:.2f} | {median:.2f} | {max(values):.2f} | "
                     f"{'met' if median < goal else '**not met**'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true", help="print the section, do not write docs/benchmarks.md")
    parser.add_argument("--prepare-only", action="store_true", help="generate and scan the dataset, then stop")
    parser.add_argument("--dataset", type=Path, help="open this dataset folder instead of generating dash_COUNT; "
                                                     "the figures go to the Scale section")
    parser.add_argument("--cache", type=Path, default=CACHE, help="the cache that holds (or will hold) its scan")
    args = parser.parse_args()
    dataset = args.dataset or ensure_dataset(args.count)
    scan_seconds = ensure_scanned(dataset, args.cache)
    if args.prepare_only:
        return
    from inspectors.scan import read_samples
    from inspectors.workspace import workspace_dir
    rows = len(read_samples(workspace_dir(dataset, None, args.cache)))
    start_load = os.getloadavg()[0]
    result = measure(dataset, args.visits, args.cache, OTHER_DATASET if args.dataset else None)
    loads = (start_load, os.getloadavg()[0])
    command = shlex.join(["python", "benchmarks/dashboard.py", *sys.argv[1:]])
    if args.dataset:
        from benchmarks import scale  # it imports this module: import it only here
        scale.record_dashboard(dataset, args.cache, result, rows, loads, command, write_doc=not args.no_doc)
        return
    body = report(result, args.count, scan_seconds, loads, rows, command)
    print(body)
    if not args.no_doc:
        from benchmarks._doc import write_section
        write_section("Dashboard at 100k samples", body, keep="### Notes")


if __name__ == "__main__":
    main()
