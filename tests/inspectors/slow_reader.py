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

