"""A stand-in for features.file_features that hangs or crashes on chosen files (pool tests)."""

import os
import time

from inspectors import features


def read_or_misbehave(fs_path, **options):
    name = os.path.basename(os.fsdecode(fs_path))
    if "hang" in name:
        time.sleep(3600)
    if "crash" in name:
        os._exit(3)  # what a segfaulting decoder looks like from outside
    return features.file_features(fs_path, **options)



def report_environment(fs_path, **options):
    """A work function that returns, as its row, the worker's BLAS thread settings and the threads it runs."""
    from inspectors.pool import WORKER_ENV
    row = {key: os.environ.get(key) for key in WORKER_ENV}
    tasks = "/proc/self/task"
    row["threads"] = len(os.listdir(tasks)) if os.path.isdir(tasks) else None
    row["names"] = [open(f"{tasks}/{t}/comm").read().strip() for t in os.listdir(tasks)] if row["threads"] else []
    return row, None
