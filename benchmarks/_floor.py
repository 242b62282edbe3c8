"""The decode floor's work, in its own small module: the floor's spawned workers import this and Pillow only,
as the scan's workers import features.py and nothing of the benchmark script (pool.worker_start)."""

import io
import math

from PIL import Image


def decode_chunk(paths, work_side: int) -> int:
    """Read each file and decode it exactly as features.decode_bytes must: JPEGs DCT-scaled to >= work_side."""
    for path in paths:
        with open(path, "rb") as f:
            im = Image.open(io.BytesIO(f.read()))
        if im.format == "JPEG":
            scale = work_side / max(im.size)
            if scale < 1:
                im.draft(im.mode if im.mode in ("L", "RGB") else "RGB",
                         (math.ceil(im.size[0] * scale), math.ceil(im.size[1] * scale)))
        im.load()
    return len(paths)
