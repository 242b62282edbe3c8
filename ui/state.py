"""The current dataset of this browser session: where it is, its workspace, its samples table."""

import json
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from inspectors import pair_distances as pair_distances_module
from inspectors import review, scan_cache, sizes, storage, workspace
from inspectors.config import Config, workspace_config
from inspectors.dataset import DatasetError, load_dataset, source
from inspectors.run import read_findings, read_summary, scan_and_inspect
from inspectors.schema import BINARY_COLUMNS
from ui import health, tables

DEFAULT_DATASET = "sample_data/shapes"
RECENT_FILE = "recent_datasets.json"
RECENT_MAX = 8


@dataclass(frozen=True)
class Dataset:
    path: str  # as the user typed it
    labels: str | None
    root: Path | str  # a URL for a dataset in object storage
    workspace: Path


def command_line_dataset(argv=None) -> tuple[str | None, str | None]:
    """`streamlit run app.py -- DATASET [--labels CSV]`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    labels = None
    if "--labels" in argv:
        i = argv.index("--labels")
        labels = argv[i + 1] if i + 1 < len(argv) else None
        del argv[i:i + 2]
    return (argv[0] if argv else None), labels


def resolve(path: str, labels: str | None) -> Dataset:
    """Where this dataset's workspace is; raises DatasetError with a message for the page."""
    if not path:
        raise DatasetError("no dataset path given")
    if storage.is_url(path) or storage.is_url(labels):  # listed only by a scan: nothing to check here
        path = storage.public_url(path) if storage.is_url(path) else path  # kept in recent_datasets.json
        root, manifest = source(path, labels or None)
        return Dataset(path, labels or None, root, workspace.workspace_dir(root, manifest))
    p = Path(os.path.expanduser(path)).resolve()
    if not p.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if labels and not Path(os.path.expanduser(labels)).is_file():
        raise DatasetError(f"{labels}: no such CSV file")
    # keyed as the CLI keys it (a folder's own manifest included): both find each other's work
    root, manifest = source(path, labels or None)
    target = workspace.workspace_dir(root, manifest)
    if manifest is not None and not labels and p.is_dir():
        # until 2026-11-27 the app keyed such a folder without its manifest: take that work (review marks,
        # runs) along; where the CLI's workspace exists too, stay with the app's, never hiding its marks
        legacy = workspace.workspace_dir(p, None)
        if legacy != target and legacy.is_dir():
            if target.exists():
                target = legacy
            else:
                legacy.rename(target)
    return Dataset(path, labels or None, root, target)


REPORT_FILES = ("samples.parquet", "findings.csv", "summary.json")


def scanned(ds: Dataset) -> bool:
    return all((ds.workspace / f).exists() for f in REPORT_FILES)


def _stamp(ds: Dataset) -> int:
    # a re-scan (by the app or the CLI) rewrites the files: their mtimes key the caches
    return sum((ds.workspace / f).stat().st_mtime_ns for f in REPORT_FILES)


NOT_SHOWN = tuple(BINARY_COLUMNS)  # bytes a row that no page shows: most of the table's reading time


def read_samples_for_pages(workspace_dir: str) -> pd.DataFrame:
    """samples.parquet (as inspectors.scan.read_samples reads it) less the columns no page shows. On one
    thread: it runs beside a page, and pyarrow's pool would take both cores, slowing the read and the page
    alike (docs/benchmarks.md, "Scale")."""
    path = Path(workspace_dir) / "samples.parquet"
    return pd.read_parquet(path, columns=[c for c in pq.read_schema(path).names if c not in NOT_SHOWN],
                           use_threads=False)


@st.cache_resource(max_entries=4, show_spinner=False)
def _reading(workspace_dir: str, stamp: int) -> Future:
    """samples.parquet, read in a background thread (it takes seconds on a big dataset), started as a page opens (its
    decoding leaves the GIL to the page); the Overview reads only its few columns (overview_rows).
    cache_resource: one shared read-only copy per dataset (cache_data would unpickle one per call)."""
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read")
    future = thread.submit(read_samples_for_pages, workspace_dir)
    thread.shutdown(wait=False)
    return future


