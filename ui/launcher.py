"""Baselines in the background: launch `python -m baselines` in its own process, follow it (state, progress,
log) and find its folders again after a reload.

Never imports torch (5-8 s): the trainer runs in its own process, and the pages read what it writes.
The tables the pages draw from those folders are in ui/training.py.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from baselines import runs

REPO = Path(__file__).resolve().parents[1]
JOB_FILE = "job.json"  # in the folder a launch made: the command line, pid, start time, exit code
LOG_FILE = "log.txt"  # the process's stdout and stderr
JOBS = "jobs"  # <workspace>/jobs/<stamp>-<command>/: label-issues and tolerance (they have no run folder)
LABEL_ISSUES = "label_issues"
TOLERANCE_FILE = "tolerance.json"
FLAGS = {"model": "--model", "width": "--width", "input_size": "--input-size", "epochs": "--epochs",
         "max_steps": "--max-steps", "batch_size": "--batch-size", "seed": "--seed", "lr": "--lr",
         "dropout": "--dropout", "weight_decay": "--weight-decay", "augment": "--augment",
         "early_stopping": "--early-stopping", "sizes": "--sizes", "folds": "--folds"}
FINISHED = ("finished", "failed", "stopped")


def command_line(command: str, dataset, labels, knobs: dict, out=None) -> list[str]:
    args = [sys.executable, "-m", "baselines", command, str(dataset)]
    if labels:
        args += ["--labels", str(labels)]
    for name, value in knobs.items():
        if value is not None and value != "":
            args += [FLAGS[name], str(value)]
    if command in ("label-issues", "tolerance"):
        args.append("--progress")  # their only progress report is the bar, written to the log
    return args + (["--out", str(out)] if out else [])


def new_job_dir(workspace: Path, command: str) -> Path:
    folder = Path(workspace) / JOBS
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        job = folder / (f"{stamp}-{command}" if n == 0 else f"{stamp}-{command}-{n}")
        try:
            job.mkdir()
            return job
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a job folder under {folder}")


def launch(ds, command: str, knobs: dict | None = None) -> Path:
    """Start `python -m baselines COMMAND` for the dataset in its own session (it outlives reruns, reloads and
    the browser tab) and return its folder: the run folder for train/check (created first, so the page
    can attach at once), else a job folder. Its output goes to log.txt there."""
    knobs = dict(knobs or {})
    if command in ("train", "check"):
        model = knobs.get("model") or "tiny_cnn"
        folder = runs.new_run_dir(ds.workspace, model if command == "train" else f"check-{model}")
        out = folder
    else:
        folder, out = new_job_dir(ds.workspace, command), None
    dataset = Path(os.path.expanduser(ds.path)).resolve()
    labels = Path(os.path.expanduser(ds.labels)).resolve() if ds.labels else None
    args = command_line(command, dataset, labels, knobs, out)
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", PYTHONUNBUFFERED="1",
               INSPECTORS_CACHE=str(Path(ds.workspace).parent),  # the same workspace as the app's
               PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(folder / LOG_FILE, "wb") as log:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    runs.write_json(folder, JOB_FILE, {"command": command, "args": args[1:], "knobs": knobs, "pid": proc.pid,
                                       "started": time.time()})
    return folder


def _reap(folder: Path, job: dict) -> tuple[dict, bool]:
    """(job, whether its process still runs). A child of this server that ended is reaped here (no zombie) and
    its exit code kept in job.json; another process (the server restarted since) is looked up by pid."""
    pid = job.get("pid")
    if not pid or "exit_code" in job:
        return job, False
    try:
        done, code = os.waitpid(int(pid), os.WNOHANG)
    except ChildProcessError:  # not our child, or reaped by another session a moment ago
        job = runs.read_json(folder, JOB_FILE, job) or job
        return job, "exit_code" not in job and runs.pid_alive(pid)
    if done == 0:  # still running (its main thread may already be a zombie while other threads exit)
        return job, True
    job = {**job, "exit_code": os.waitstatus_to_exitcode(code), "ended": time.time()}
    runs.write_json(folder, JOB_FILE, job)
    return job, False


def job_status(folder: Path) -> dict:
    """state (starting, running, finished, failed, stopped), step, total_steps, message, command. The process
    decides "running"; once it is gone, status.json (written by the trainer) or the exit code says how it ended."""
    folder = Path(folder)
    job, alive = _reap(folder, runs.read_json(folder, JOB_FILE, {}) or {})
    trainer = runs.status(folder) if (folder / "status.json").exists() else {}
    out = {"command": job.get("command", "train"), "step": trainer.get("step", 0),
           "total_steps": trainer.get("total_steps", 0), "message": trainer.get("message", ""),
           "exit_code": job.get("exit_code"), "started": job.get("started") or trainer.get("started")}
    if alive:
        out["state"] = "running" if trainer or job.get("command") not in ("train", "check") else "starting"
        return out
    code = job.get("exit_code")
    if not job:  # a run folder the CLI wrote on its own
        out["state"] = trainer.get("state", "starting")
    elif code is None:  # not this server's child (it restarted since): judge by what the process wrote
        wrote = output_written(folder, job)
        out["state"] = trainer["state"] if trainer.get("state") in FINISHED and job.get("command") != "check" \
            else "finished" if wrote else "stopped"
        out["message"] = out["message"] or ("" if wrote else "the process is gone")
    elif code == 0 or (job.get("command") == "check" and code == 1):  # check: exit 1 = a check failed
        out["state"] = trainer["state"] if trainer.get("state") in FINISHED and job.get("command") == "train" \
            else "finished"
    elif code in (130, -signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL):
        out["state"], out["message"] = "stopped", out["message"] or "stopped on request"
    else:
        out["state"] = "failed"
        out["message"] = last_line(log_text(folder)) or f"the process ended (exit code {code})"
    return out


def output_written(folder: Path, job: dict) -> bool:
    """Whether a job's result file exists and is newer than the job (for a process that is no longer ours)."""
    workspace = folder.parent.parent
    target = {"train": folder / "result.json", "check": folder / "checks.json",
              "label-issues": workspace / LABEL_ISSUES / "facts.json",
              "tolerance": workspace / TOLERANCE_FILE}.get(job.get("command", "train"))
    try:
        return target is not None and target.stat().st_mtime >= job.get("started", 0) - 1
    except OSError:
        return False


