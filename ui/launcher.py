"""Baselines in the background: launch `python -m baselines` in its own process, follow it through the
status.json every long command writes (inspectors/jobs.py; this module only reads it), and find its folders
again after a reload.

Never imports torch (a slow import): the trainer runs in its own process, and the pages read what it writes.
The tables the pages draw from those folders are in ui/training.py.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from baselines import runs
from inspectors import jobs
from inspectors.jobs import job_folders  # noqa: F401 (the pages list label-issues and tolerance jobs with it)

REPO = Path(__file__).resolve().parents[1]
JOB_FILE = "job.json"  # in the folder a launch made: the command line, pid and start time of the process
LOG_FILE = "log.txt"  # the process's stdout and stderr
LABEL_ISSUES = "label_issues"
TOLERANCE_FILE = "tolerance.json"
FLAGS = {"model": "--model", "width": "--width", "input_size": "--input-size", "epochs": "--epochs",
         "max_steps": "--max-steps", "batch_size": "--batch-size", "seed": "--seed", "lr": "--lr",
         "dropout": "--dropout", "weight_decay": "--weight-decay", "augment": "--augment",
         "early_stopping": "--early-stopping", "sizes": "--sizes", "folds": "--folds"}


def command_line(command: str, dataset, labels, knobs: dict, folder=None) -> list[str]:
    """The CLI call; `folder` is where it writes its status: the run folder (--out) of train and check, the job
    folder (--job) of the others."""
    args = [sys.executable, "-m", "baselines", command, str(dataset)]
    if labels:
        args += ["--labels", str(labels)]
    for name, value in knobs.items():
        if value is not None and value != "":
            args += [FLAGS[name], str(value)]
    if folder is None:
        return args
    return args + ["--out" if command in ("train", "check") else "--job", str(folder)]


def launch(ds, command: str, knobs: dict | None = None) -> Path:
    """Start `python -m baselines COMMAND` for the dataset in its own session (it outlives reruns, reloads and
    the browser tab) and return its folder: the run folder for train/check (created first, so the page
    can attach at once), else a job folder. Its output goes to log.txt there."""
    knobs = dict(knobs or {})
    if command in ("train", "check"):
        model = knobs.get("model") or "tiny_cnn"
        folder = runs.new_run_dir(ds.workspace, model if command == "train" else f"check-{model}")
    else:
        folder = jobs.new_folder(Path(ds.workspace) / jobs.JOBS, command)
    dataset = Path(os.path.expanduser(ds.path)).resolve()
    labels = Path(os.path.expanduser(ds.labels)).resolve() if ds.labels else None
    args = command_line(command, dataset, labels, knobs, folder)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1",
               INSPECTORS_CACHE=str(Path(ds.workspace).parent),  # the same workspace as the app's
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(folder / LOG_FILE, "wb") as log:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    runs.write_json(folder, JOB_FILE, {"command": command, "args": args[1:], "knobs": knobs, "pid": proc.pid,
                                       "started": time.time()})
    return folder


def job_status(folder: Path) -> dict:
    """The job's status.json as inspectors.jobs.read gives it (state, phase, done, total, message, error,
    result, ...) with its command and start; before the process has written one: starting while the launched
    process runs, failed with its log's last line once it is gone (it died before it could say more)."""
    folder = Path(folder)
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    status = jobs.read(folder)
    if status is None:
        alive = jobs.pid_alive(job.get("pid"))
        status = {"state": "starting" if alive else "failed", "phase": "", "done": 0, "total": 0, "message": "",
                  "error": None if alive else last_line(log_text(folder)) or "the process ended before it wrote "
                  "its status"}
    return {**status, "command": status.get("command") or job.get("command") or "train",
            "started": status.get("started") or job.get("started")}


def progress(status: dict) -> tuple[float | None, str]:
    """(fraction done or None, what it is doing) for a progress bar."""
    done, total, phase = status.get("done") or 0, status.get("total") or 0, status.get("phase") or ""
    if not total:
        return None, status.get("message") or phase
    text = f"step {done:,} of {total:,}" if phase == "train" else f"{phase}: {done:,} of {total:,}"
    return min(1.0, done / total), text


def stop(folder: Path) -> None:
    """Ask the job to stop: a stop request that train's loop reads between steps; any other command is also
    interrupted (SIGINT to its process group), and records that it stopped on request."""
    folder = Path(folder)
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    jobs.request_stop(folder)
    if job.get("command", "train") != "train" and job.get("pid") and jobs.pid_alive(job["pid"]):
        try:
            os.killpg(int(job["pid"]), signal.SIGINT)  # its own session: the group is the CLI and what it started
        except ProcessLookupError:
            pass


def log_text(folder: Path, limit: int = 20_000) -> str:
    try:
        with open(Path(folder) / LOG_FILE, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def readable_log(text: str) -> str:
    """A log as a terminal shows it: of each line redrawn with carriage returns (progress bars), the last."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")).strip()


def last_line(text: str) -> str:
    lines = [line for line in readable_log(text).splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def run_folders(workspace: Path) -> list[Path]:
    """Run folders, newest first."""
    return sorted((p for p in (Path(workspace) / runs.RUNS).glob("*") if p.is_dir()), reverse=True)


def run_kind(folder: Path) -> str:
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    if job.get("command"):
        return job["command"]
    return (runs.read_json(folder, "config.json", {}) or {}).get("kind", "train")


def current_run(workspace: Path, kinds=("train",), remembered: str | None = None) -> Path | None:
    """The run a page shows: the one this session launched or picked, else the newest still running, else
    the newest (so a reload re-attaches to what is training)."""
    folders = [f for f in run_folders(workspace) if run_kind(f) in kinds]
    if remembered and any(f.name == remembered for f in folders):
        return Path(workspace) / runs.RUNS / remembered
    for f in folders:
        if job_status(f)["state"] in ("starting", "running"):
            return f
    return folders[0] if folders else None
