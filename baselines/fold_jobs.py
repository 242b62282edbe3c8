"""Folds trained side by side: one fold per worker process, each on one torch thread. Folds share nothing while
they train, so two processes on two cores take about half the time of one, where two torch threads in one
process gain far less on a shared machine (OpenMP waits on the slower core).

The unit of work is `run_fold(job)`, a plain function of a dict, run by a local spawn pool or, with --cluster,
by Dask workers (`inspectors.cluster.connect`). A job names the uint8 tensor cache file (read memory-mapped;
a remote worker needs the workspace on a shared file system) and writes its fold's file itself, so a fold
finished before a kill is reused by the next run either way."""

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

PARALLEL_FROM = 2000  # images: below this, starting worker processes (a torch import each) costs more than it saves


def run_fold(job: dict) -> dict:
    """Train one fold in this process and save its held-out probabilities (job: images, targets, ok, folds, fold,
    classes, config, epochs, file). Returns {fold, accuracy, best_epoch, seconds}."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from . import crossfit
    from .config import TrainConfig

    started = time.time()
    torch.set_num_threads(1)
    config = TrainConfig(**job["config"])
    x_all = np.load(job["images"], mmap_mode="r")
    targets, ok, folds, f = job["targets"], job["ok"], job["folds"], job["fold"]
    fit, held = np.flatnonzero((folds != f) & ok), np.flatnonzero((folds == f) & ok)
    x_fit = torch.from_numpy(np.array(x_all[fit]))
    model, mean, std, best = crossfit.fit_fold(x_fit, torch.as_tensor(targets[fit], dtype=torch.long),
                                               job["classes"], config, job["epochs"], config.seed + f)
    p = crossfit.predict(model, torch.from_numpy(np.array(x_all[held])), mean, std).numpy()
    file = Path(job["file"])
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{os.getpid()}.{file.name}")  # ends in .npy: np.save keeps the name
    np.save(tmp, p)
    os.replace(tmp, file)
    accuracy = float((p.argmax(1) == targets[held]).mean()) if len(held) else float("nan")
    return {"fold": f, "accuracy": accuracy, "best_epoch": best, "seconds": time.time() - started}


def workers_for(n_images: int, k: int, asked: int = 0) -> int:
    """Worker processes: `asked`, else one per core up to the folds, from PARALLEL_FROM images on."""
    if asked:
        return max(1, min(asked, k))
    return 1 if n_images < PARALLEL_FROM else max(1, min(k, os.cpu_count() or 1))


def run_folds(images_file, targets: np.ndarray, ok: np.ndarray, folds: np.ndarray, classes: int, config,
              epochs: int, saved: Path, workers: int, client=None, progress=None,
              log=lambda message: None) -> np.ndarray:
    """Held-out probabilities (N, classes), each fold trained by run_fold in a worker process (a spawn pool of
    `workers`, or the Dask `client`'s workers) unless saved/ already holds it."""
    k = int(folds.max()) + 1
    probs = np.zeros((len(targets), classes), dtype=np.float32)
    files = {f: saved / f"fold_{f}.npy" for f in range(k)}
    todo = [f for f in range(k) if not files[f].exists()]
    for f in set(range(k)) - set(todo):
        log(f"fold {f + 1}/{k}: found saved, not trained again")
    base = {"images": str(images_file), "targets": np.asarray(targets), "ok": np.asarray(ok),
            "folds": np.asarray(folds), "classes": classes, "config": dataclasses.asdict(config), "epochs": epochs}
    jobs = [{**base, "fold": f, "file": str(files[f])} for f in todo]
    if client is not None:  # the cluster's workers, for the time left
        workers = max(1, len(client.scheduler_info().get("workers", {})))
    done, seconds = k - len(todo), []
    if progress:
        progress(done, k)
    for result in _results(jobs, workers, client):
        done += 1
        seconds.append(result["seconds"])
        # folds run in rounds of `workers`: what is left is that many more rounds of an average fold
        left = -(-(k - done) // max(workers, 1)) * float(np.mean(seconds))
        log(f"fold {result['fold'] + 1}/{k}: held-out accuracy {result['accuracy']:.3f} (best epoch "
            f"{result['best_epoch']}/{epochs}, {result['seconds']:.0f} s); about {left / 60:.0f} min left")
        if progress:
            progress(done, k)
    for f in range(k):
        held = np.flatnonzero((folds == f) & ok)
        probs[held] = np.load(files[f])
    return probs


def _results(jobs: list, workers: int, client):
    """run_fold's results as folds finish, from the Dask client or a local spawn pool."""
    if not jobs:
        return
    if client is not None:
        from distributed import as_completed

        for future in as_completed([client.submit(run_fold, job, pure=False) for job in jobs]):
            yield future.result()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, never fork: a forked copy of a process that already ran torch threads can deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_end_with, initargs=(os.getpid(),)) as pool:
        for future in as_completed([pool.submit(run_fold, job) for job in jobs]):
            yield future.result()


def _end_with(parent: int, every: float = 1.0) -> None:
    """In a fold worker: end this process when `parent` is gone. A killed (SIGTERM, SIGKILL) label-issues command
    otherwise left its workers training their folds for minutes, unseen."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="end-with-parent").start()