def stop(folder: Path) -> None:
    """train: ask the loop to stop (it writes its state and exits); anything else: interrupt its process group."""
    folder = Path(folder)
    job = runs.read_json(folder, JOB_FILE, {}) or {}
    if job.get("command", "train") == "train":
        runs.request_stop(folder)
        return
    runs.request_stop(folder)
    if job.get("pid") and "exit_code" not in job and runs.pid_alive(job["pid"]):
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


BAR = re.compile(r"^(?P<name>[\w -]+):\s+\d+%\|.*?\|\s*(?P<done>\d+)/(?P<total>\d+)")


def bar_progress(text: str) -> tuple[float | None, str]:
    """(fraction done, phase) from the last progress bar in a log, (None, last line) when there is none."""
    for line in reversed(readable_log(text).splitlines()):
        found = BAR.match(line.strip())
        if found and int(found["total"]):
            return min(1.0, int(found["done"]) / int(found["total"])), found["name"].strip()
    return None, last_line(text)


def jobs(workspace: Path, command: str) -> list[Path]:
    """Job folders of one command, newest first."""
    return sorted((Path(workspace) / JOBS).glob(f"*-{command}*"), reverse=True)


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


def fraction_done(status: dict) -> float:
    total = status.get("total_steps") or 0
    return min(1.0, status.get("step", 0) / total) if total else 0.0
