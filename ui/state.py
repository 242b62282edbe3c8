"""The current dataset of this browser session: where it is, its workspace, its samples table."""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from inspectors import scan_cache, workspace
from inspectors.config import ScanConfig
from inspectors.dataset import DatasetError, load_dataset
from inspectors.scan import read_samples, scan, write_samples

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


def scanned(ds: Dataset) -> bool:
    return (ds.workspace / "samples.parquet").exists()


@st.cache_resource(max_entries=4, show_spinner=False)
def _samples(workspace_dir: str, mtime_ns: int) -> pd.DataFrame:
    # keyed by mtime: a re-scan (by the app or the CLI) writes a new file and is picked up
    return read_samples(workspace_dir)


def samples(ds: Dataset) -> pd.DataFrame:
    f = ds.workspace / "samples.parquet"
    return _samples(str(ds.workspace), f.stat().st_mtime_ns)


def run_scan(ds: Dataset, progress=None):
    """Scan (only what changed since the last scan) and write samples.parquet to the workspace."""
    listing = load_dataset(ds.path, ds.labels)
    result = scan(listing, ScanConfig(), ds.workspace, progress=progress)
    write_samples(result.samples, ds.workspace)
    remember(ds)
    return result, listing


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
