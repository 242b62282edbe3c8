"""Long commands (scan, train, check, label-issues, tolerance) and the one status file each writes.

A command works in a folder of its own (a run folder for train and check, else <workspace>/jobs/<stamp>-<command>/)
and writes status.json there through `Status`, the only writer; whoever follows it (the app, another shell) reads
it with `read`. The file is rewritten atomically, so a reader never sees half of it:

  command    scan | train | check | label-issues | tolerance
  state      running, then finished | failed | stopped
  phase, done, total   what it is doing now and how far it got (e.g. "folds", 2, 5)
  message    a line for a person (why it stopped, what it is waiting for)
  result     a small JSON summary of what it produced (once finished)
  error      what went wrong (once failed)
  pid, started, heartbeat, ended   the process, and when (seconds since the epoch)

A status that still says running while its process is gone (killed, or its machine restarted) reads as stopped.
Here at the bottom layer (the scan writes one too), so inspectors and baselines share it and ui/ only reads.
"""

import json
import os
import shutil
import time
from pathlib import Path

from .workspace import atomic_write_text

FILE = "status.json"
STOP_FILE = "stop"  # a stop request: the command stops at its next chance and says so
JOBS = "jobs"  # <workspace>/jobs/: the folders of commands that have no run folder
ACTIVE = ("starting", "running")  # starting: launched, nothing written yet (the launcher's word)
ENDED = ("finished", "failed", "stopped")
HEARTBEAT_S = 1.0  # at most one progress write a second: a reader polls, a loop of many steps must not wait
GONE = "the process is gone"


def new_folder(parent, name: str) -> Path:
    """A new folder <parent>/<YYYYmmdd-HHMMSS>-<name>[-n]: sorted by name, newest last; never one that exists."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = parent / (f"{stamp}-{name}" if n == 0 else f"{stamp}-{name}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a folder under {parent}")


def job_folders(workspace, command: str) -> list[Path]:
    """The job folders of one command in a workspace, newest first."""
    return sorted((p for p in (Path(workspace) / JOBS).glob(f"*-{command}*") if p.is_dir()), reverse=True)


def prune(workspace, command: str, keep: int) -> None:
    """Remove the ended job folders of `command` beyond the newest `keep` (those still running stay)."""
    ended = [f for f in job_folders(workspace, command) if (read(f) or {}).get("state") in ENDED]
    for folder in ended[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


class Status:
    """The writer of one command's status.json (created, in state running, on construction)."""

    def __init__(self, folder, command: str, phase: str = "", total: int = 0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        self.record = {"command": command, "state": "running", "phase": phase, "done": 0, "total": total,
                       "message": "", "result": None, "error": None, "pid": os.getpid(), "started": now,
                       "heartbeat": now, "ended": None}
        self.written = 0.0
        self._write()

    @property
    def ended(self) -> bool:
        return self.record["state"] in ENDED

    def progress(self, phase: str, done: int, total: int, message: str | None = None, force: bool = False) -> None:
        """How far it got; written when the phase changes, at its end, when forced, else once a HEARTBEAT_S."""
        changed = phase != self.record["phase"] or (message is not None and message != self.record["message"])
        self.record.update(phase=phase, done=int(done), total=int(total))
        if message is not None:
            self.record["message"] = message
        if force or changed or (total and done >= total) or time.time() - self.written >= HEARTBEAT_S:
            self._write()

    def finish(self, state: str, message: str = "", result=None, error: str | None = None) -> None:
        """The end: finished (with its result), failed (with the error) or stopped (with why)."""
        if state not in ENDED:
            raise ValueError(f"a command ends {', '.join(ENDED)}, not {state!r}")
        self.record.update(state=state, message=message, result=result, error=error, ended=time.time())
        self._write()

    def _write(self) -> None:
        self.record["heartbeat"] = self.written = time.time()
        atomic_write_text(self.folder / FILE, json.dumps(self.record, indent=1, default=str))


def read(folder) -> dict | None:
    """The folder's status.json (None when there is none yet), a running one whose process is gone as stopped."""
    try:
        status = json.loads((Path(folder) / FILE).read_text())
    except (OSError, ValueError):  # none yet, or damaged (not UTF-8, not JSON): the app names a damaged one
        return None
    if not isinstance(status, dict):
        return None
    status = {"state": "running", "phase": "", "done": 0, "total": 0, "message": "", **status}
    if status["state"] in ACTIVE and not pid_alive(status.get("pid")):
        status.update(state="stopped", message=status["message"] or GONE)
    return status


def pid_alive(pid) -> bool:
    """Whether a process runs under this pid (a zombie, ended but not yet reaped, counts as gone)."""
    try:
        if int(pid) <= 0:  # kill(0) and kill(-n) signal process groups: never a pid
            return False
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def request_stop(folder) -> None:
    (Path(folder) / STOP_FILE).touch()


def stop_requested(folder) -> bool:
    return (Path(folder) / STOP_FILE).exists()
