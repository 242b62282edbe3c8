"""Near copies by perceptual hash: candidate pairs within `radius` bits of pHash (or of a hash of the
appearance vector), confirmed by the appearance vectors. Resized, re-encoded and slightly re-exposed
copies land here; content-level edits (shifts, crops, colour, mirror) are copies.py's.

The search never builds an N x N matrix. It is a pigeonhole (multi-index) hash index: split the 64 pHash
bits into radius+1 blocks; two hashes within `radius` bits agree exactly on at least one block. So sort by
each block, pair only hashes in runs of equal block values, and verify the full distance. Cost grows with
the candidates, not with N^2.
"""

import numpy as np
import pandas as pd

from .config import DuplicatesConfig


def block_layout(radius: int) -> list[tuple[int, int]]:
    """(shift, width) of radius+1 contiguous bit blocks covering 64 bits."""
    blocks = radius + 1
    widths = [64 // blocks + (1 if i < 64 % blocks else 0) for i in range(blocks)]
    shifts = np.cumsum([0] + widths[:-1])
    return [(int(s), int(w)) for s, w in zip(shifts, widths, strict=True)]


CROWDED_RUN = 2_000  # hashes sharing one block value: beyond this the block carries no information
CROWDED_WINDOW = 32  # ...and each hash is compared only with its nearest neighbours in hash order


def near_pairs(hashes, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i < j, sorted) whose 64-bit hashes differ in at most `radius` bits, and their distances."""
    from . import distance_kernels

    h = _unsigned(hashes)
    return distance_kernels.split_keys(near_keys(h, radius), h)


def _unsigned(hashes) -> np.ndarray:
    return np.asarray(hashes).astype(np.int64).view(np.uint64)


def near_keys(hashes, radius: int) -> np.ndarray:
    """near_pairs as sorted keys, i * len(hashes) + j.

    Degenerate data (thousands of smooth gradients with one appearance hash) would make one run of
    equal block values quadratic: 5,000 alike images are 12.5M pairs, and a scan ran out of memory on
    it. In runs longer than CROWDED_RUN each hash meets only its CROWDED_WINDOW successors, sorted by
    the whole hash, so identical and nearly identical hashes still meet and the cost stays linear. A pair
    is kept in the first block where it meets (distance_kernels.block_pairs)."""
    from . import distance_kernels as kernels  # numba: only where hashes are searched

    h = _unsigned(hashes)
    n = len(h)
    layout = block_layout(radius)
    shifts = np.array([shift for shift, _ in layout], np.uint64)
    masks = np.array([(1 << width) - 1 for _, width in layout], np.uint64)
    position, crowded = np.empty((len(layout), n), np.int64), np.empty((len(layout), n), bool)
    found, none = [], np.empty(0, np.int64)
    for block in range(len(layout)):
        key = (h >> shifts[block]) & masks[block]
        order = np.lexsort((h, key))
        position[block, order] = np.arange(n)
        ends = np.r_[np.flatnonzero(np.diff(key[order])) + 1, n]
        length = np.diff(np.r_[0, ends])
        crowded[block, order] = np.repeat(length > CROWDED_RUN, length)
        args = (h, radius, order, position, np.repeat(ends, length), crowded, shifts, masks, block, CROWDED_WINDOW)
        found.append(np.empty(kernels.block_pairs(*args, none), np.int64))
        kernels.block_pairs(*args, found[-1])
    return kernels.sorted_keys(np.concatenate(found)) if n else none


def merged_runs(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct values of `keys`, a few sorted runs one after another: an in-place stable sort (a merge
    of the runs: linear) and a neighbour test, several times faster than np.unique on the tens of millions of
    candidate keys that crowded data (smooth gradients) gives."""
    keys.sort(kind="stable")
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def positions(n: int, *members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the sorted distinct values of `members`, a lookup from value to its position there, -1 elsewhere),
    for values in range(n): a mask instead of a sort."""
    mask = np.zeros(n, dtype=bool)
    for m in members:
        mask[m] = True
    values = np.flatnonzero(mask)
    lookup = np.full(n, -1, dtype=np.int64)
    lookup[values] = np.arange(len(values))
    return values, lookup


def appearance_hash(values, chunk: int = 100_000) -> np.ndarray:
    """A second perceptual hash from the 16x16 appearance vectors: 2x2-pooled to 8x8, each cell above
    the median. pHash misses some resized copies of fine periodic patterns (stripes, text) that this
    catches; built in chunks so a million rows cost 8 MB, not a float matrix."""
    out = np.empty(len(values), dtype=np.int64)
    values = list(values)
    for lo in range(0, len(values), chunk):
        arr = np.frombuffer(b"".join(values[lo:lo + chunk]), dtype=np.uint8).reshape(-1, 16, 16).astype(np.float32)
        pooled = arr.reshape(-1, 8, 2, 8, 2).mean(axis=(2, 4)).reshape(-1, 64)
        bits = pooled > np.median(pooled, axis=1, keepdims=True)
        out[lo:lo + chunk] = np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64).view(np.int64)
    return out


def candidate_pairs(phashes, ahashes, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs within `radius` bits by pHash or by appearance hash; with their pHash distance."""
    from . import distance_kernels

    keys = merged_runs(np.r_[near_keys(phashes, radius), near_keys(ahashes, radius)])
    return distance_kernels.split_keys(keys, _unsigned(phashes))


def normalised_appearance(values) -> np.ndarray:
    """16x16 grey vectors, zero mean and unit std each: copies agree whatever their brightness."""
    arr = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1).astype(np.float32)
    arr -= arr.mean(axis=1, keepdims=True)
    arr /= np.maximum(arr.std(axis=1, keepdims=True), 1.0)
    return arr


