"""The run folder (DESIGN.md "Runs"): written by the trainer, read by the CLI and the page. Every file is
either written atomically or appended line by line, so a reader (or a kill) never sees half a record.
Its status.json is inspectors.jobs' (the same for every long command)."""

import json
from pathlib import Path

import pandas as pd

from inspectors import jobs
from inspectors.workspace import atomic_write_text

RUNS = "runs"


def new_run_dir(workspace: Path, model: str) -> Path:
    return jobs.new_folder(Path(workspace) / RUNS, model)


def write_json(folder: Path, name: str, value) -> None:
    atomic_write_text(Path(folder) / name, json.dumps(value, indent=1, default=str))


def read_json(folder: Path, name: str, default=None):
    try:
        return json.loads((Path(folder) / name).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def append_jsonl(path: Path, records: list[dict]) -> None:
    if records:
        with open(path, "a") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
            f.flush()


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line; a line still being written (no newline yet) is left for the next read."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.split("\n")[:-1]:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def metrics(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train steps, evaluations) as tables."""
    rows = read_jsonl(Path(folder) / "metrics.jsonl")
    train = pd.DataFrame([r for r in rows if r.get("kind") == "train"])
    evals = pd.DataFrame([r for r in rows if r.get("kind") == "eval"])
    return train, evals
