"""The run folder (DESIGN.md "Runs"): written by the trainer, read by the CLI and the page. Every file is
either written atomically or appended line by line, so a reader (or a kill) never sees half a record.
Its status.json is inspectors.jobs' (the same for every long command)."""

import io
import json
from pathlib import Path

import pandas as pd

from inspectors import jobs
from inspectors.workspace import NoSpaceError, atomic_write_bytes, atomic_write_text, is_disk_full

RUNS = "runs"
NOTES_FILE = "notes.json"  # the person's name and note for a run: theirs, so apart from what the trainer writes
NAME_CHARS = 80  # a name fits a picker's line; the note holds the rest


def new_run_dir(workspace: Path, model: str) -> Path:
    return jobs.new_folder(Path(workspace) / RUNS, model)


def write_json(folder: Path, name: str, value) -> None:
    atomic_write_text(Path(folder) / name, json.dumps(value, indent=1, default=str))


def read_json(folder: Path, name: str, default=None):
    """The file's value; `default` when it is absent or damaged: not UTF-8, not JSON, or not the kind of value
    `default` is (a list where a dict belongs). The app names damaged files (ui/health.py)."""
    try:
        value = json.loads((Path(folder) / name).read_text())
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return default
    return default if default is not None and not isinstance(value, type(default)) else value


def append_jsonl(path: Path, records: list[dict]) -> None:
    if records:
        text = "".join(json.dumps(r) + "\n" for r in records)
        try:
            with open(path, "a") as f:
                f.write(text)
                f.flush()
        except OSError as exc:
            if is_disk_full(exc):
                raise NoSpaceError(Path(path).parent, len(text.encode())) from exc
            raise


def write_checkpoint(folder: Path, state_dict) -> None:
    """checkpoint.pt, whole or not at all (a kill or a full disk never leaves half a checkpoint); torch
    itself reports a full disk as a RuntimeError that does not say so."""
    import torch  # here: reading runs (the app) must not import torch

    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    atomic_write_bytes(Path(folder) / "checkpoint.pt", buffer.getvalue())


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line that holds a record; a line still being written (no newline yet) is left for the
    next read, and a damaged one (not UTF-8, not a JSON object) is skipped."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for line in data.split(b"\n")[:-1]:
        try:
            record = json.loads(line.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def metrics(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train steps, evaluations) as tables."""
    rows = read_jsonl(Path(folder) / "metrics.jsonl")
    train = pd.DataFrame([r for r in rows if r.get("kind") == "train"])
    evals = pd.DataFrame([r for r in rows if r.get("kind") == "eval"])
    return train, evals


def read_notes(folder: Path) -> dict:
    """{"name": ..., "note": ...} a person gave the run ("" for each when none, or the file is damaged)."""
    found = read_json(folder, NOTES_FILE, {}) or {}
    return {key: found.get(key) if isinstance(found.get(key), str) else "" for key in ("name", "note")}


def write_notes(folder: Path, name: str, note: str) -> dict:
    """Save a run's name (one line, at most NAME_CHARS) and free-text note beside its other files."""
    notes = {"name": " ".join(str(name).split())[:NAME_CHARS], "note": str(note).strip()}
    write_json(folder, NOTES_FILE, notes)
    return notes
