"""One reader on one file, in a fresh process: how far its memory peak rose above what the process held
before (VmHWM after the read minus VmRSS before it, MB), printed as JSON with what the reader saw.

    python -m tests.hostile.peak_reader scan|display|network FILE

scan: the scan worker's per-file work (features.file_features); display: the app's full-size view
(ui.images.open_for_display, 1600 px); network: the trainer's tensor cache (baselines.data.decode_for_network,
64 px). Everything is imported, and each reader run once on a tiny file, before the measured read."""

import json
import os
import sys
import tempfile

from PIL import Image

from baselines import data
from inspectors import features
from inspectors.config import ScanConfig
from tests.hostile.timed_reader import peak_kb
from ui import images

LIMIT = ScanConfig().max_pixel_bytes


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def read(what: str, path: str) -> dict:
    if what == "scan":
        row, _ = features.file_features(path, max_pixel_bytes=LIMIT)
        return {"ok": row["ok"], "error": row["error"], "file_hash": row["file_hash"], "size": [row["width"],
                                                                                               row["height"]]}
    if what == "display":
        view = images.open_for_display(os.path.dirname(path), os.path.basename(path), LIMIT)
        return {"ok": view.image is not None, "error": view.error, "size": list(view.image.size)}
    return {"ok": True, "error": None, "size": list(data.decode_for_network(path, 64, LIMIT).shape)}


def main(what: str, path: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # warm up: Pillow's plugins, numpy's and the reader's first calls
        for fmt in ("PNG", "JPEG"):
            Image.new("RGB", (300, 200)).save(os.path.join(tmp, f"x.{fmt}"), fmt)
            read(what, os.path.join(tmp, f"x.{fmt}"))
    before = rss_kb()
    seen = read(what, path)
    print(json.dumps({"rise_mb": (peak_kb() - before) / 1024, **seen}))


if __name__ == "__main__":
    main(*sys.argv[1:])
