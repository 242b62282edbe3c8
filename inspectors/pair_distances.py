"""Pair distances around the near-duplicate threshold, so a person can judge it on their own data.

The duplicates inspector keeps a pair when its pHashes differ in at most `radius` bits and its
appearance vectors confirm it. Here the same pigeonhole search (hash_copies.near_pairs) runs again, and
every candidate pair comes back with both distances: a histogram by Hamming distance with the
threshold line, and the pairs just inside and just outside it. Exact copies (same pixels) are one
picture, as in the inspector, so bin 0 holds different files that hash alike, not byte copies.

Inside the line (<= radius) the search is the inspector's own, over every picture: those bins are
exact. Beyond it the search looks `extra_bits` further. A wider radius means shorter blocks, longer
runs of equal block values and quadratically more comparisons, so when that would cost more than a
budget (counted from the block histograms before searching) it runs on a random sample of the
pictures, sized to the budget, and the bins beyond the line are scaled up from it and flagged as
estimates. Pairs of a sample are real pairs, so the examples stay real.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DuplicatesConfig
from .hash_copies import (
    appearance_hash,
    block_layout,
    candidate_pairs,
    confirmed,
    mean_abs_distance,
    near_pairs,
    normalised_appearance,
)
from .scan import read_samples

NEEDS = ["path", "ok", "phash", "appearance"]
EXTRA_BITS = 4  # search this much beyond the configured radius: the pairs a looser threshold would add
MAX_COMPARISONS = 30_000_000  # hash comparisons the search may cost: beyond, it samples (docs/benchmarks.md, "Scale")
PAIR_CHUNK = 20_000  # appearance distances are computed this many pairs at a time (20k x 256 floats = 20 MB)
PAIR_COLUMNS = ["path_a", "path_b", "hamming", "appearance", "within_radius", "confirmed"]


@dataclass(frozen=True)
class PairDistances:
    pairs: pd.DataFrame  # PAIR_COLUMNS, sorted by hamming then appearance
    histogram: pd.DataFrame  # hamming (every integer 0..searched_radius), confirmed, not_confirmed, estimated
    radius: int  # the configured threshold (a pair at hamming <= radius may be a duplicate)
    confirm_max_distance: float  # the configured appearance threshold
    loose_max_distance: float  # past confirm_max_distance, pairs up to this may still be confirmed (see duplicates)
    searched_radius: int  # how far beyond the line the search looked
    pictures: int  # distinct pictures searched
    sampled: int  # pictures the search beyond the line covered (== pictures unless the budget forced a sample)


def comparisons(hashes: np.ndarray, radius: int) -> int:
    """What near_pairs(hashes, radius) would compare: pairs inside runs of equal block values."""
    h = np.asarray(hashes).astype(np.int64).view(np.uint64)
    total = 0
    for shift, width in block_layout(radius):
        key = (h >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        runs = np.unique(key, return_counts=True)[1].astype(np.int64)
        total += int((runs * (runs - 1) // 2).sum())
    return total


def appearance_distances(appearance: pd.Series, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Mean |difference| of the normalised appearance vectors of rows i and j (the inspector's measure)."""
    out = np.empty(len(i), dtype=np.float64)
    if not len(i):
        return out
    involved, inverse = np.unique(np.r_[i, j], return_inverse=True)
    vectors = normalised_appearance(list(appearance.iloc[involved]))
    out[:] = mean_abs_distance(vectors, inverse[:len(i)], inverse[len(i):], chunk=PAIR_CHUNK)
    return out


def searchable(samples: pd.DataFrame, config: DuplicatesConfig) -> pd.DataFrame:
    """One row per distinct picture that the near-duplicate search looks at (as the inspector does)."""
    missing = [c for c in NEEDS if c not in samples.columns]
    if missing:
        raise KeyError(f"pair_distances needs the columns {missing}")
    ok = samples[samples["ok"].fillna(False).astype(bool) & samples["phash"].notna() & samples["appearance"].notna()]
    ok = ok.sort_values("path", kind="stable")
    if "pixel_hash" in ok.columns:
        ok = ok[ok["pixel_hash"].isna() | ~ok["pixel_hash"].duplicated()]
    if "contrast" in ok.columns:  # near-blank images pair only by exact pixels in the inspector
        ok = ok[ok["contrast"].astype(float) >= config.min_contrast]
    return ok.reset_index(drop=True)


