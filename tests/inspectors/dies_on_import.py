"""Imported in a worker process, this module ends the process: a worker that cannot even start."""

import multiprocessing
import os

if multiprocessing.current_process().name != "MainProcess":
    os._exit(5)


def work(fs_path, **options):
    raise AssertionError("never reached: the worker dies while starting")
