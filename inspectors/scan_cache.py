"""The scan cache: one SQLite file in the workspace, keyed by (path, size, mtime, scanner version).

SQLite gives what the cache must promise for free: commits are atomic (a kill loses at most the
uncommitted batch, never the file), a killed scan resumes from its last commit, and thumbnails live
as blobs beside the rows instead of as a million tiny files.

Reading every row back from SQLite builds a Python tuple per row, then a frame, which was most of a warm
re-scan (docs/benchmarks.md, "Warm re-scan from a snapshot"). So a finished scan also
leaves the rows as a Parquet snapshot, stamped with the cache's generation (counted up by every write);
the next scan reads the snapshot only while the stamp still matches, and SQLite otherwise. The
snapshot is only ever a copy: a kill, a damaged file or a version change sends the scan to SQLite.
"""

import fcntl
import io
import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .schema import FEATURE_COLUMNS, INT_COLUMNS
from .workspace import SET_ASIDE, atomic_write_bytes

KEY_COLUMNS = ["path", "size", "mtime_ns", "version"]
# A verdict a limit caused (a file refused for its declared pixels, a read cut off by the timeout) carries that
# limit and its value: a later scan under a looser limit reads the file again. Both are empty for most rows.
LIMIT_COLUMNS = ["limit_name", "limit_value"]
CACHE_COLUMNS = KEY_COLUMNS + FEATURE_COLUMNS + LIMIT_COLUMNS
CACHE_FILE = "scan_cache.sqlite"
SNAPSHOT_FILE = "scan_cache_rows.parquet"


def connect(workspace: Path) -> sqlite3.Connection:
    workspace.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(workspace / CACHE_FILE, timeout=60)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(FEATURE_COLUMNS)
    existing = [row[1] for row in con.execute("PRAGMA table_info(files)")]
    if existing and existing != CACHE_COLUMNS:
        # another scanner version's columns: its rows would be re-read anyway, so start afresh
        with con:
            con.execute("DROP TABLE files")
            con.execute("DROP TABLE IF EXISTS thumbs")
            con.execute("DROP TABLE IF EXISTS meta")
    con.execute(f"CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                f"version TEXT, {cols}, limit_name TEXT, limit_value REAL)")
    con.execute("CREATE TABLE IF NOT EXISTS thumbs (path TEXT PRIMARY KEY, data BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
    con.commit()
    return con


def set_aside(workspace: Path, exc: BaseException) -> Path:
    """Rename a damaged cache (and its WAL files) out of the way, never deleting it, and say so on stderr:
    the next connect starts an empty one, and the scan reads every file again."""
    db = Path(workspace) / CACHE_FILE
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = db.with_name(f"{CACHE_FILE}{SET_ASIDE}{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = db.with_name(f"{CACHE_FILE}{SET_ASIDE}{stamp}-{n}")
    for suffix in ("-wal", "-shm", "-journal"):  # a stale WAL must never meet the new database
        side = db.with_name(CACHE_FILE + suffix)
        if side.exists():
            side.rename(side.with_name(f"{CACHE_FILE}{suffix}{aside.name[len(CACHE_FILE):]}"))
    db.rename(aside)
    print(f"warning: the scan cache {db} is damaged ({exc}); set aside as {aside.name} and rebuilt: "
          f"every file is read again", file=sys.stderr)
    return aside


def _meta(con, key: str) -> int:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else 0


def _bump_generation(con) -> None:
    """In the transaction of every write: the snapshot of an older generation is then ignored."""
    con.execute("INSERT INTO meta (key, value) VALUES ('generation', 1) "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1")


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


def read_rows(con, workspace: Path | None = None) -> pd.DataFrame:
    """Every cached row: from the workspace's snapshot when it is of the cache's current generation."""
    names = CACHE_COLUMNS
    generation = _meta(con, "generation")
    snapshot = Path(workspace) / SNAPSHOT_FILE if workspace is not None else None
    if snapshot is not None and generation and _meta(con, "snapshot") == generation and snapshot.exists():
        try:
            rows = pd.read_parquet(snapshot)
            if list(rows.columns) == names:
                return rows
        except Exception:  # noqa: BLE001 - a damaged snapshot: the database still has every row
            pass
    return exact_frame(con.execute(f"SELECT {', '.join(names)} FROM files").fetchall(), names)


def write_snapshot(con, workspace: Path, rows: pd.DataFrame) -> None:
    """Save `rows` (every row the cache holds, CACHE_COLUMNS) for the next read_rows, unless
    the snapshot already is of this generation. The caller holds the scan lock: nobody writes meanwhile."""
    generation = _meta(con, "generation")
    if not generation or _meta(con, "snapshot") == generation:
        return
    buf = io.BytesIO()
    rows[CACHE_COLUMNS].to_parquet(buf, index=False)
    atomic_write_bytes(Path(workspace) / SNAPSHOT_FILE, buf.getvalue())
    with con:  # after the file: a kill in between leaves a stamp that does not match, never a false one
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('snapshot', ?)", (generation,))


def write_rows(con, rows: list[tuple], thumbs: list[tuple[str, bytes]]) -> None:
    """Insert one batch (rows: tuples in CACHE_COLUMNS order) in one transaction."""
    names = CACHE_COLUMNS
    placeholders = ", ".join("?" for _ in names)
    with con:
        con.executemany(f"INSERT OR REPLACE INTO files ({', '.join(names)}) VALUES ({placeholders})", rows)
        if thumbs:
            con.executemany("INSERT OR REPLACE INTO thumbs (path, data) VALUES (?, ?)", thumbs)
        _bump_generation(con)


def forget(con, paths) -> int:
    """Drop the rows (and thumbnails) of files that are gone from the dataset; returns how many."""
    paths = list(paths)
    if not paths:
        return 0
    with con:
        _bump_generation(con)
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
    except sqlite3.DatabaseError:  # damaged or unreadable: no thumbnails until the next scan rebuilds it
        return {}
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
        except sqlite3.DatabaseError as exc:  # damaged (the next scan sets it aside) or busy
            info["unreadable"] = str(exc)
        finally:
            con.close()
    samples = workspace / "samples.parquet"
    if samples.exists():
        info["last_scan"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(samples.stat().st_mtime))
    return info
