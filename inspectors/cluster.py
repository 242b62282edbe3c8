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
  a row with the reason. Those files run one at a time with nothing else in flight: Dask gives each worker two
  tasks and a death counts against both, so an innocent file queued twice behind a killer would be blamed.
  A LocalCluster is started with allowed-failures 1 (two deaths).
- A file that takes longer than --timeout: a watchdog thread ends its worker, as pool.py kills one, and names
  the file in a Dask event (acknowledged by the scheduler before the worker ends); once it does so alone too,
  it gets pool.py's ScanTimeout row (with the limit).
- A cluster left without workers: Dask would wait for one forever, so every wait of the client is bounded
  (WorkerLoss): no worker for WAIT_FOR_WORKERS_S ends the scan with a ClusterError, the rows so far committed.
  A LocalCluster's nannies restart their workers however long a restart takes on a busy machine.
- Hashes depend on Pillow, its libjpeg, numpy and our row-making modules: a worker with others than the client's
  is refused before the scan starts, and each batch checks its worker again (one that joined later), so no row
  of theirs reaches the cache.
"""

import functools
import logging
import queue
import re
import time
import uuid
import warnings
from collections import deque
from contextlib import contextmanager, suppress

from .cluster_worker import (
    TIMEOUT_TOPIC,
    WrongVersions,
    differences,
    local_versions,
    refusal,
    run_batch,
    worker_versions,
)

LOCAL = re.compile(r"^local:(\d+)$")
BATCH_CHUNKS = 8  # a batch is this many pool chunks (8 x 32 files): a Dask task costs ~1-2 ms of scheduling and
# transfer, a 32-file chunk of small images only ~10 ms of work (docs/benchmarks.md, "Beyond one machine")
WAIT_FOR_WORKERS_S = 120.0  # for a first worker, and mid-scan for one after all were lost (a restart: spawn, imports)
POLL_S = 1.0  # how often a waiting client asks whether the cluster still has a worker
FETCH_S = 30.0  # one try at fetching a batch's rows: a try cut short starts over, so it must fit a slow transfer
CLOSE_S = 30.0
LOCAL_SETTINGS = {
    "distributed.scheduler.allowed-failures": 1,  # a batch is given up after two deaths (the file alone then)
    "distributed.scheduler.worker-saturation": 1.0,
    # a nanny whose restarted worker has not registered within this long is closed for good (default 15 s); a
    # restart (spawn, imports) on a busy 2-core machine took longer, both nannies were closed, and Dask waits for
    # workers forever. The scan's own bound (WAIT_FOR_WORKERS_S without any worker) decides instead.
    "distributed.deploy.lost-worker-timeout": "1 hour",
}
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
    # held for the cluster's whole life, not only its start: lost-worker-timeout is read when a worker goes
    with dask.config.set(LOCAL_SETTINGS):
        # pool.worker_start: one BLAS thread a worker, and no caller's __main__ re-run in each spawned worker
        with pool.worker_start(features.decode_file, features.finish), warnings.catch_warnings():
            # the scheduler's HTTP endpoints (health, metrics) move on from a taken port 8787 with a warning: harmless
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            # host: a cluster of this machine listens on 127.0.0.1 only, as the app does (.streamlit/config.toml)
            cluster = LocalCluster(n_workers=value, processes=True, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.ERROR, env=dict(pool.WORKER_ENV))
        try:
            with Client(cluster, set_as_default=False) as client:
                yield client
        finally:
            with suppress(TimeoutError):  # a worker that will not stop is killed by its nanny; we do not wait on it
                cluster.close(timeout=CLOSE_S)


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
    running, finished = {}, queue.SimpleQueue()  # future -> its batch; futures as they finish (any thread)
    scan_id = uuid.uuid4().hex  # this scan's watchdog events, among others on the same scheduler
    lost = WorkerLoss(client)

    suspects = deque()  # the files of batches Dask gave up on, each to run alone

    def send(batch):
        future = client.submit(run_batch, batch, options, work, finish, prefetch, ours, timeout_s, scan_id,
                               pure=False)
        running[future] = batch
        future.add_done_callback(finished.put)

    def submit():
        # A worker's death counts against every batch it held, the one queued behind the running one too (Dask
        # hands each worker two). So a suspect runs with nothing else on the cluster: its deaths are its own.
        if suspects:
            if not running:
                send(suspects.popleft())
            return
        while pending and len(running) < IN_FLIGHT_PER_THREAD * threads:
            send(pending.popleft())
    submit()
    try:
        while running:
            future = lost.wait(lambda s: finished.get(timeout=s))
            batch = running.pop(future)
            try:
                # result(), not status: a result lost with its worker after the task finished is computed again,
                # and result() waits for it (bounded, as every wait here)
                on_results(lost.wait(functools.partial(_result, future), FETCH_S))
            except WrongVersions as exc:
                raise ClusterError(str(exc)) from None
            except KilledWorker as exc:
                if len(batch) > 1:  # blame nobody yet: each file alone shows the culprit
                    suspects.extend([task] for task in batch)
                else:
                    on_results([(batch[0][0], lost_row(client, scan_id, batch[0][0], exc), None)])
            future.release()
            submit()
    finally:  # Ctrl-C or an error: nothing keeps running on the cluster for a scan that stopped
        if running:
            client.cancel(list(running))


def _result(future, timeout_s):
    if future.status == "error":  # its own exception, whatever its type (a TimeoutError here means: not yet)
        return future.result()
    return future.result(timeout=timeout_s)


class WorkerLoss:
    """Every wait of the client on the cluster, bounded: Dask waits for a worker forever, so a cluster that has had
    none for WAIT_FOR_WORKERS_S (all lost, none restarted or joined) ends the scan with a ClusterError; the rows
    committed so far stay, and a scan started again resumes after them."""

    def __init__(self, client):
        self.client, self.alone_since = client, None

    def wait(self, step, every=POLL_S):
        """step(every) until it returns, while it raises TimeoutError or queue.Empty (nothing yet)."""
        while True:
            try:
                return step(every)
            except (TimeoutError, queue.Empty):
                self.check()

    def check(self):
        if self.client.nthreads():
            self.alone_since = None
        elif self.alone_since is None:
            self.alone_since = time.monotonic()
        elif time.monotonic() - self.alone_since > WAIT_FOR_WORKERS_S:
            raise ClusterError(f"the Dask cluster lost all its workers and none came back within "
                               f"{WAIT_FOR_WORKERS_S:g} s; the rows scanned so far are kept: scan again to resume")


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
