"""The current dataset of this browser session: where it is, its workspace, its samples table."""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from inspectors import review, scan_cache, workspace
from inspectors.config import Config
from inspectors.dataset import DatasetError, load_dataset
from inspectors.run import read_findings, read_summary, scan_and_inspect
from inspectors.scan import read_samples

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


@st.cache_resource(max_entries=4, show_spinner=False)
def _tables(workspace_dir: str, stamp: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    # cache_resource: one shared read-only copy per dataset (cache_data would unpickle one per call)
    return read_samples(workspace_dir), read_findings(f"{workspace_dir}/findings.csv"), read_summary(workspace_dir)


def samples(ds: Dataset) -> pd.DataFrame:
    return _tables(str(ds.workspace), _stamp(ds))[0]


def findings(ds: Dataset) -> pd.DataFrame:
    return _tables(str(ds.workspace), _stamp(ds))[1]


def summary(ds: Dataset) -> dict:
    return _tables(str(ds.workspace), _stamp(ds))[2]


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