@st.cache_resource(max_entries=4, show_spinner=False)
def _findings(workspace_dir: str, stamp: int) -> pd.DataFrame:
    return read_findings(f"{workspace_dir}/findings.csv")


@st.cache_resource(max_entries=4, show_spinner=False)
def _summary(workspace_dir: str, stamp: int) -> dict:
    out = read_summary(workspace_dir)
    if not isinstance(out, dict):
        raise ValueError(f"JSON, but a {type(out).__name__}, not an object")
    return out


def content_of(ds: Dataset, paths) -> dict:
    """{path: 32x32 content thumbnail bytes} of a few samples, read from samples.parquet (the pages' table
    leaves the binary columns out)."""
    table = pq.read_table(ds.workspace / "samples.parquet", columns=["path", "content"],
                          filters=[("path", "in", list(paths))])
    return {p: c for p, c in zip(table.column("path").to_pylist(), table.column("content").to_pylist(), strict=True)
            if c is not None}


def samples(ds: Dataset) -> pd.DataFrame:
    return _reading(str(ds.workspace), _stamp(ds)).result()


def findings(ds: Dataset) -> pd.DataFrame:
    return _findings(str(ds.workspace), _stamp(ds))


def summary(ds: Dataset) -> dict:
    return _summary(str(ds.workspace), _stamp(ds))


OVERVIEW_COLUMNS = ["path", "label", "ok", "width", "height", "exif_orientation"]


@st.cache_resource(max_entries=4, show_spinner=False)
def _overview_rows(workspace_dir: str, stamp: int) -> pd.DataFrame:
    return pd.read_parquet(Path(workspace_dir) / "samples.parquet", columns=OVERVIEW_COLUMNS)


def overview_rows(ds: Dataset) -> pd.DataFrame:
    """The samples columns the Overview shows: a few, so the first page does not wait for the whole table."""
    return _overview_rows(str(ds.workspace), _stamp(ds))


# Tables the pages derive from samples + findings, computed once per dataset and scan and shared by
# every session and rerun: a groupby over 100k rows on each click is what makes a page slow. They are
# computed in one background thread as soon as a page first loads the dataset, in this order, so the
# pages that need them usually find them ready. Then the near-pair distances (the slowest of them on a big
# dataset) start, in a process of low priority, so that they do not slow the pages meanwhile.
DERIVED = {"with_issues": tables.with_issues, "path_order": lambda samples, _: tables.path_order(samples),
           "duplicate_groups": tables.duplicate_groups}
BACKGROUND_NICE = 10  # the pair-distance process yields the CPU to the server (`nice`'s default step)


def _background_process_init(server_pid: int) -> None:
    """In the pair-distance process: a low priority, and an exit as soon as the server that started it is
    gone (else a stopped server would leave its search running, for a long time on a big dataset)."""
    os.nice(max(0, BACKGROUND_NICE - os.nice(0)))  # on Linux it started niced already (below)

    def watch():
        while os.getppid() == server_pid:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="exit-with-server").start()


def _start_pair_distances(workspace_dir: str, duplicates_config, result: Future) -> None:
    # the scan saves its own distances (pair_distances.FILE): read here, a file read, where starting a process
    # would take seconds. Measuring them again is seconds of numpy calls that hold the GIL: in a thread of the
    # server it would stall every page meanwhile, so it runs in a spawned process, which reads the table itself
    try:
        saved = pair_distances_module.read(workspace_dir, duplicates_config)
        if saved is not None:
            result.set_result(saved)
            return
        if sys.platform == "linux":  # nice is per thread there, and a process inherits its starter's: then
            # the process is niced from its first import on (its imports are seconds of CPU beside a page)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        process = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_background_process_init, initargs=(os.getpid(),))
        job = process.submit(pair_distances_module.measured, workspace_dir, duplicates_config)
        process.shutdown(wait=False)
    except Exception as exc:  # the page shows it rather than "measuring…" forever
        result.set_exception(exc)
        return
    job.add_done_callback(lambda done: result.set_exception(done.exception()) if done.exception()
                          else result.set_result(done.result()))


