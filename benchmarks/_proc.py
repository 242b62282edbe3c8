"""Process trees and their memory from /proc (Linux), for the benchmarks that watch a scan's processes."""

from pathlib import Path


def tree(pid: int) -> list[int]:
    """The descendants of pid, children before grandchildren ([] once it is gone)."""
    kids = []
    try:
        for child in Path(f"/proc/{pid}/task").iterdir():
            text = (child / "children").read_text().split()
            kids.extend(int(k) for k in text)
    except OSError:
        return []
    return kids + [g for k in kids for g in tree(k)]


def status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/PID/status (VmHWM: the process's peak RSS so far, VmRSS: now); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
