"""Where results live: one folder per dataset, outside the dataset, under the user's cache root."""

import errno
import hashlib
import json
import os
import posixpath
import re
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from . import storage

CACHE_ENV = "INSPECTORS_CACHE"


def cache_root(override=None) -> Path:
    if override:
        return Path(override).expanduser().resolve()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "image-inspectors"


def dataset_id(root, labels_csv=None) -> str:
    """A short, stable id: the same dataset (root + manifest) always lands in the same workspace. A URL is
    keyed as storage.public_url gives it: no user info, no query string, so no secret."""
    def absolute(p):
        return storage.public_url(p) if storage.is_url(p) else os.path.abspath(p)
    key = os.fsencode(absolute(root)) + b"\0" + os.fsencode(absolute(labels_csv) if labels_csv else "")
    name = posixpath.basename(absolute(root)) or "root"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    return f"{safe}-{hashlib.sha256(key).hexdigest()[:12]}"


def workspace_dir(root, labels_csv=None, cache=None) -> Path:
    return cache_root(cache) / dataset_id(root, labels_csv)


def ensure_outside(folder: Path, dataset_root, what="the workspace", option="--cache") -> None:
    """Refuse a folder we write inside the dataset: nothing we do may write there (and the next scan would
    list what we wrote as the dataset's files)."""
    if storage.is_url(dataset_root):
        if not str(dataset_root).startswith("file://"):
            return  # the workspace is a local folder: it cannot lie inside a bucket
        dataset_root = str(dataset_root)[len("file://"):]
    ws, root = os.path.realpath(folder), os.path.realpath(dataset_root)
    if ws == root or ws.startswith(root.rstrip(os.sep) + os.sep):
        raise ValueError(f"{what} {folder} lies inside the dataset {dataset_root}; "
                         f"choose another {option} so the dataset stays untouched")


class NoSpaceError(Exception):
    """The disk holding a folder we write is full. The message names the folder, about how much more space
    the work needs there and how much is free; what was written before stays valid (SQLite rolls the batch
    back, files are replaced only whole)."""

    def __init__(self, folder, needed: int):
        self.folder, self.needed = Path(folder), int(needed)
        probe = self.folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            free = f"{_megabytes(shutil.disk_usage(probe).free)} is free"
        except OSError:
            free = "the free space is unknown"
        super().__init__(f"no space left on the device holding {self.folder}: it needs about "
                         f"{_megabytes(self.needed)} more ({free}). Free some space there or choose another "
                         f"folder (--cache DIR, --out DIR); what was already written is intact, and running the "
                         f"same command again resumes")


def _megabytes(n: int) -> str:
    return f"{max(n, 0) / 2**20:,.1f} MB"


def is_disk_full(exc: BaseException) -> bool:
    """A write failed for want of space: SQLite's SQLITE_FULL, or ENOSPC / EDQUOT from the OS."""
    if isinstance(exc, sqlite3.OperationalError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def is_damaged(exc: BaseException) -> bool:
    """SQLite says the file is not a database or is malformed (garbage, truncated); never a lock or a full
    disk, which say nothing about the file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    text = str(exc)
    return isinstance(exc, sqlite3.DatabaseError) and (
        code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
        or "file is not a database" in text or "malformed" in text)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write to a temp file beside the target, then rename: a kill never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if is_disk_full(exc):
            raise NoSpaceError(path.parent, len(data)) from exc
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


MARKER = "workspace.json"  # written when a scan first uses the folder: it names the dataset
# Every name a workspace holds at its top level (the scan's, the app's and the baselines' files). A folder
# under the cache root is a workspace when it holds the marker or some of these, and nothing else: `cache
# info|clear` never list or delete a folder holding anything else (a dataset kept under the cache root, say).
# A new kind of workspace file must be named here, or `cache clear` leaves its workspace alone.
WORKSPACE_FILES = {
    MARKER, "scan.lock", "scan_cache.sqlite", "scan_cache.sqlite-wal", "scan_cache.sqlite-shm",
    "scan_cache.sqlite-journal", "scan_cache_rows.parquet", "samples.parquet", "findings.csv", "summary.json",
    "config.json", "review.sqlite", "review.sqlite-wal", "review.sqlite-shm", "review.sqlite-journal",
    "tolerance.json", "human_baseline.json", "cleaned_manifest.csv", "pair_distances.parquet",
}
WORKSPACE_FOLDERS = {"runs", "jobs", "label_issues", "tensors"}
SET_ASIDE = ".damaged-"  # scan_cache.sqlite.damaged-<time>: a damaged cache, renamed, never deleted
_TEMPORARY = re.compile(r"^\.(.+)\.[A-Za-z0-9_]+\.tmp$")  # atomic_write_bytes' file before its rename


def _is_workspace_entry(entry: os.DirEntry) -> bool:
    if entry.is_dir(follow_symlinks=False):
        return entry.name in WORKSPACE_FOLDERS
    temporary = _TEMPORARY.match(entry.name)
    name = temporary.group(1) if temporary else entry.name
    return name.partition(SET_ASIDE)[0] in WORKSPACE_FILES  # scan_cache.sqlite.damaged-<time> is one too


def foreign_entries(folder) -> list[str] | None:
    """None when the folder is a workspace; else the names in it that no workspace holds (empty when it
    holds nothing of a workspace's at all)."""
    with os.scandir(folder) as entries:
        ours, theirs = [], []
        for entry in entries:
            (ours if _is_workspace_entry(entry) else theirs).append(entry.name)
    return None if ours and not theirs else sorted(theirs)


def is_workspace(folder) -> bool:
    folder = Path(folder)
    return folder.is_dir() and not folder.is_symlink() and foreign_entries(folder) is None


def mark_workspace(folder, dataset_root, labels_csv=None) -> None:
    """Create the workspace (if new) with its marker, naming the dataset it belongs to."""
    marker = Path(folder) / MARKER
    if not marker.exists():
        atomic_write_text(marker, json.dumps({"tool": "image-inspectors", "dataset": str(dataset_root),
                                              "labels": str(labels_csv) if labels_csv else None,
                                              "created": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))


def workspace_marker(folder) -> dict:
    """The workspace's marker ({} for a workspace made before markers existed, or an unreadable one)."""
    try:
        meta = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def workspace_dataset(folder) -> str | None:
    """The dataset a workspace's marker names (None for a workspace made before markers existed)."""
    return workspace_marker(folder).get("dataset")


def list_workspaces(cache=None) -> tuple[list[Path], list[Path]]:
    """(workspaces, other folders) under the cache root."""
    root = cache_root(cache)
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return [p for p in folders if is_workspace(p)], [p for p in folders if not is_workspace(p)]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def remove_workspace(path: Path) -> None:
    """Delete a workspace: only what a workspace holds; refuses (ValueError) a folder holding anything else."""
    foreign = foreign_entries(path) if path.is_dir() and not path.is_symlink() else ["(not a folder)"]
    if foreign is not None:
        raise ValueError(f"{path} is not a workspace of this tool" + (
            f": it holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}; left as it is" if foreign
            else "; left as it is"))
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    path.rmdir()
