"""Review marks (keep / remove / relabel) in the workspace's review.sqlite, never in the dataset.

Every mark is its own committed transaction: once set_mark returns, the mark survives a crash, and
two browser tabs (or the app and the CLI) writing at once are serialised by SQLite's lock.

Marks are a person's work: a damaged review.sqlite is never written to, replaced or moved. Every function
here first asks `damage()` and raises ReviewStoreDamaged, naming the file, instead.
"""

import sqlite3
import time
from pathlib import Path

import pandas as pd

from .workspace import is_damaged

DECISIONS = ("keep", "remove", "relabel")
REVIEW_FILE = "review.sqlite"
SQLITE_HEADER = b"SQLite format 3\x00"


class ReviewStoreDamaged(sqlite3.DatabaseError):  # callers that catch SQLite's errors catch this too
    def __init__(self, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"the review store {path} is damaged ({reason}); it was left exactly as it is. Restore "
                         f"it from a backup, or move it aside to start a new one (its marks are then lost)")


def damage(workspace) -> str | None:
    """Why the workspace's review.sqlite cannot be read (garbage, truncated, not a review store), or None
    when it is sound or absent. Reads only."""
    db = Path(workspace) / REVIEW_FILE
    try:
        with open(db, "rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    if header and header != SQLITE_HEADER:  # an empty file is an empty database
        return "not an SQLite database"
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            problems = _patiently(lambda: [row[0] for row in con.execute("PRAGMA quick_check").fetchall()])
            tables = _patiently(lambda: {row[0] for row in
                                         con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        return str(exc)
    if problems != ["ok"]:
        return "; ".join(problems[:3])
    if tables and "marks" not in tables:
        return "it holds no marks table"
    return None


def connect(workspace) -> sqlite3.Connection:
    reason = damage(workspace)
    if reason:
        raise ReviewStoreDamaged(Path(workspace) / REVIEW_FILE, reason)
    Path(workspace).mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(Path(workspace) / REVIEW_FILE, timeout=30)
    try:
        # WAL is a property of the file: set once. SQLite answers a journal-mode change (and the first read
        # while another process closes the last connection) with "locked" without waiting on the timeout.
        if _patiently(lambda: con.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            _patiently(lambda: con.execute("PRAGMA journal_mode=WAL").fetchone())
        con.execute("PRAGMA synchronous=FULL")  # a confirmed mark is on disk
        _patiently(lambda: con.execute("CREATE TABLE IF NOT EXISTS marks (path TEXT PRIMARY KEY, "
                                       "decision TEXT NOT NULL, new_label TEXT, note TEXT, updated REAL NOT NULL)"))
        # what a bulk action replaced, so that it can be undone (decision NULL: the path had no mark)
        _patiently(lambda: con.execute("CREATE TABLE IF NOT EXISTS undo (batch INTEGER NOT NULL, path TEXT NOT NULL, "
                                       "decision TEXT, new_label TEXT, note TEXT, updated REAL, what TEXT)"))
    except BaseException:
        con.close()
        raise
    return con


def _patiently(step, seconds: float = 30.0):
    """step(), tried again while another process holds the lock, for up to `seconds`."""
    deadline = time.monotonic() + seconds
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _check(decision: str, new_label: str | None) -> None:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if decision == "relabel" and not new_label:
        raise ValueError("a relabel mark needs the new label")


def set_mark(workspace, path: str, decision: str, new_label: str | None = None, note: str | None = None) -> None:
    _check(decision, new_label)
    con = connect(workspace)
    try:
        with con:
            con.execute("INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?)",
                        (path, decision, new_label if decision == "relabel" else None, note, time.time()))
    finally:
        con.close()


def set_marks(workspace, rows: list[tuple], what: str) -> int:
    """A bulk action: rows of (path, decision, new_label) in one transaction, with what each replaced kept so
    that `undo_last` restores it; `what` describes the action. Returns the number of marks set."""
    for _, decision, new_label in rows:
        _check(decision, new_label)
    con = connect(workspace)
    try:
        with con:
            batch = (con.execute("SELECT MAX(batch) FROM undo").fetchone()[0] or 0) + 1
            now = time.time()
            for path, decision, new_label in rows:
                before = con.execute("SELECT decision, new_label, note, updated FROM marks WHERE path = ?",
                                     (path,)).fetchone() or (None, None, None, None)
                con.execute("INSERT INTO undo VALUES (?, ?, ?, ?, ?, ?, ?)", (batch, path, *before, what))
                con.execute("INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?)",
                            (path, decision, new_label if decision == "relabel" else None, None, now))
    finally:
        con.close()
    return len(rows)


def last_bulk(workspace) -> tuple[str, int] | None:
    """(what, how many marks) of the bulk action `undo_last` would undo; None when there is none."""
    if not (Path(workspace) / REVIEW_FILE).exists():
        return None
    con = connect(workspace)
    try:
        row = con.execute("SELECT what, COUNT(*) FROM undo WHERE batch = (SELECT MAX(batch) FROM undo)").fetchone()
    finally:
        con.close()
    return (row[0], row[1]) if row and row[1] else None


def undo_last(workspace) -> int:
    """Put back what the last bulk action replaced (marks it set on unmarked paths are cleared); returns how
    many paths it restored."""
    con = connect(workspace)
    try:
        with con:
            batch = con.execute("SELECT MAX(batch) FROM undo").fetchone()[0]
            if batch is None:
                return 0
            rows = con.execute("SELECT path, decision, new_label, note, updated FROM undo WHERE batch = ? "
                               "ORDER BY rowid DESC", (batch,)).fetchall()
            for path, decision, new_label, note, updated in rows:
                if decision is None:
                    con.execute("DELETE FROM marks WHERE path = ?", (path,))
                else:
                    con.execute("INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?)",
                                (path, decision, new_label, note, updated))
            con.execute("DELETE FROM undo WHERE batch = ?", (batch,))
    finally:
        con.close()
    return len(rows)


def clear_mark(workspace, path: str) -> None:
    con = connect(workspace)
    try:
        with con:
            con.execute("DELETE FROM marks WHERE path = ?", (path,))
    finally:
        con.close()


def marks(workspace) -> pd.DataFrame:
    """path, decision, new_label, note, updated; empty when nothing was marked."""
    db = Path(workspace) / REVIEW_FILE
    columns = ["path", "decision", "new_label", "note", "updated"]
    if not db.exists():
        return pd.DataFrame(columns=columns)
    con = connect(workspace)
    try:
        return pd.DataFrame(con.execute(f"SELECT {', '.join(columns)} FROM marks ORDER BY path").fetchall(),
                            columns=columns)
    finally:
        con.close()
