"""The decode floor's work, in its own small module: the floor's spawned workers import this, Pillow and
inspectors.pil_codecs only, as the scan's workers import features.py and nothing of the benchmark script
(pool.worker_start)."""

import io

from PIL import Image

from inspectors.pil_codecs import draft_for_work


def decode_chunk(paths, work_side: int) -> int:
    """Read each file and decode it as the scan's reader does (imaging.load_reduced: the same `draft_for_work`),
    nothing more."""
    for path in paths:
        with open(path, "rb") as f:
            im = Image.open(io.BytesIO(f.read()))
        draft_for_work(im, work_side)
        im.load()
    return len(paths)
