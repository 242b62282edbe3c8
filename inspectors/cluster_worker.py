"""What a Dask worker runs for cluster.py: the check of its libraries against the client's, one batch of files
(`run_batch`, as a pool worker runs one chunk), and the watchdog that ends the worker on a file past --timeout.
Apart from the client's loop because a worker imports only this, and because the version check hashes this
(code that makes rows), not the loop, which a worker never runs."""

import functools
import os
import threading
import time
import warnings

ROW_MODULES = ("features", "imaging", "statistics", "pil_codecs", "storage", "cluster_worker")  # what makes a row


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
            if worker is not None:
                _tell_scheduler(worker, {"scan": scan_id, "index": index, "timeout_s": limit})
        finally:
            os._exit(TIMED_OUT_EXIT)


EVENT_WAIT_S = 10.0


def _tell_scheduler(worker, message):
    """Log the timeout event and wait for the scheduler's reply, up to EVENT_WAIT_S: the process ends next, and an
    event only queued (Worker.log_event batches its sends) dies with it on a busy machine, leaving a WorkerCrashed
    row where a ScanTimeout one belongs. Past the wait the worker ends anyway: a late event costs only the
    reason, never the scan."""
    from distributed.utils import sync

    sync(worker.loop, worker.scheduler.log_event, topic=TIMEOUT_TOPIC, msg=message, callback_timeout=EVENT_WAIT_S)


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
