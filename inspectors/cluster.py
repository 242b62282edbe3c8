"""The scan on a Dask cluster (`--cluster tcp://HOST:8786` or `--cluster local:N`): the other executor beside
pool.py, writing the same rows into the same cache.

The unit of work is a batch of files, run by the same work functions as the local pool (features.decode_file,
features.finish, features.fetch_objects) in `run_batch`. The client keeps a bounded number of batches in flight
and hands each finished batch to scan.py's on_results, which commits rows as they arrive: a killed scan resumes
from its last commit, as with the pool. Only `connect` and the scan loop import distributed, and only
`--cluster` imports this module: a local scan never loads dask.

Faults, and who handles them:
- A worker that dies takes its batch with it: Dask's scheduler runs the batch again on another worker.
- A batch that killed `allowed-failures + 1` workers comes back as KilledWorker. Dask cannot say which of its
  files did it (pool.py can: each worker publishes its current file), so each of its files is sent again alone,
  as pool.py retries a chunk whose worker died between files; a file that alone kills its workers again becomes
  a row with the reason. A LocalCluster is started with allowed-failures 1 (two deaths) and one task a worker
  (worker-saturation 1.0), so a death counts against the batch that ran, not one queued behind it.
- A file that takes longer than --timeout: a watchdog thread ends its worker, as pool.py kills one, and names
  the file in a Dask event; once it does so alone too, it gets pool.py's ScanTimeout row (with the limit).
- Hashes depend on Pillow, its libjpeg, numpy and our row-making modules: a worker with others than the client's
  is refused before the scan starts, and each batch checks its worker again (one that joined later), so no row
  of theirs reaches the cache.
"""

import functools
import logging
import os
import re
import threading
import time
import uuid
import warnings
from collections import deque
from contextlib import contextmanager

LOCAL = re.compile(r"^local:(\d+)$")
BATCH_CHUNKS = 8  # a batch is this many pool chunks (8 x 32 files): a Dask task costs ~1-2 ms of scheduling and
# transfer, a 32-file chunk of small images only ~10 ms of work (docs/benchmarks.md, "Beyond one machine")
WAIT_FOR_WORKERS_S = 60.0
IN_FLIGHT_PER_THREAD = 2  # batches submitted per worker thread: the next waits on the scheduler, not on us
CRASHED = ("WorkerCrashed: the decoder killed its Dask worker {deaths} times on this file ({why}); the batch "
           "holding it was retried and then each of its files alone")


class ClusterError(RuntimeError):
    """A cluster that cannot scan (a bad --cluster, workers whose libraries differ from the client's)."""


def parse(spec: str) -> tuple[str, object]:
    """--cluster text -> ("local", N) or ("address", "tcp://host:port"); a ValueError says what is accepted."""
    match = LOCAL.match(spec.strip())
    if match and int(match[1]) > 0:
        return "local", int(match[1])
    if re.match(r"^(tcp|tls|ws|wss|ucx)://[^/\s]+$", spec.strip()):
        return "address", spec.strip()
    raise ValueError(f"--cluster {spec}: expected tcp://HOST:PORT (a running Dask scheduler) or local:N "
                     f"(start N worker processes here)")


@contextmanager
def connect(spec: str):
    """A distributed.Client for --cluster; a LocalCluster started here is stopped on the way out."""
    import dask
    from distributed import Client, LocalCluster

    from . import features, pool

    kind, value = parse(spec)
    if kind == "address":
        with Client(value, set_as_default=False) as client:
            yield client
        return
    settings = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
    # pool.worker_start: one BLAS thread a worker, and no caller's __main__ re-run in each spawned worker
    with dask.config.set(settings), pool.worker_start(features.decode_file, features.finish), \
            warnings.catch_warnings():
        # the scheduler's HTTP endpoints (health, metrics) move on from a taken port 8787 with a warning: harmless
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        # host: a cluster of this machine listens on 127.0.0.1 only, as the app does (.streamlit/config.toml)
        cluster = LocalCluster(n_workers=value, processes=True, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR, env=dict(pool.WORKER_ENV))
    try:
        with Client(cluster, set_as_default=False) as client:
            yield client
    finally:
        cluster.close()


# ---------------------------------------------------------------- versions


ROW_MODULES = ("features", "imaging", "statistics", "pil_codecs", "storage", "cluster")  # what makes a row


