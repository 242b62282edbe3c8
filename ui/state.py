"""The current dataset of this browser session: where it is, its workspace, its samples table."""

import json
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from inspectors import pair_distances as pair_distances_module
from inspectors import review, scan_cache, sizes, workspace
from inspectors.config import Config, load_config_file
from inspectors.dataset import DatasetError, load_dataset
from inspectors.run import read_findings, read_summary, scan_and_inspect
from ui import tables

DEFAULT_DATASET = "sample_data/shapes"
RECENT_FILE = "recent_datasets.json"
RECENT_MAX = 8


@dataclass(frozen=True)
class Dataset:
    path: str  # as the user typed it
    labels: str | None
    root: Path
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
    p = Path(os.path.expanduser(path)).resolve()
    if not p.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if labels:
        lab = Path(os.path.expanduser(labels)).resolve()
        if not lab.is_file():
            raise DatasetError(f"{labels}: no such CSV file")
        return Dataset(path, labels, p, workspace.workspace_dir(p, lab))
    if p.is_file():
        return Dataset(path, None, p.parent, workspace.workspace_dir(p.parent, p))
    return Dataset(path, None, p, workspace.workspace_dir(p, None))


REPORT_FILES = ("samples.parquet", "findings.csv", "summary.json")


def scanned(ds: Dataset) -> bool:
    return all((ds.workspace / f).exists() for f in REPORT_FILES)


def _stamp(ds: Dataset) -> int:
    # a re-scan (by the app or the CLI) rewrites the files: their mtimes key the caches
    return sum((ds.workspace / f).stat().st_mtime_ns for f in REPORT_FILES)


NOT_SHOWN = ("appearance",)  # 256 bytes a row that no page shows: without them 100k rows load ~5x faster


def read_samples_for_pages(workspace_dir: str) -> pd.DataFrame:
    """samples.parquet (as inspectors.scan.read_samples reads it) less the columns no page shows."""
    path = Path(workspace_dir) / "samples.parquet"
    return pd.read_parquet(path, columns=[c for c in pq.read_schema(path).names if c not in NOT_SHOWN])


@st.cache_resource(max_entries=4, show_spinner=False)
def _tables(workspace_dir: str, stamp: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    # cache_resource: one shared read-only copy per dataset (cache_data would unpickle one per call)
    return (read_samples_for_pages(workspace_dir), read_findings(f"{workspace_dir}/findings.csv"),
            read_summary(workspace_dir))


def samples(ds: Dataset) -> pd.DataFrame:
    return _tables(str(ds.workspace), _stamp(ds))[0]


def findings(ds: Dataset) -> pd.DataFrame:
    return _tables(str(ds.workspace), _stamp(ds))[1]


def summary(ds: Dataset) -> dict:
    return _tables(str(ds.workspace), _stamp(ds))[2]


# Tables the pages derive from samples + findings, computed once per dataset and scan and shared by
# every session and rerun: a groupby over 100k rows on each click is what makes a page slow. They are
# computed in one background thread as soon as a page first loads the dataset, in this order, so the
# pages that need them usually find them ready; the near-pair distances (seconds at 100k) in a process.
DERIVED = {"with_issues": tables.with_issues, "duplicate_groups": tables.duplicate_groups}


@st.cache_resource(max_entries=4, show_spinner=False)
def _jobs(workspace_dir: str, stamp: int, duplicates_config) -> dict[str, Future]:
    samples_table, found, _ = _tables(workspace_dir, stamp)
    threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="derive")
    jobs = {name: threads.submit(fn, samples_table, found) for name, fn in DERIVED.items()}
    threads.shutdown(wait=False)  # the thread ends when its queue is done
    process = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    # the search is seconds of numpy calls that hold the GIL: in a thread of the server it would stall every
    # page meanwhile, so it runs in a spawned process, which reads the table itself
    jobs["pair_distances"] = process.submit(pair_distances_module.of_workspace, workspace_dir, duplicates_config)
    process.shutdown(wait=False)
    return jobs


def warm(ds: Dataset) -> None:
    """Start the background computations for this dataset (once per dataset and scan)."""
    _jobs(str(ds.workspace), _stamp(ds), config(ds).duplicates)


def derived(ds: Dataset, name: str) -> pd.DataFrame:
    """One of DERIVED for this dataset, waiting for it if needed (read-only: copy before changing it)."""
    return _jobs(str(ds.workspace), _stamp(ds), config(ds).duplicates)[name].result()


def pair_distances(ds: Dataset, wait_s: float = 0.0) -> pair_distances_module.PairDistances | None:
    """The near-pair distances around the threshold, or None while they are still being measured."""
    job = _jobs(str(ds.workspace), _stamp(ds), config(ds).duplicates)["pair_distances"]
    try:
        return job.result(timeout=wait_s)
    except TimeoutError:
        return None


@st.cache_resource(max_entries=16, show_spinner=False)
def _size_table(workspace_dir: str, stamp: int, column: str | None) -> pd.DataFrame:
    samples_table = _tables(workspace_dir, stamp)[0]
    return sizes.size_grid(samples_table) if column is None else tables.size_distribution(samples_table, column)


def size_distribution(ds: Dataset, column: str) -> pd.DataFrame:
    """tables.size_distribution, once per dataset and column (each is a pass over 100k rows)."""
    return _size_table(str(ds.workspace), _stamp(ds), column)


def size_grid(ds: Dataset) -> pd.DataFrame:
    return _size_table(str(ds.workspace), _stamp(ds), None)


@st.cache_resource(max_entries=4, show_spinner=False)
def _positions(workspace_dir: str, stamp: int) -> pd.Index:
    return pd.Index(_tables(workspace_dir, stamp)[0]["path"])


def rows_of(ds: Dataset, paths) -> pd.DataFrame:
    """The samples rows of these paths, in their order (a cached index: no set_index of 100k rows per call)."""
    positions = _positions(str(ds.workspace), _stamp(ds)).get_indexer(list(paths))
    return samples(ds).iloc[positions[positions >= 0]]


def config(ds: Dataset) -> Config:
    """The configuration the last scan used (config.json in the workspace), else the defaults."""
    try:
        return load_config_file(ds.workspace / "config.json")
    except (OSError, ValueError):
        return Config()


@st.cache_resource(max_entries=8, show_spinner=False)
def _sorted(workspace_dir: str, stamp: int, duplicates_config, column: str, descending: bool) -> pd.DataFrame:
    table = _jobs(workspace_dir, stamp, duplicates_config)["with_issues"].result()
    return tables.sort_table(table, column, descending)


def sorted_with_issues(ds: Dataset, column: str, descending: bool) -> pd.DataFrame:
    """with_issues sorted by a column (stable, then by path): filtering it afterwards keeps the order, so
    the sort of 100k rows is paid once per column, not on every click."""
    return _sorted(str(ds.workspace), _stamp(ds), config(ds).duplicates, column, descending)


def run_scan(ds: Dataset, progress=None):
    """Scan (only what changed since the last scan), run the inspectors, write the reports."""
    listing = load_dataset(ds.path, ds.labels)
    result, _, _, _ = scan_and_inspect(listing, Config(), ds.workspace, progress=progress)
    remember(ds)
    return result, listing


def marks(ds: Dataset) -> pd.DataFrame:
    return review.marks(ds.workspace)


def thumbnails(ds: Dataset, paths) -> dict:
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
