"""The run folder (DESIGN.md "Runs"): written by the trainer, read by the CLI and the page. Every file is
either written atomically or appended line by line, so a reader (or a kill) never sees half a record."""

import json
import os
import time
from pathlib import Path

import pandas as pd

from inspectors.workspace import atomic_write_text

RUNS = "runs"
STATES = ("running", "finished", "failed", "stopped")


def new_run_dir(workspace: Path, model: str) -> Path:
    runs = Path(workspace) / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = runs / f"{stamp}-{model}" if n == 0 else runs / f"{stamp}-{model}-{n}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run folder under {runs}")


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


def pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    # a zombie (finished child not yet reaped) counts as gone
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def status(folder: Path) -> dict:
    """status.json, with a run whose process is gone while it says running shown as stopped."""
    st = read_json(folder, "status.json", {"state": "starting"})
    if st.get("state") in ("running", "starting") and st.get("pid") and not pid_alive(st["pid"]):
        st = {**st, "state": "stopped", "message": st.get("message") or "the training process is gone"}
    return st


def request_stop(folder: Path) -> None:
    (Path(folder) / "stop").touch()


def stop_requested(folder: Path) -> bool:
    return (Path(folder) / "stop").exists()


def metrics(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train steps, evaluations) as tables."""
    rows = read_jsonl(Path(folder) / "metrics.jsonl")
    train = pd.DataFrame([r for r in rows if r.get("kind") == "train"])
    evals = pd.DataFrame([r for r in rows if r.get("kind") == "eval"])
    return train, evals