@functools.lru_cache(maxsize=1)  # once a process: every batch asks
def local_versions() -> dict:
    """What a row's hashes and statistics depend on: Pillow, its libjpeg, numpy, and our own code that makes a
    row (a digest of its modules' source: a worker on another checkout would compute other rows)."""
    import numpy
    import PIL
    import xxhash
    from PIL import features

    here = os.path.dirname(os.path.abspath(__file__))
    digest = xxhash.xxh3_64()
    for name in ROW_MODULES:
        with open(os.path.join(here, f"{name}.py"), "rb") as f:
            digest.update(f.read())
    return {"Pillow": PIL.__version__, "libjpeg": features.version("jpg"), "numpy": numpy.__version__,
            "inspectors code": digest.hexdigest()}


def worker_versions() -> dict:
    """local_versions as a worker sees it; its own name, so that the client sends a reference the worker
    resolves in its own installation (and a test that replaces the client's local_versions still asks the
    worker's)."""
    return local_versions()


def differences(theirs: dict, ours: dict) -> list[str]:
    return [f"{name} {theirs.get(name)} (the client has {value})" for name, value in ours.items()
            if theirs.get(name) != value]


def refusal(worker: str, theirs: dict, ours: dict) -> str:
    return (f"Dask worker {worker} refused: {', '.join(differences(theirs, ours))}; its hashes and statistics "
            f"would differ from this machine's. Install the client's versions on every worker and scan again")


def check_workers(client, ours: dict) -> None:
    """Refuse the scan, naming every worker and library, when a worker's versions differ from the client's."""
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)  # a scheduler whose workers are still joining
    except TimeoutError:
        raise ClusterError(f"the Dask cluster has no workers (waited {WAIT_FOR_WORKERS_S:g} s)") from None
    found = client.run(worker_versions)
    refused = [refusal(worker, theirs, ours) for worker, theirs in sorted(found.items())
               if differences(theirs, ours)]
    if refused:
        raise ClusterError("\n".join(refused))


class WrongVersions(Exception):
    """Raised by a batch on a worker whose libraries differ from the client's (one that joined mid-scan)."""


# ---------------------------------------------------------------- the work of one batch, on a worker


def worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):  # not on a Dask worker (a test calling run_batch here)
        return f"pid {os.getpid()}"


TIMEOUT_TOPIC = "inspectors-timeout"  # a Dask event: which file a worker was on when its watchdog ended it
WATCH_EVERY_S = 0.25
# "file": (scan, index, since, limit) or None, replaced whole (one assignment): the watchdog never reads one
# file's index with another's start time
_watch = {"file": None, "worker": None, "thread": None}


def _watchdog():
    """In each worker process: end the process when one file takes longer than --timeout, as pool.py kills a
    worker (a hung decoder cannot be interrupted from inside). The event tells the client which file it was;
    Dask then treats the death as any other (retry, then the file alone)."""
    while True:
        time.sleep(WATCH_EVERY_S)
        current, worker = _watch["file"], _watch["worker"]
        if current is None or not current[3] or time.monotonic() - current[2] <= current[3]:
            continue
        scan_id, index, _, limit = current
        try:
            if worker is not None:  # log_event belongs to the worker's event loop, not this thread
                worker.loop.add_callback(worker.log_event, TIMEOUT_TOPIC,
                                         {"scan": scan_id, "index": index, "timeout_s": limit})
                time.sleep(1.0)  # the event on its way to the scheduler
        finally:
            os._exit(TIMED_OUT_EXIT)


TIMED_OUT_EXIT = 124


def _watching(scan_id, index, limit):
    _watch["file"] = (scan_id, index, time.monotonic(), limit)
    if limit and _watch["thread"] is None:
        try:
            from distributed import get_worker
            _watch["worker"] = get_worker()
        except (ImportError, ValueError):  # not on a Dask worker
            pass
        _watch["thread"] = threading.Thread(target=_watchdog, daemon=True, name="inspectors-watchdog")
        _watch["thread"].start()


