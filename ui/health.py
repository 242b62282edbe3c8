"""Which files of a workspace are damaged (garbage, truncated, the wrong kind of JSON), and why; no Streamlit.

The app treats them by what they are worth: report files (samples.parquet, findings.csv, summary.json) are
derived, so it scans again; config.json holds the settings the command line gave, so a damaged one is named
by app.settings_caption and the scan waits until it is deleted; the scan cache is disposable, rebuilt when
the user presses Scan; review marks are precious: a damaged review.sqlite is named and never written to, the
pages go on with read-only marks; run, job and label-issue results and the human sheet are named and left as
they are.
Each check reads one file and is a pure function of its bytes (ui/state.py caches it by size and mtime).
"""

import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq

from inspectors import review, scan_cache
from inspectors.schema import FINDING_COLUMNS
from inspectors.sheets import read_sheet

SAMPLE_NEEDS = ["path", "label", "split", "ok", "width", "height", "exif_orientation"]  # every page reads these
# results the pages read; each left as it is when damaged, the pages showing what they can without it
RESULT_GLOBS = ("runs/*/*.json", "runs/*/*.jsonl", "jobs/*/*.json", "label_issues/*.json", "label_issues/*.csv",
                "human_baseline.json", "tolerance.json")
LABEL_ISSUE_COLUMNS = {"findings.csv": FINDING_COLUMNS, "predictions.csv": ["path", "label", "predicted"]}


def _json_problem(path: Path) -> str | None:
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at line {exc.lineno})"
    wanted = list if path.name == "checks.json" else dict
    return None if isinstance(value, wanted) else f"JSON, but a {type(value).__name__}, not a {wanted.__name__}"


def _jsonl_problem(path: Path) -> str | None:
    """A line still being written (the last, without its newline) is not damage; any other bad line is."""
    lines = path.read_bytes().split(b"\n")[:-1]
    for number, line in enumerate(lines, 1):
        try:
            if not isinstance(json.loads(line.decode("utf-8")), dict):
                return f"line {number} is not a JSON object"
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both
            return f"line {number} is not JSON"
    return None


def _csv_problem(path: Path, columns) -> str | None:
    try:
        table = read_sheet(path, dtype=str)
    except ValueError as exc:  # UnicodeDecodeError, pandas' ParserError and EmptyDataError are ValueErrors
        return f"not a readable CSV ({type(exc).__name__})"
    missing = [c for c in columns if c not in table.columns]
    return f"lacks the column(s) {', '.join(missing)}" if missing else None


def _parquet_problem(path: Path) -> str | None:
    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises its own ArrowInvalid, or OSError: either way unreadable
        return f"not a readable Parquet file ({type(exc).__name__})"
    missing = [c for c in SAMPLE_NEEDS if c not in names]
    return f"lacks the column(s) {', '.join(missing)}" if missing else None


def file_problem(path) -> str | None:
    """Why this workspace file is damaged, or None when it reads as what its name says (or is absent)."""
    path = Path(path)
    try:
        if not path.is_file():
            return None
        if path.suffix == ".parquet":
            return _parquet_problem(path)
        if path.suffix == ".sqlite":
            return _sqlite_problem(path)
        if path.suffix == ".jsonl":
            return _jsonl_problem(path)
        if path.suffix == ".csv":
            return _csv_problem(path, LABEL_ISSUE_COLUMNS.get(path.name, FINDING_COLUMNS))
        return _json_problem(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _sqlite_problem(path: Path) -> str | None:
    """The review store is judged by inspectors.review.damage, the one rule its writers obey. The scan cache
    is opened read-only and its tables touched: a full integrity check would read the whole file (gigabytes
    at a million images), and a damaged cache costs only thumbnails until the next scan sets it aside."""
    if path.name == review.REVIEW_FILE:
        return review.damage(path.parent)
    with open(path, "rb") as f:
        header = f.read(len(review.SQLITE_HEADER))
    if not header:
        return None  # an empty file is a new database: nothing in it to lose
    if header != review.SQLITE_HEADER:
        return "not an SQLite database"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            for table in ("files", "thumbs"):
                con.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return f"SQLite says: {exc}"
    return None


def watched(workspace) -> list[Path]:
    """Every workspace file whose damage the app looks for here (findings.csv and summary.json are judged
    by loading them: ui/state.damaged_reports; config.json by app.settings_caption)."""
    workspace = Path(workspace)
    files = [workspace / name for name in ("samples.parquet", review.REVIEW_FILE, scan_cache.CACHE_FILE)]
    return files + sorted(p for pattern in RESULT_GLOBS for p in workspace.glob(pattern))


CONSEQUENCE = {
    review.REVIEW_FILE: "Review marks are read-only until it is repaired or moved away; nothing writes to it.",
    scan_cache.CACHE_FILE: "Thumbnails are missing; press Scan to set it aside and rebuild it.",
}
LEFT_AS_IS = "Left as it is; the pages show what they can without it."
