"""Outliers: images unlike the rest of the dataset AND unlike their own class.

Each decoded image is its 16x16 grey appearance vector, normalised (zero mean, unit std, so
exposure is the quality inspector's business, not this one's), reduced by PCA. Its typicality is
the mean distance to its k nearest neighbours in a random reference sample, of the whole dataset and
of its own class; each is turned into a robust z-score. Comparing with a fixed-size reference keeps
the cost at O(N x reference) instead of O(N^2).
"""

import numpy as np
import pandas as pd

from . import findings as F
from .config import OutliersConfig
from .duplicates import normalised_appearance

NEEDS = ["path", "ok", "label", "contrast", "appearance"]
MIN_CONTRAST = 0.02  # near-blank images have no shape to compare: they are low_information instead
CHUNK = 4096


def knn_distance(points: np.ndarray, reference: np.ndarray, k: int, same: np.ndarray | None = None) -> np.ndarray:
    """Mean Euclidean distance from each point to its k nearest reference points. `same[i]` is the
    row of point i inside `reference` (or -1), so a point never counts itself."""
    k = max(1, min(k, len(reference) - (1 if same is not None else 0)))
    ref_sq = (reference**2).sum(1)
    out = np.empty(len(points))
    for lo in range(0, len(points), CHUNK):
        p = points[lo:lo + CHUNK]
        d2 = (p**2).sum(1)[:, None] + ref_sq[None, :] - 2 * p @ reference.T
        if same is not None:
            rows = np.flatnonzero(same[lo:lo + CHUNK] >= 0)
            d2[rows, same[lo:lo + CHUNK][rows]] = np.inf
        part = np.partition(d2, k - 1, axis=1)[:, :k]
        out[lo:lo + CHUNK] = np.sqrt(np.maximum(part, 0)).mean(1)
    return out


def embed(ok: pd.DataFrame, config: OutliersConfig, rng) -> tuple[np.ndarray, np.ndarray]:
    """(PCA coordinates of every image, indices of the reference sample)."""
    x = normalised_appearance(list(ok["appearance"]))
    ref = np.sort(rng.choice(len(x), min(len(x), config.reference_size), replace=False))
    mean = x[ref].mean(0)
    _, _, vt = np.linalg.svd(x[ref] - mean, full_matrices=False)
    return (x - mean) @ vt[: config.components].T, ref


def inspect(samples: pd.DataFrame, config: OutliersConfig = OutliersConfig()) -> pd.DataFrame:
    F.require(samples, NEEDS, "outliers")
    ok = samples[samples["ok"].astype(bool) & samples["appearance"].notna()
                 & (samples["contrast"].astype(float) >= MIN_CONTRAST)].reset_index(drop=True)
    if len(ok) < 3 * config.k:
        return F.empty()
    rng = np.random.default_rng(0)
    z, ref = embed(ok, config, rng)
    same = np.full(len(ok), -1)
    same[ref] = np.arange(len(ref))
    global_dist = knn_distance(z, z[ref], config.k, same)
    global_z, log_median, _ = F.robust_z(np.log(global_dist + 1e-9))  # kNN distances are right-skewed
    global_median = np.exp(log_median)
    labels = ok["label"].fillna("").to_numpy()
    class_dist = np.zeros(len(ok))
    class_z = np.zeros(len(ok))
    class_refs, class_median = {}, {}
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        cref = members if len(members) <= config.reference_size else np.sort(
            rng.choice(members, config.reference_size, replace=False))
        class_refs[label] = cref
        if len(cref) < 3:
            continue
        pos = np.full(len(ok), -1)
        pos[cref] = np.arange(len(cref))
        class_dist[members] = knn_distance(z[members], z[cref], config.k, pos[members])
        class_z[members], log_median, _ = F.robust_z(np.log(class_dist[members] + 1e-9), floor=1e-6)
        class_median[label] = np.exp(log_median)
    far = global_dist > config.min_ratio * global_median  # a tight dataset's noise is not an outlier
    flagged = np.flatnonzero((global_z > config.robust_z) & (class_z > config.robust_z / 2) & far)
    details, scores = [], []
    for i in flagged:
        closest, closest_d = _closest_other_class(z[i], labels[i], class_refs, z, config.k)
        hint = ""
        if closest is not None and closest_d <= config.min_ratio * class_median.get(closest, 0):
            hint = f"; typical of class {closest!r} instead: possibly mislabelled"
        details.append(f"unlike the dataset ({global_z[i]:.1f} robust stds) and its class "
                       f"{labels[i] or '(unlabelled)'!r} ({class_z[i]:.1f}){hint}")
        scores.append(1 - np.exp(-(min(global_z[i], class_z[i] * 2) - config.robust_z) / config.robust_z) * 0.5)
    return F.findings(ok["path"].to_numpy()[flagged], "outlier", scores, details)


def _closest_other_class(point, own, class_refs, z, k):
    best, best_d = None, np.inf
    for label, cref in class_refs.items():
        if label == own or len(cref) < k:
            continue
        d = knn_distance(point[None, :], z[cref], k)[0]
        if d < best_d:
            best, best_d = label, d
    return best, best_d