def run_batch(batch, options, work, finish, prefetch, expected, timeout_s=None, scan_id=None) -> list:
    """[(index, fs_path)] -> [(index, row, thumbnail)], as a pool worker does one chunk (pool._worker_main)."""
    theirs = worker_versions()
    if differences(theirs, expected):
        raise WrongVersions(refusal(worker_name(), theirs, expected))
    warnings.simplefilter("ignore")  # as in pool.py: a file's row already says whether it decoded
    payloads = [fs_path for _, fs_path in batch]
    try:
        if prefetch is not None:  # the first file is named for the batch's reads, as pool.py does
            _watching(scan_id, batch[0][0], timeout_s)
            payloads = prefetch(payloads, **options)
        outputs = []
        for (index, _), payload in zip(batch, payloads, strict=True):
            _watching(scan_id, index, timeout_s)
            outputs.append(work(payload, **options))
    finally:
        _watch["file"] = None
    if finish is not None:  # between files: no file is blamed for the batch's statistics
        outputs = finish(outputs)
    return [(index, *output) for (index, _), output in zip(batch, outputs, strict=True)]


# ---------------------------------------------------------------- the client's loop


class Executor:
    """What scan.scan takes as `executor`: pool.scan_files' signature, run on the client's cluster."""

    def __init__(self, client, batch_chunks: int = BATCH_CHUNKS):
        self.client, self.batch_chunks = client, batch_chunks

    def __call__(self, tasks, options, on_results, workers=None, timeout_s=None, chunk_size=32, **work):
        scan_files(self.client, tasks, options, on_results, chunk_size * self.batch_chunks, timeout_s=timeout_s,
                   **work)


def scan_files(client, tasks, options, on_results, batch_size=256, work=None, finish=None, prefetch=None,
               timeout_s=None):
    """pool.scan_files on a Dask cluster: work(fs_path, **options) over tasks [(index, fs_path)] in batches,
    on_results([(index, row, thumbnail)]) called here as batches finish. A file that takes longer than
    timeout_s ends its worker (the watchdog) and, if it does so alone too, gets pool.py's ScanTimeout row."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from . import features

    tasks = list(tasks)
    if not tasks:
        return
    ours = local_versions()
    check_workers(client, ours)
    work = work or features.file_features
    pending = deque(tasks[i:i + batch_size] for i in range(0, len(tasks), batch_size))
    threads = sum(client.nthreads().values()) or 1
    batches, running = {}, as_completed(loop=client.loop)
    scan_id = uuid.uuid4().hex  # this scan's watchdog events, among others on the same scheduler

    def submit():
        while pending and running.count() < IN_FLIGHT_PER_THREAD * threads:
            batch = pending.popleft()
            future = client.submit(run_batch, batch, options, work, finish, prefetch, ours, timeout_s, scan_id,
                                   pure=False)
            batches[future.key] = batch
            running.add(future)
    submit()
    try:
        for future in running:
            batch = batches.pop(future.key)
            try:
                # result(), not status: a result lost with its worker after the task finished is computed again,
                # and result() waits for it
                on_results(future.result())
            except WrongVersions as exc:
                raise ClusterError(str(exc)) from None
            except KilledWorker as exc:
                if len(batch) > 1:  # blame nobody yet: each file alone shows the culprit
                    pending.extendleft([task] for task in reversed(batch))
                else:
                    on_results([(batch[0][0], lost_row(client, scan_id, batch[0][0], exc), None)])
            future.release()
            submit()
    finally:  # Ctrl-C or an error: nothing keeps running on the cluster for a scan that stopped
        left = list(running.futures)
        if left:
            client.cancel(left)


def lost_row(client, scan_id, index, exc) -> dict:
    """The row of a file that ended its workers on its own: pool.py's ScanTimeout row (with the limit, so that a
    longer --timeout reads it again) where a watchdog said it ran out of time, else a WorkerCrashed row."""
    from . import features, pool

    row = features.empty_row()
    timed_out = [msg for _, msg in client.get_events(TIMEOUT_TOPIC)
                 if isinstance(msg, dict) and msg.get("scan") == scan_id and msg.get("index") == index]
    if timed_out:
        row["error"] = pool.TIMED_OUT.format(timeout=timed_out[-1]["timeout_s"])
        row["limit"] = ("timeout", timed_out[-1]["timeout_s"])
    else:
        row["error"] = CRASHED.format(deaths=exc.allowed_failures + 1, why="Dask KilledWorker")
    return row


def run_all(client):
    """sharded_join's run_all on the cluster: one task per shard, results gathered in order."""
    def run(function, jobs):
        return client.gather([client.submit(function, *job, pure=False) for job in jobs])
    return run
