"""A stand-in for features.decode_file that takes SLOW_S seconds on files named slow*: a file that times out
under a short --timeout and reads fine under a longer one (a busy machine, not a bad file)."""

import os
import time

from inspectors.features import decode_file

SLOW_S = 1.5


def decode_slowly(fs_path, **options):
    if os.path.basename(os.fsdecode(fs_path)).startswith("slow"):
        time.sleep(SLOW_S)
    return decode_file(fs_path, **options)
