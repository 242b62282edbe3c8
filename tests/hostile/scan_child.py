"""`python -m inspectors scan ...` with hostile timing injected, for tests that run the CLI as a process:

    python -m tests.hostile.scan_child [--delete-after-listing FILE] [--time-files LOG] -- scan DATASET ...

--delete-after-listing deletes FILE after the dataset is listed and before any file is read (the race a
user causes by deleting files during a scan); --time-files logs each file's read time and its worker's peak
memory (timed_reader.py); --peak-memory writes this process's own peak (VmHWM, kB) to a file at the end.
"""

import argparse
import os
import sys

import inspectors.__main__ as cli


def main(argv) -> int:
    split = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--delete-after-listing", action="append", default=[])
    p.add_argument("--time-files")
    p.add_argument("--peak-memory")
    ours, theirs = p.parse_args(argv[:split]), argv[split + 1:]
    if ours.time_files:
        from tests.hostile import timed_reader
        os.environ["HOSTILE_TIMING_LOG"] = ours.time_files
        timed_reader.install()
    if ours.delete_after_listing:
        listed = cli.load_dataset

        def listing_then_delete(*args, **kwargs):
            listing = listed(*args, **kwargs)
            for victim in ours.delete_after_listing:
                os.unlink(victim)
            return listing
        cli.load_dataset = listing_then_delete
    try:
        return cli.main(theirs)
    finally:
        if ours.peak_memory:
            from tests.hostile.timed_reader import peak_kb
            with open(ours.peak_memory, "w") as f:
                f.write(str(peak_kb()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
