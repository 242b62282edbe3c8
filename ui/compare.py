"""A copy beside its representative as the duplicates inspector matched them: the copy redrawn in the
representative's frame (zoom, shift and mirror undone), and where the two still differ."""

import numpy as np
from PIL import Image

from inspectors import alignment, content


def match(content_a: bytes, content_b: bytes) -> dict:
    """How picture b lies on picture a (their 32x32 content thumbnails): zoom, dx, dy, mirrored and how well
    they agree once aligned (layout, detail), the better of b as it is and b mirrored."""
    g = content.greys([content_a, content_b])
    pairs = content.Candidates(np.zeros(2, np.int64), np.ones(2, np.int64), np.ones(2, np.float32),
                               np.array([False, True]), np.zeros(2, np.int64), np.zeros(2, np.int64))
    found = alignment.align(g, pairs)
    best = int(np.argmax(found.layout + found.detail))
    return {"zoom": float(found.zoom[best]), "dx": float(found.dx[best]), "dy": float(found.dy[best]),
            "mirrored": bool(found.mirrored[best]), "rotation": float(found.rotation[best]),
            "layout": float(found.layout[best]),
            "detail": float(found.detail[best])}


def redrawn(a: Image.Image, b: Image.Image, how: dict) -> Image.Image:
    """b drawn in a's frame (a's size) by the alignment `how` of b onto a."""
    coefficients = alignment.affine_onto(how["zoom"], how["dx"], how["dy"], how["mirrored"], a.size, b.size,
                                         how.get("rotation", 0.0))
    return b.convert("RGB").transform(a.size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR,
                                      fillcolor=(0, 0, 0))


def difference(a: Image.Image, b_in_a: Image.Image) -> Image.Image:
    """Where the two differ once brightness and contrast are set aside (what the comparison sees): the
    absolute difference of their normalised grey levels, white = 3 standard deviations or more."""
    x, y = (np.asarray(im.convert("L"), np.float32) for im in (a, b_in_a))
    x, y = ((v - v.mean()) / max(float(v.std()), 1.0) for v in (x, y))
    return Image.fromarray(np.clip(np.abs(x - y) * 85, 0, 255).astype(np.uint8), "L")
