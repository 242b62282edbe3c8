"""What the hostile tests share: running the CLIs as processes (with their peak memory), fingerprinting a
folder without following its symlinks, and tiny generated datasets."""

import hashlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def env(**extra) -> dict:
    """The repo importable, torch's threads polite on shared cores, no stray cache root."""
    out = {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    out.update({k: str(v) for k, v in extra.items()})
    return out


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_measured(args, timeout: float, **kwargs) -> Finished:
    """Run a command to the end, as its own session (killed with everything it started after `timeout`).
    Peak memory is not taken from wait4's ru_maxrss: after fork + exec it still counts what the child
    inherited from this (big, torch-laden) pytest process; see timed_reader.peak_kb."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, cwd=REPO, env=kwargs.pop("env", env()), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True, **kwargs)
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > started + timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status = os.waitpid(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait on the pid again
        out.seek(0)
        err.seek(0)
        return Finished(proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                        time.monotonic() - started)


def start(args, **kwargs) -> subprocess.Popen:
    """A process in a session of its own, so a test can SIGKILL it together with its workers."""
    return subprocess.Popen(args, cwd=REPO, env=kwargs.pop("env", env()), start_new_session=True,
                            stdin=subprocess.DEVNULL, **kwargs)


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its session), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def fingerprint(root) -> dict:
    """Every entry under root, symlinks not followed (os.lstat): name (bytes), mode, size, mtime, and the
    content's sha256 for a regular file or the target for a symlink. Equal fingerprints = untouched."""
    out = {}
    root = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    content = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(full)
            else:
                content = None
            out[os.path.relpath(full, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_uid, st.st_gid,
                                                content)
    st = os.lstat(root)
    out[b"."] = (st.st_mode, st.st_mtime_ns)
    return out


def tiny_images(root, n: int, classes=("a", "b", "c"), side=24, seed=0, split="train") -> Path:
    """n small PNGs spread over class folders: a dataset that takes the scan a few seconds."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for i in range(n):
        label = classes[i % len(classes)]
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (side // 4, side // 4, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((side, side), Image.Resampling.NEAREST).save(folder / f"{i:05d}.png")
    return root


def workspace_of(cache: Path) -> Path:
    """The one workspace under a test's cache root."""
    found = [p for p in Path(cache).iterdir() if p.is_dir()]
    assert len(found) == 1, found
    return found[0]
