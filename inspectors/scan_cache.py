"""The scan cache: one SQLite file in the workspace, keyed by (path, size, mtime, scanner version).

SQLite gives what the cache must promise for free: commits are atomic (a kill loses at most the
uncommitted batch, never the file), a killed scan resumes from its last commit, and thumbnails live
as blobs beside the rows instead of as a million tiny files.
"""

import fcntl
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .schema import FEATURE_COLUMNS, INT_COLUMNS

KEY_COLUMNS = ["path", "size", "mtime_ns", "version"]
CACHE_FILE = "scan_cache.sqlite"


def connect(workspace: Path) -> sqlite3.Connection:
    workspace.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(workspace / CACHE_FILE, timeout=60)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(FEATURE_COLUMNS)
    existing = [row[1] for row in con.execute("PRAGMA table_info(files)")]
    if existing and existing != KEY_COLUMNS + FEATURE_COLUMNS:
        # another scanner version's columns: its rows would be re-read anyway, so start afresh
        with con:
            con.execute("DROP TABLE files")
            con.execute("DROP TABLE IF EXISTS thumbs")
    con.execute(f"CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                f"version TEXT, {cols})")
    con.execute("CREATE TABLE IF NOT EXISTS thumbs (path TEXT PRIMARY KEY, data BLOB)")
    return con


def exact_frame(records: list[tuple], names: list[str]) -> pd.DataFrame:
    """Rows of Python values -> a frame whose integer columns are exact (Int64). Left to itself, pandas makes
    an integer column that holds one None (a file that failed) float64, where a 64-bit pHash or dHash loses
    its low 11 bits."""
    df = pd.DataFrame(records, columns=names)
    columns = list(zip(*records, strict=True)) if records else [()] * len(names)
    for name, values in zip(names, columns, strict=True):
        if name in INT_COLUMNS:
            df[name] = pd.array(list(values), dtype="Int64")
    return df


def read_rows(con) -> pd.DataFrame:
    names = KEY_COLUMNS + FEATURE_COLUMNS
    return exact_frame(con.execute(f"SELECT {', '.join(names)} FROM files").fetchall(), names)


def write_rows(con, rows: list[dict], thumbs: list[tuple[str, bytes]]) -> None:
    """Insert one batch in one transaction."""
    names = KEY_COLUMNS + FEATURE_COLUMNS
    placeholders = ", ".join("?" for _ in names)
    with con:
        con.executemany(f"INSERT OR REPLACE INTO files ({', '.join(names)}) VALUES ({placeholders})",
                        [tuple(r.get(n) for n in names) for r in rows])
        if thumbs:
            con.executemany("INSERT OR REPLACE INTO thumbs (path, data) VALUES (?, ?)", thumbs)


def forget(con, paths) -> int:
    """Drop the rows (and thumbnails) of files that are gone from the dataset; returns how many."""
    paths = list(paths)
    with con:
        for i in range(0, len(paths), 500):
            batch = [(p,) for p in paths[i:i + 500]]
            con.executemany("DELETE FROM files WHERE path = ?", batch)
            con.executemany("DELETE FROM thumbs WHERE path = ?", batch)
    return len(paths)


def read_thumbnails(workspace: Path, paths) -> dict:
    """{path: image bytes} for the given paths (those the scan could thumbnail)."""
    db = Path(workspace) / CACHE_FILE
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        out = {}
        paths = list(paths)
        for i in range(0, len(paths), 500):
            batch = paths[i:i + 500]
            q = f"SELECT path, data FROM thumbs WHERE path IN ({', '.join('?' for _ in batch)})"
            out.update(con.execute(q, batch).fetchall())
        return out
    finally:
        con.close()


@contextmanager
def scan_lock(workspace: Path, on_wait=None):
    """One scan per workspace at a time: a second one waits for the first, then reuses its work."""
    workspace.mkdir(parents=True, exist_ok=True)
    with open(workspace / "scan.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cache_info(workspace: Path) -> dict:
    db = workspace / CACHE_FILE
    info = {"workspace": str(workspace), "cache_bytes": db.stat().st_size if db.exists() else 0}
    if db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            info["files"] = con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
            info["thumbnails"] = con.execute("SELECT COUNT(*) FROM thumbs").fetchone()[0]
        finally:
            con.close()
    samples = workspace / "samples.parquet"
    if samples.exists():
        info["last_scan"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(samples.stat().st_mtime))
    return info
