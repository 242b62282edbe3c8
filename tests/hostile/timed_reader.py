"""features.decode_file, timed: each call appends "<seconds>\t<peak kB>\t<fs path as hex>" to
$HOSTILE_TIMING_LOG, so a test can show that no file took longer than the per-file timeout (a file killed at
the timeout has no line and must have a ScanTimeout row instead) and that no file made its worker's memory
peak (VmHWM) grow past a bound. One short O_APPEND write per file: lines never interleave."""

import os
import time

from inspectors import features

UNTIMED = features.decode_file  # imported in the workers too, where nothing was patched


def decode_file(fs_path, **options):
    started = time.monotonic()
    try:
        return UNTIMED(fs_path, **options)
    finally:
        line = f"{time.monotonic() - started:.6f}\t{peak_kb()}\t{os.fsencode(fs_path).hex()}\n".encode()
        fd = os.open(os.environ["HOSTILE_TIMING_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def peak_kb() -> int:
    """This process's peak resident memory since it started its program (VmHWM). Unlike ru_maxrss, it does
    not count what a forked process inherited from its parent before exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def install() -> None:
    """In the scanning process, before the scan: the pool sends workers `features.decode_file` by name."""
    features.decode_file = decode_file


def read_log(path) -> dict:
    """{fs path (bytes): (seconds, worker's peak kB after reading it)} from a timing log."""
    out = {}
    if os.path.exists(path):
        for line in open(path, encoding="ascii").read().splitlines():
            seconds, peak, hexpath = line.split("\t")
            out[bytes.fromhex(hexpath)] = (float(seconds), int(peak))
    return out
