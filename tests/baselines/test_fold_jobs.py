import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from baselines import fold_jobs

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=fold_jobs._end_with,
                             initargs=(os.getpid(), 0.1)) as pool:
        print(pool.submit(os.getpid).result(), flush=True)
        pool.submit(time.sleep, 120).result()  # a fold that trains for minutes
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_fold_workers_end_when_the_command_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    worker = int(parent.stdout.readline())
    assert alive(worker)
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=30)
    deadline = time.time() + 30
    while alive(worker) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(worker)
