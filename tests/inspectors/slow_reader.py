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


def decode_or_die(fs_path, **options):
    """features.decode_file, except that it kills its process on a file named *crash* every time, and on a file
    named *die-once* the first time only (a marker beside the file remembers): a worker lost mid-scan;
    it hangs on a file named *hang*."""
    name = os.fsdecode(fs_path)
    if "crash" in os.path.basename(name):
        os._exit(3)
    if "hang" in os.path.basename(name):
        time.sleep(3600)
    if "die-once" in os.path.basename(name) and not os.path.exists(name + ".died"):
        open(name + ".died", "w").close()
        os._exit(3)
    return features.decode_file(fs_path, **options)