def mean_abs_distance(app: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Mean |difference| of the appearance vectors of pairs (i, j): a compiled loop, chunks of pairs on threads
    of our own (it releases the GIL)."""
    return _per_pair(app, i, j, chunk, squared=False)


def rms_distance(app: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """Root mean square difference of the appearance vectors of pairs (i, j), as mean_abs_distance."""
    return _per_pair(app, i, j, chunk, squared=True)


def _per_pair(app: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int, squared: bool) -> np.ndarray:
    from concurrent.futures import ThreadPoolExecutor

    from . import distance_kernels
    from .content import threads

    app = np.ascontiguousarray(app, dtype=np.float32)
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    out = np.empty(len(i), dtype=np.float32)

    def run(lo):
        distance_kernels.pair_distance(app, i[lo:lo + chunk], j[lo:lo + chunk], out[lo:lo + chunk], squared)

    with ThreadPoolExecutor(max_workers=threads()) as pool:
        list(pool.map(run, range(0, len(i), chunk)))
    return out


def compile_kernels() -> None:
    """Search and measure made-up pairs, so that numba compiles the kernels and caches them now, at set-up."""
    candidate_pairs(np.array([0, 1, 3 << 40]), np.array([7, 7, 7]), 4)
    mean_abs_distance(np.zeros((2, 4), np.float32), np.array([0]), np.array([1]))
    rms_distance(np.zeros((2, 4), np.float32), np.array([0]), np.array([1]))


def appearance_distances(appearance: pd.Series, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Mean |difference| of the normalised appearance vectors of pairs (i, j) of positions in `appearance`,
    normalising only the rows the pairs involve."""
    if not len(i):
        return np.empty(0, np.float32)
    rows, lookup = positions(len(appearance), i, j)
    return mean_abs_distance(normalised_appearance(list(appearance.iloc[rows])), lookup[i], lookup[j])


def shift_sensitivity(app: np.ndarray) -> np.ndarray:
    """How far a half-pixel shift moves each 16x16 vector (mean |difference| of neighbouring cells / 2,
    the larger of the two axes). A 1-3 % crop or a resize moves a fine-textured picture's vector this
    much without it becoming another picture; a smooth one's barely."""
    v = app.reshape(len(app), 16, 16)
    return np.maximum(np.abs(np.diff(v, axis=1)).mean(axis=(1, 2)), np.abs(np.diff(v, axis=2)).mean(axis=(1, 2))) / 2


def nearest_other(app: np.ndarray, nodes: np.ndarray, reference: np.ndarray, cand_i: np.ndarray,
                  cand_j: np.ndarray, min_reference: int, chunk: int = 2048) -> np.ndarray:
    """RMS distance from each of `nodes` (sorted) to its nearest picture in `reference` (sorted) that is
    neither itself nor one of its hash candidates (its copies are among those). 0 where fewer than
    `min_reference` such pictures exist: with nothing to compare against, isolation is not shown."""
    a, b = np.r_[cand_i, cand_j, nodes], np.r_[cand_j, cand_i, nodes]  # pairs to leave out, self included
    _, node_pos = positions(len(app), nodes)
    _, ref_pos = positions(len(app), reference)
    row, col = node_pos[a], ref_pos[b]
    keep = (row >= 0) & (col >= 0)
    row, col = row[keep], col[keep]
    ref = app[reference]
    ref_sq = (ref * ref).sum(axis=1)
    out = np.zeros(len(nodes), dtype=np.float32)
    for lo in range(0, len(nodes), chunk):
        part = app[nodes[lo:lo + chunk]]
        sq = (part * part).sum(axis=1)[:, None] + ref_sq[None, :] - 2 * part @ ref.T
        inside = (row >= lo) & (row < lo + len(part))
        sq[row[inside] - lo, col[inside]] = np.inf
        enough = np.isfinite(sq).sum(axis=1) >= min_reference
        out[lo:lo + len(part)] = np.where(enough, np.sqrt(np.maximum(sq.min(axis=1), 0) / app.shape[1]), 0)
    return out


def reference_sample(phashes: np.ndarray, size: int) -> np.ndarray:
    """Positions of `size` pictures picked by a scramble of their pHash: the same pictures whatever the
    table's order, so the inspector and the pair-distance view judge a pair alike."""
    key = np.asarray(phashes).astype(np.int64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return np.sort(np.argsort(key, kind="stable")[:size])


def confirmed(appearance: pd.Series, phashes: np.ndarray, i: np.ndarray, j: np.ndarray,
              config: DuplicatesConfig) -> np.ndarray:
    """Which candidate pairs (i, j: positions in `appearance`, the nodes' 16x16 vectors) are copies.

    Within confirm_max_distance (mean |difference| of the normalised vectors): a copy. Up to
    loose_max_distance, a copy only if both hold:
    - the distance is within what a half-pixel shift of the finer of the two pictures explains
      (shift_tolerance x its shift_sensitivity): a cropped or resized textured photo, not another picture;
    - the two are far closer to each other than to anything else (isolation_ratio x the RMS distance to
      the nearest non-candidate in a reference sample): look-alikes (glyphs of one digit, icons)
      live in crowds of other look-alikes, copies stand alone."""
    reference = reference_sample(phashes, config.reference_sample)
    rows, lookup = positions(len(appearance), i, j, reference)  # only these are normalised
    app = normalised_appearance(list(appearance.iloc[rows]))
    i, j, reference = lookup[i], lookup[j], lookup[reference]
    dist = mean_abs_distance(app, i, j)
    ok = dist <= config.confirm_max_distance
    border = np.flatnonzero(~ok & (dist <= config.loose_max_distance))
    if len(border):
        nodes, at = positions(len(app), i[border], j[border])
        s = shift_sensitivity(app[nodes])
        sens = np.maximum(s[at[i[border]]], s[at[j[border]]])
        border = border[dist[border] <= config.shift_tolerance * sens]
    if len(border):
        nodes, at = positions(len(app), i[border], j[border])
        near = nearest_other(app, nodes, reference, i, j, config.min_reference)
        pair = rms_distance(app, i[border], j[border])  # a compiled loop: no copies of a million vectors
        apart = np.minimum(near[at[i[border]]], near[at[j[border]]])
        ok[border[pair <= config.isolation_ratio * apart]] = True
    return ok


def nearest_partners(i: np.ndarray, j: np.ndarray, distance: np.ndarray, m: int) -> np.ndarray:
    """Which pairs (i, j) are among the m nearest partners (by distance) of either of their pictures. Ties keep
    the pairs' order."""
    from .vector_join import rank_in_groups

    rank = rank_in_groups(np.r_[i, j], -np.tile(distance, 2))  # by picture, nearest first
    return (rank[:len(i)] < m) | (rank[len(i):] < m)
