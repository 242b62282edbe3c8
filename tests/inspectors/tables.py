"""Tiny samples tables built in a line or two, for pinning inspectors' exact findings."""

import numpy as np
import pandas as pd

from inspectors.schema import SAMPLE_COLUMNS


def appearance(seed: int, blank: bool = False) -> bytes:
    if blank:
        return bytes([128]) * 256
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, 256, dtype=np.uint8).tobytes()


def content(seed) -> bytes:
    """A 32x32 grey thumbnail of its own: smooth random blobs, unlike any other seed's (an int or a string)."""
    rng = np.random.default_rng(list(str(seed).encode()))
    coarse = rng.integers(0, 256, (4, 4)).astype(float)
    return np.clip(np.kron(coarse, np.ones((8, 8))) + rng.normal(0, 8, (32, 32)), 0, 255).astype(np.uint8).tobytes()


def samples(rows: list[dict]) -> pd.DataFrame:
    """Rows with healthy defaults: a decoded 64x64 RGB PNG of middling statistics."""
    base = {"label": "cat", "split": "train", "entry": "image", "orphan": False, "bytes": 1000, "mtime_ns": 0,
            "file_hash": None, "pixel_hash": None, "format": "PNG", "width": 64, "height": 64,
            "exif_orientation": 1, "mode": "RGB", "frames": 1, "ok": True, "error": None, "phash": 0, "dhash": 0,
            "brightness": 0.5, "contrast": 0.2, "sharpness": 0.02, "entropy": 6.0, "colour_entropy": 6.0,
            "lum_p01": 0.05, "lum_p05": 0.1, "lum_p95": 0.9, "lum_p99": 0.95,
            "mean_r": 0.5, "mean_g": 0.5, "mean_b": 0.5, "std_r": 0.2, "std_g": 0.2, "std_b": 0.2, "appearance": None,
            "content": None}
    out = []
    for i, row in enumerate(rows):
        r = {**base, "path": f"f{i}.png", "file_hash": f"h{i}", "pixel_hash": f"p{i}", "phash": i * 0x0F0F0F0F,
             "appearance": appearance(i), **row}
        if r["content"] is None:  # the same pixels, the same thumbnail
            r["content"] = content(r["pixel_hash"])
        out.append(r)
    df = pd.DataFrame(out)[SAMPLE_COLUMNS]
    return df
