"""Ground truth of the copy benchmarks: which pairs of images are copies, by geometry, never by eye.

Every image cut from a photo carries its window in the photo's pixel coordinates (x0, y0, x1, y1). Two images
of one photo share `overlap` = intersection area / area of the larger window: at least COPY (0.8) they show the
same picture (a crop keeping 80 % of it is a copy), below NEGATIVE (0.5) they are different pictures, in between
the pair is ambiguous and neither rewarded nor punished. Images of different photos are different pictures.
An edited copy carries its effective window (a shifted copy's window moves with its content); a mirrored or
rotated copy keeps its original's window, so it is a copy of the same picture, of kind "mirror"/"rotation".
A burst (`changed`: part of the picture replaced by other content) is a different picture from every image
whose window it shares: at COPY or above the pair is a negative, in the ambiguous band still ambiguous.

Images that are not cut from a photo (the digits set) carry `source` instead: the same source is a copy, and
so are identical source arrays (`source_key`); `near_source` pairs (arrays nearly identical) are ambiguous.
"""

import numpy as np
import pandas as pd

COPY, NEGATIVE = 0.8, 0.5  # overlap at or above COPY: a copy; below NEGATIVE: a negative; between: ambiguous
IS_COPY, IS_AMBIGUOUS, IS_NEGATIVE = "copy", "ambiguous", "negative"
WINDOW = ["x0", "y0", "x1", "y1"]


def overlaps(window, windows) -> np.ndarray:
    """Intersection area over the larger window's area, of one window (x0, y0, x1, y1) against an (n, 4) array."""
    a = np.asarray(window, dtype=np.float64)
    b = np.atleast_2d(np.asarray(windows, dtype=np.float64))
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    larger = np.maximum((a[2] - a[0]) * (a[3] - a[1]), (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
    return ix * iy / larger


def overlap(a, b) -> float:
    return float(overlaps(a, [b])[0])


def band(value: float) -> str:
    """The truth an overlap alone gives."""
    return IS_COPY if value >= COPY else IS_NEGATIVE if value < NEGATIVE else IS_AMBIGUOUS


def table(truth: pd.DataFrame) -> dict:
    """The truth's columns as numpy arrays, which pair_labels reads far faster than it indexes a DataFrame."""
    out = {c: np.asarray(truth[c], dtype=object) for c in ("photo", "source", "source_key", "near_source")}
    out["window"] = truth[WINDOW].to_numpy(np.float64)
    out["changed"] = truth["changed"].to_numpy(bool)
    return out


def take(columns: dict, index) -> dict:
    return {c: v[index] for c, v in columns.items()}


def pair_labels(row, others) -> np.ndarray:
    """The truth of `row` (one image's truth record) paired with each image of `others` (a truth DataFrame or
    its `table`), as an array of labels."""
    others = table(others) if isinstance(others, pd.DataFrame) else others
    labels = np.full(len(others["photo"]), IS_NEGATIVE, dtype=object)
    if not len(labels):
        return labels
    if row.get("photo", ""):
        same = others["photo"] == row["photo"]
        if same.any():
            values = overlaps([row[c] for c in WINDOW], others["window"][same])
            got = np.where(values >= COPY, IS_COPY, np.where(values < NEGATIVE, IS_NEGATIVE, IS_AMBIGUOUS))
            changed = bool(row.get("changed", False)) | others["changed"][same]
            got[changed & (got == IS_COPY)] = IS_NEGATIVE  # a burst is another picture of the same window
            labels[same] = got
        return labels
    labels[others["source"] == row["source"]] = IS_COPY
    labels[others["source_key"] == row["source_key"]] = IS_COPY
    # near_source is symmetric (a source lists each source that lists it), so the row's own list is enough
    ambiguous = np.isin(others["source"].astype(str), str(row["near_source"]).split())
    labels[ambiguous & (labels != IS_COPY)] = IS_AMBIGUOUS
    return labels


def pair_label(a, b) -> str:
    """The truth of one pair of images, given their truth records (dict-like)."""
    return str(pair_labels(a, pd.DataFrame([dict(b)]))[0])