@st.cache_resource(max_entries=4, show_spinner=False)
def _jobs(workspace_dir: str, stamp: int, duplicates_config) -> dict[str, Future]:
    reading, found = _reading(workspace_dir, stamp), _findings(workspace_dir, stamp)
    threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="derive")
    jobs = {name: threads.submit(lambda fn=fn: fn(reading.result(), found)) for name, fn in DERIVED.items()}
    threads.shutdown(wait=False)  # the thread ends when its queue is done
    return jobs


@st.cache_resource(max_entries=4, show_spinner=False)
def _pair_job(workspace_dir: str, stamp: int, duplicates_config) -> Future:
    # started by the first visit to a page that shows it, not with the other jobs: aligning every candidate
    # pair again is minutes of CPU at 100k pictures, which would slow every other page meanwhile
    result = Future()
    threading.Thread(target=_start_pair_distances, args=(workspace_dir, duplicates_config, result), daemon=True,
                     name="pair-distances").start()
    return result


def start_reading(ds: Dataset) -> None:
    """Start reading the samples table in the background (once per dataset and scan)."""
    _reading(str(ds.workspace), _stamp(ds))


def warm(ds: Dataset) -> None:
    """Start the background computations for this dataset (once per dataset and scan). app.py calls it
    after the page has run: they are Python that holds the GIL, and would slow the page's first run."""
    _jobs(str(ds.workspace), _stamp(ds), config(ds).duplicates)


def derived(ds: Dataset, name: str) -> pd.DataFrame:
    """One of DERIVED for this dataset, waiting for it if needed (read-only: copy before changing it)."""
    return _jobs(str(ds.workspace), _stamp(ds), config(ds).duplicates)[name].result()


def pair_distances(ds: Dataset, wait_s: float = 0.0) -> pair_distances_module.PairDistances | None:
    """The near-pair distances around the threshold, or None while they are still being measured."""
    job = _pair_job(str(ds.workspace), _stamp(ds), config(ds).duplicates)
    try:
        return job.result(timeout=wait_s)
    except TimeoutError:
        return None


@st.cache_resource(max_entries=16, show_spinner=False)
def _size_table(workspace_dir: str, stamp: int, column: str | None) -> pd.DataFrame:
    samples_table = _reading(workspace_dir, stamp).result()
    return sizes.size_grid(samples_table) if column is None else tables.size_distribution(samples_table, column)


def size_distribution(ds: Dataset, column: str) -> pd.DataFrame:
    """tables.size_distribution, once per dataset and column (each is a pass over 100k rows)."""
    return _size_table(str(ds.workspace), _stamp(ds), column)


def size_grid(ds: Dataset) -> pd.DataFrame:
    return _size_table(str(ds.workspace), _stamp(ds), None)


@st.cache_resource(max_entries=4, show_spinner=False)
def _positions(workspace_dir: str, stamp: int) -> pd.Index:
    return pd.Index(_reading(workspace_dir, stamp).result()["path"])


def positions_of(ds: Dataset, paths) -> np.ndarray:
    """The row positions of these paths in samples (and in with_issues: same rows), in their order; unknown
    paths are left out. A cached index: no set_index of 1M rows per call."""
    positions = _positions(str(ds.workspace), _stamp(ds)).get_indexer(list(paths))
    return positions[positions >= 0]


def rows_of(ds: Dataset, paths) -> pd.DataFrame:
    """The samples rows of these paths, in their order."""
    return samples(ds).iloc[positions_of(ds, paths)]


def config(ds: Dataset) -> Config:
    """The workspace's settings (config.workspace_config); the defaults where its config.json is damaged, for
    the pages' derived tables (a scan says what is wrong with the file instead)."""
    try:
        return workspace_config(ds.workspace)
    except ValueError:
        return Config()


