"""Review marks (keep / remove / relabel) in the workspace's review.sqlite, never in the dataset.

Every mark is its own committed transaction: once set_mark returns, the mark survives a crash, and
two browser tabs (or the app and the CLI) writing at once are serialised by SQLite's lock.
"""

import sqlite3
import time
from pathlib import Path

import pandas as pd

DECISIONS = ("keep", "remove", "relabel")
REVIEW_FILE = "review.sqlite"


def connect(workspace) -> sqlite3.Connection:
    Path(workspace).mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(Path(workspace) / REVIEW_FILE, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")  # a confirmed mark is on disk
    con.execute("CREATE TABLE IF NOT EXISTS marks (path TEXT PRIMARY KEY, decision TEXT NOT NULL, "
                "new_label TEXT, note TEXT, updated REAL NOT NULL)")
    return con


def set_mark(workspace, path: str, decision: str, new_label: str | None = None, note: str | None = None) -> None:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if decision == "relabel" and not new_label:
        raise ValueError("a relabel mark needs the new label")
    con = connect(workspace)
    try:
        with con:
            con.execute("INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?)",
                        (path, decision, new_label if decision == "relabel" else None, note, time.time()))
    finally:
        con.close()


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
