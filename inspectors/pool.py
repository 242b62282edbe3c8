"""A process pool that survives its files: a hung decode is killed after a timeout, a crashed
decoder is reported, and in both cases the worker is replaced and the scan goes on.

concurrent.futures cannot do this (it cannot kill one worker, and a dead worker breaks the whole
pool), so each worker here has its own pipe and publishes the index of the file it is on and when
it started it in shared memory. Workers start with `spawn`, never `fork`: forking a process that
runs Streamlit's threads is unsafe. A spawned worker imports this module and features.py (numpy, Pillow)
and nothing else: `inspectors/__init__` stays empty, since pandas and the inspectors would add to every
worker's start-up (docs/benchmarks.md, "Lighter workers"), and the caller's __main__ is hidden from spawn while
a worker starts (`worker_start`).
"""

import multiprocessing as mp
import os
import signal
import sys
import time
import types
import warnings
from collections import deque
from contextlib import contextmanager
from multiprocessing.connection import wait

from . import features

_CTX = mp.get_context("spawn")
IDLE = -1
PREFETCH = 2  # chunks queued per worker, so it never waits for the main process between chunks
MAX_START_FAILURES = 3
# numpy's OpenBLAS runs a product over ~260k multiply-adds (the hashes' LANCZOS of a 100 px image is just over
# its threshold) on every core, then its threads spin waiting for more. With a worker per core already, those
# threads take the other workers' time (docs/benchmarks.md, "One BLAS thread per worker"). Workers read these at
# numpy's import.
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextmanager
def worker_start(work, finish, prefetch=None):
    """What a starting worker should inherit, the caller's state restored after.

    - os.environ with WORKER_ENV (a training run this process starts later should still get every core).
    - No __main__ module. spawn re-runs the caller's main script in every worker, as `__mp_main__`: a
      script's imports, or under Streamlit, which makes the running app.py the __main__ module, the whole
      app: streamlit, pandas, pyarrow and a jemalloc thread in every worker (docs/benchmarks.md, "Workers
      without the caller's main script"). Workers only need `work` and `finish`, so __main__ is left out unless
      one of them lives there.
    """
    saved = {key: os.environ.get(key) for key in WORKER_ENV}
    main = sys.modules.get("__main__")
    hide_main = all(getattr(f, "__module__", "__main__") != "__main__" for f in (work, finish, prefetch)
                    if f is not None)
    os.environ.update(WORKER_ENV)
    if hide_main:
        sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: spawn imports nothing
    try:
        yield
    finally:
        if hide_main:
            sys.modules["__main__"] = main
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _worker_main(conn, current, started, options, work, finish, prefetch=None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # Pillow warns about what it tolerates in one file ("Corrupt EXIF data", "Truncated File Read"): on a
    # scraped dataset that floods the terminal, and the file's row already says whether it decoded
    warnings.simplefilter("ignore")
    while True:
        try:
            chunk = conn.recv()
        except EOFError:
            return
        if chunk is None:
            return
        outputs = []
        payloads = [fs_path for _, fs_path in chunk]
        if prefetch is not None:
            # the chunk's reads at once (objects over a network): a read stuck past the timeout is cut off like a
            # stuck decode, the chunk's first file named and the rest sent again
            started.value = time.monotonic()
            current.value = chunk[0][0]
            payloads = prefetch(payloads, **options)
        for (index, _), payload in zip(chunk, payloads, strict=True):
            started.value = time.monotonic()
            current.value = index
            outputs.append(work(payload, **options))
        current.value = IDLE
        if finish is not None:  # chunk-level work (batched maths): between files, so no file is blamed for it
            outputs = finish(outputs)
        conn.send([(index, *output) for (index, _), output in zip(chunk, outputs, strict=True)])


class _Worker:
    def __init__(self, options, work, finish, prefetch=None):
        self.current = _CTX.Value("q", IDLE, lock=False)
        self.started = _CTX.Value("d", 0.0, lock=False)
        self.conn, child_conn = _CTX.Pipe()
        self.process = _CTX.Process(target=_worker_main, daemon=True,
                                    args=(child_conn, self.current, self.started, options, work, finish, prefetch))
        with worker_start(work, finish, prefetch):
            self.process.start()
        child_conn.close()
        self.inflight = deque()  # chunks sent and not yet answered; the first is being read

    def send(self, chunk):
        self.inflight.append(chunk)
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


def scan_files(tasks, options, on_results, workers=1, timeout_s=30.0, chunk_size=32, work=features.file_features,
               finish=None, prefetch=None):
    """Run work(fs_path, **options) -> (row, thumb) over tasks [(index, fs_path)] in `workers` processes.

    With `finish`, work's results of one chunk go through finish(list) -> [(row, thumb)] in the worker
    (features.decode_file + features.finish measure a chunk's statistics at once). on_results(list of
    (index, row, thumb)) is called in this process as chunks finish. With `prefetch`, a chunk's fs_paths go
    through prefetch(list, **options) -> [payload] first, and work gets the payloads (features.fetch_objects
    reads a chunk's objects concurrently). A file that exceeds timeout_s, or
    kills its worker, is delivered as a row with the reason in `error`.
    """
    _Pool(list(tasks), options, on_results, workers, timeout_s, chunk_size, work, finish, prefetch).run()


CRASHED = "WorkerCrashed: the decoder killed its process (exit code {code}) on this file"


def crashed(worker) -> str:
    """CRASHED with the dead worker's exit code: reaped first, or a pipe that broke before the process was
    reaped would report "exit code None"."""
    worker.process.join(timeout=5)
    return CRASHED.format(code=worker.process.exitcode)


TIMED_OUT = "ScanTimeout: reading took longer than {timeout:g} s; the worker was replaced"


class _Pool:
    def __init__(self, tasks, options, on_results, workers, timeout_s, chunk_size, work, finish, prefetch=None):
        self.pending = deque(tasks[i:i + chunk_size] for i in range(0, len(tasks), chunk_size))
        self.options, self.work, self.finish, self.prefetch = options, work, finish, prefetch
        self.on_results, self.timeout_s = on_results, timeout_s
        self.workers = [self.start() for _ in range(max(1, min(workers, len(self.pending))))] if self.pending else []
        self.attempts = {}  # file index -> times its worker died between files
        self.deaths_in_a_row = 0  # workers that died before reading any file

    def start(self):
        return _Worker(self.options, self.work, self.finish, self.prefetch)

    def run(self):
        try:
            while self.pending or any(w.inflight for w in self.workers):
                for worker in list(self.workers):
                    while len(worker.inflight) < PREFETCH and self.pending:
                        try:
                            worker.send(self.pending.popleft())
                        except OSError:  # it died since it last answered (a broken pipe): as a failed recv below
                            self.replace(worker, crashed(worker))
                            break
                busy = [w for w in self.workers if w.inflight]
                ready = wait([w.conn for w in busy], timeout=min(1.0, self.timeout_s / 4))
                for worker in [w for w in busy if w.conn in ready]:
                    try:
                        results = worker.conn.recv()
                    except (EOFError, OSError):
                        self.replace(worker, crashed(worker))
                        continue
                    worker.inflight.popleft()
                    self.deaths_in_a_row = 0
                    self.on_results(results)
                now = time.monotonic()
                for worker in [w for w in busy if w.inflight and w in self.workers]:
                    if worker.current.value != IDLE and now - worker.started.value > self.timeout_s:
                        self.replace(worker, TIMED_OUT.format(timeout=self.timeout_s), ("timeout", self.timeout_s))
                    elif not worker.process.is_alive() and not worker.conn.poll():
                        self.replace(worker, crashed(worker))
        finally:
            for worker in self.workers:
                worker.kill() if worker.inflight else worker.stop()

    def replace(self, worker, reason, limit=None):
        """Kill a worker, report the file it was on, re-queue the rest of its chunk, start a new one. `limit`
        (name, value) marks a row the limit caused, so that a scan under a looser one reads the file again."""
        bad = worker.current.value
        chunk = worker.inflight.popleft() if worker.inflight else []
        self.pending.extendleft(reversed(worker.inflight))  # queued behind it, never started: as they were
        never_started = bad == IDLE and worker.started.value == 0.0
        worker.kill()
        self.workers.remove(worker)
        if never_started:
            self.deaths_in_a_row += 1
            if self.deaths_in_a_row >= MAX_START_FAILURES:
                raise RuntimeError(f"{MAX_START_FAILURES} worker processes in a row exited before reading a file "
                                   f"(last exit code {worker.process.exitcode}); if a script calls the scan, put "
                                   f"its code under `if __name__ == '__main__':`")
        failed = [bad] if bad != IDLE else []
        if bad == IDLE:
            # It died between files: blame nobody yet, retry each file alone so a culprit shows itself.
            for index, _ in chunk:
                self.attempts[index] = self.attempts.get(index, 0) + 1
            failed = [index for index, _ in chunk if self.attempts[index] > 2]
            self.pending.extendleft([task] for task in reversed(chunk) if self.attempts[task[0]] <= 2)
        else:
            rest = [task for task in chunk if task[0] != bad]
            if rest:
                self.pending.appendleft(rest)
        for index in failed:
            row = features.empty_row()
            row["error"] = reason
            if limit:
                row["limit"] = limit
            self.on_results([(index, row, None)])
        self.workers.append(self.start())