@st.cache_resource(max_entries=16, show_spinner=False)
def _order(workspace_dir: str, stamp: int, duplicates_config, column: str, descending: bool) -> np.ndarray:
    jobs = _jobs(workspace_dir, stamp, duplicates_config)
    return tables.sort_order(jobs["with_issues"].result(), column, descending, jobs["path_order"].result())


def sort_order(ds: Dataset, column: str, descending: bool) -> np.ndarray:
    """Row positions of with_issues sorted by a column (stable, then by path), once per dataset and column:
    a page filters with a mask and takes only the rows it shows, instead of sorting or copying 1M rows."""
    return _order(str(ds.workspace), _stamp(ds), config(ds).duplicates, column, descending)


def run_scan(ds: Dataset, progress=None):
    """Scan (only what changed since the last scan), run the inspectors, write the reports, with the
    workspace's settings."""
    settings = workspace_config(ds.workspace)  # what the CLI set (--set, --config) stays set
    # a URL dataset's credentials: the standard environment and $INSPECTORS_STORAGE_OPTIONS, never the page
    listing = load_dataset(ds.path, ds.labels, settings.load, storage.storage_options())
    result, _, _, _ = scan_and_inspect(listing, settings, ds.workspace, progress=progress)
    remember(ds)
    return result, listing


@st.cache_data(max_entries=4096, show_spinner=False)
def _file_problem(path: str, size: int, mtime_ns: int) -> str | None:
    return health.file_problem(path)  # size and mtime key the cache: a rewritten file is looked at again


def problem(path: Path) -> str | None:
    """Why a workspace file is damaged (ui/health.py), or None; looked at again only when it changes."""
    try:
        info = path.stat()
    except OSError:
        return None
    return _file_problem(str(path), info.st_size, info.st_mtime_ns)


def damaged(ds: Dataset, names=None) -> dict[Path, str]:
    """{file: why it is damaged} for the workspace's files the pages read (or only those named)."""
    files = health.watched(ds.workspace) if names is None else [ds.workspace / n for n in names]
    return {path: reason for path in files if (reason := problem(path))}


def damaged_reports(ds: Dataset) -> dict[Path, str]:
    """The scan's report files that do not read. findings.csv and summary.json are judged by loading them
    as the pages do (once per scan, cached: a separate check would parse a 100k-row findings.csv twice)."""
    out = damaged(ds, ("samples.parquet",))
    for name, load in (("findings.csv", findings), ("summary.json", summary)):
        try:
            load(ds)
        except Exception as exc:  # whatever the parser raised: the app scans again and says why
            out[ds.workspace / name] = f"{type(exc).__name__}: {str(exc)[:160]}"
    return out


def marks_writable(ds: Dataset) -> bool:
    """False while review.sqlite is damaged: marks are then never written (they are the user's work)."""
    return problem(ds.workspace / review.REVIEW_FILE) is None


def marks(ds: Dataset) -> pd.DataFrame:
    """The review marks; none while the store is damaged (the app says so above every page; marking is off)."""
    empty = pd.DataFrame(columns=["path", "decision", "new_label", "note", "updated"])
    if not marks_writable(ds):
        return empty
    try:
        return review.marks(ds.workspace)
    except review.ReviewStoreDamaged:  # damaged since the cached look above: the next rerun names it
        return empty


def thumbnails(ds: Dataset, paths) -> dict:
    """{path: thumbnail bytes}; none while the scan cache is damaged (the app says so above every page)."""
    return scan_cache.read_thumbnails(ds.workspace, list(paths))


def recent() -> list[dict]:
    f = workspace.cache_root() / RECENT_FILE
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return []


def remember(ds: Dataset) -> None:
    entry = {"path": ds.path, "labels": ds.labels}
    items = [entry] + [r for r in recent() if r != entry]
    workspace.atomic_write_text(workspace.cache_root() / RECENT_FILE, json.dumps(items[:RECENT_MAX], indent=1))


def current() -> Dataset | None:
    return st.session_state.get("dataset")