def inspector_verdicts(pictures: pd.DataFrame, config: DuplicatesConfig) -> np.ndarray:
    """Keys i * n + j (i < j) of the pairs the duplicates inspector confirms among `pictures`: its own
    candidates (pHash or appearance hash) and its own confirmation, so the line drawn here is its line."""
    hashes = pictures["phash"].to_numpy(np.int64)
    i, j, _ = candidate_pairs(hashes, appearance_hash(pictures["appearance"]), config.radius)
    if not len(i):
        return np.empty(0, np.int64)
    keep = confirmed(pictures["appearance"], hashes, i, j, config)
    return i[keep] * len(hashes) + j[keep]


def pair_distances(samples: pd.DataFrame, config: DuplicatesConfig = DuplicatesConfig(),
                   extra_bits: int = EXTRA_BITS, budget: int = MAX_COMPARISONS, seed: int = 0) -> PairDistances:
    pictures = searchable(samples, config)
    hashes = pictures["phash"].to_numpy(np.int64)
    n, wide = len(hashes), min(config.radius + extra_bits, 63)
    i, j, d = near_pairs(hashes, config.radius)  # inside the line: the inspector's search, every picture
    cost = comparisons(hashes, wide)
    sample = np.arange(n) if cost <= budget else np.sort(
        np.random.default_rng(seed).choice(n, int(n * np.sqrt(budget / cost)), replace=False))
    if len(sample) >= 2:
        i2, j2, d2 = near_pairs(hashes[sample], wide)
        beyond = d2 > config.radius
        i, j, d = np.r_[i, sample[i2[beyond]]], np.r_[j, sample[j2[beyond]]], np.r_[d, d2[beyond]]
    app = appearance_distances(pictures["appearance"], i, j)
    paths = pictures["path"].to_numpy(object)
    pairs = pd.DataFrame({"path_a": paths[i], "path_b": paths[j], "hamming": d.astype(np.int64), "appearance": app})
    pairs["within_radius"] = pairs["hamming"] <= config.radius
    pairs["confirmed"] = pairs["within_radius"] & np.isin(np.minimum(i, j) * n + np.maximum(i, j),
                                                          inspector_verdicts(pictures, config))
    pairs = pairs.sort_values(["hamming", "appearance", "path_a", "path_b"], kind="stable").reset_index(drop=True)
    bins = np.arange(wide + 1)
    confirmed = np.bincount(pairs.loc[pairs["confirmed"], "hamming"], minlength=wide + 1)[:wide + 1]
    rest = np.bincount(pairs.loc[~pairs["confirmed"], "hamming"], minlength=wide + 1)[:wide + 1].astype(float)
    estimated = (bins > config.radius) & (len(sample) < n)
    if estimated.any():  # pairs among m of n pictures: a share m(m-1) / n(n-1) of all pairs
        m = len(sample)
        rest[estimated] = np.round(rest[estimated] * n * (n - 1) / max(m * (m - 1), 1))
    histogram = pd.DataFrame({"hamming": bins, "confirmed": confirmed, "not_confirmed": rest.astype(np.int64),
                              "estimated": estimated})
    return PairDistances(pairs, histogram, config.radius, config.confirm_max_distance, config.loose_max_distance,
                         wide, n, len(sample))


def of_workspace(workspace_dir, config: DuplicatesConfig = DuplicatesConfig()) -> PairDistances:
    """pair_distances of a scanned workspace's samples table (what a background process runs)."""
    return pair_distances(read_samples(workspace_dir), config)


def just_inside(result: PairDistances, n: int = 4) -> pd.DataFrame:
    """Confirmed duplicates nearest the line: the largest Hamming distances, then the largest appearance."""
    inside = result.pairs[result.pairs["confirmed"]]
    return inside.sort_values(["hamming", "appearance"], ascending=False, kind="stable").head(n).reset_index(drop=True)


def just_outside(result: PairDistances, n: int = 4) -> pd.DataFrame:
    """Pairs beyond the radius nearest the line: the smallest Hamming distances, then the most alike."""
    outside = result.pairs[~result.pairs["within_radius"]]
    return outside.sort_values(["hamming", "appearance"], kind="stable").head(n).reset_index(drop=True)


def rejected_by_appearance(result: PairDistances, n: int = 4) -> pd.DataFrame:
    """Pairs within the radius that the appearance check turned down, the most alike first."""
    rejected = result.pairs[result.pairs["within_radius"] & ~result.pairs["confirmed"]]
    return rejected.sort_values(["appearance", "hamming"], kind="stable").head(n).reset_index(drop=True)
