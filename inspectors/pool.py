"""A process pool that survives its files: a hung decode is killed after a timeout, a crashed
decoder is reported, and in both cases the worker is replaced and the scan goes on.

concurrent.futures cannot do this (it cannot kill one worker, and a dead worker breaks the whole
pool), so each worker here has its own pipe and publishes the index of the file it is on and when
it started it in shared memory. Workers start with `spawn`, never `fork`: forking a process that
runs Streamlit's threads is unsafe.
"""

import functools
import multiprocessing as mp
import signal
import time
from collections import deque
from multiprocessing.connection import wait

from . import features

_CTX = mp.get_context("spawn")
IDLE = -1


def _worker_main(conn, current, started, options, work):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    while True:
        try:
            chunk = conn.recv()
        except EOFError:
            return
        if chunk is None:
            return
        results = []
        for index, fs_path in chunk:
            started.value = time.monotonic()
            current.value = index
            results.append((index, *work(fs_path, **options)))
        current.value = IDLE
        conn.send(results)


class _Worker:
    def __init__(self, options, work):
        self.current = _CTX.Value("q", IDLE, lock=False)
        self.started = _CTX.Value("d", 0.0, lock=False)
        self.conn, child_conn = _CTX.Pipe()
        self.process = _CTX.Process(target=_worker_main, args=(child_conn, self.current, self.started, options, work),
                                    daemon=True)
        self.process.start()
        child_conn.close()
        self.chunk = None

    def send(self, chunk):
        self.chunk = chunk
        self.conn.send(chunk)

    def kill(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self):
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


def scan_files(tasks, options, on_results, workers=1, timeout_s=30.0, chunk_size=32, work=features.file_features):
    """Run work(fs_path, **options) -> (row, thumb) over tasks [(index, fs_path)] in `workers` processes.

    on_results(list of (index, row, thumb)) is called in this process as chunks finish. A file that
    exceeds timeout_s, or kills its worker, is delivered as a row with the reason in `error`.
    """
    pending = deque(_chunks(list(tasks), chunk_size))
    start_worker = functools.partial(_Worker, options, work)
    pool = [start_worker() for _ in range(max(1, min(workers, len(pending))))] if pending else []
    busy, attempts = [], {}
    try:
        while pending or busy:
            for worker in [w for w in pool if w.chunk is None]:
                if not pending:
                    break
                worker.send(pending.popleft())
                busy.append(worker)
            ready = wait([w.conn for w in busy], timeout=min(1.0, timeout_s / 4))
            for worker in [w for w in busy if w.conn in ready]:
                try:
                    results = worker.conn.recv()
                except (EOFError, OSError):
                    code = worker.process.exitcode
                    _replace(worker, pool, busy, pending, start_worker, on_results,
                             f"WorkerCrashed: the decoder killed its process (exit code {code}) on this file", attempts)
                    continue
                worker.chunk = None
                busy.remove(worker)
                on_results(results)
            now = time.monotonic()
            for worker in list(busy):
                index = worker.current.value
                if index != IDLE and now - worker.started.value > timeout_s:
                    _replace(worker, pool, busy, pending, start_worker, on_results,
                             f"ScanTimeout: reading took longer than {timeout_s:g} s; worker replaced", attempts)
                elif not worker.process.is_alive() and not worker.conn.poll():
                    code = worker.process.exitcode
                    _replace(worker, pool, busy, pending, start_worker, on_results,
                             f"WorkerCrashed: the decoder killed its process (exit code {code}) on this file", attempts)
    finally:
        for worker in pool:
            worker.kill() if worker.chunk is not None else worker.stop()


def _replace(worker, pool, busy, pending, start_worker, on_results, reason, attempts):
    """Kill a worker, report the file it was on, re-queue the rest of its chunk, start a new one."""
    bad = worker.current.value
    chunk = worker.chunk or []
    worker.kill()
    busy.remove(worker)
    pool.remove(worker)
    failed = [bad] if bad != IDLE else []
    if bad == IDLE:
        # It died between files: blame nobody yet, retry each file alone so a culprit shows itself.
        for index, _ in chunk:
            attempts[index] = attempts.get(index, 0) + 1
        failed = [index for index, _ in chunk if attempts[index] > 2]
        pending.extendleft([task] for task in reversed(chunk) if attempts[task[0]] <= 2)
    else:
        rest = [task for task in chunk if task[0] != bad]
        if rest:
            pending.appendleft(rest)
    for index in failed:
        row = features.empty_row()
        row["error"] = reason
        on_results([(index, row, None)])
    pool.append(start_worker())


def _chunks(tasks, size):
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]
