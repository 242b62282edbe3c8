"""The pictures of one class most alike each picture, by content (the outliers' second opinion, outliers.py):
each picture's search windows (content.py: its grey thumbnail blurred, moved by up to 3 px each way) against
every member's central window, the best |cosine| over the windows (a negative is alike: light on dark or dark
on light is the first rule's matter). A class of up to DENSE_ROWS pictures is compared with every member by
matrix products, a larger one through a faiss index: O(N x k)."""

import numpy as np

from . import content

DENSE_BLOCK = 1 << 22  # similarities to members computed at once (16 MB)
DENSE_ROWS = 16_384  # a class up to this size is compared with every member (exact, and faster than an index:
# docs/benchmarks.md, "Content-level copies: scan speed"); a larger one through a faiss index


class Members:
    """A class's search vectors (its pictures' central windows), compared with directly up to `dense_rows` of
    them, beyond that through a faiss index (content.Index: O(N x k))."""

    def __init__(self, blurred: np.ndarray, dense_rows: int = DENSE_ROWS):
        vectors = content.search_vectors(blurred)
        self.vectors = vectors if len(vectors) <= dense_rows else None
        self.index = content.Index(vectors) if self.vectors is None else None


def kth_similarity(members: Members, blurred: np.ndarray, k: int, itself: np.ndarray | None = None,
                   shifts=content.SEARCH_SHIFTS) -> np.ndarray:
    """Each picture's similarity to its k-th most alike member, each member counted once at its best over the
    query windows (moved by `shifts` each way: up to 4 px) and their negatives. A negative is alike: light on
    dark or dark on light is the first rule's matter (tone balance), and a glyph on a transparent background,
    composited on white, is its class's negative. `itself[i]` is picture i's row among the members (or -1): a
    picture never counts itself, while its exact copies do."""
    if len(blurred) == 0:
        return np.empty(0, np.float32)
    windows = content.moved_search_vectors(blurred, shifts)
    if members.vectors is None:
        return _kth_indexed(members.index, windows, k, itself)
    return _kth_dense(members.vectors, windows, k, itself)


def _best_blocks(vectors: np.ndarray, windows: np.ndarray, itself: np.ndarray | None):
    """(lo, hi, best) for blocks of the pictures: best[p, m] the best |cosine| of picture lo + p's windows with
    member m (a negative's cosine is the picture's, negated), -inf at the picture itself."""
    n = len(vectors)
    step = max(1, DENSE_BLOCK // n)
    for lo in range(0, windows.shape[1], step):
        hi = min(lo + step, windows.shape[1])
        best = np.abs(windows[0, lo:hi] @ vectors.T)
        for w in windows[1:]:
            np.maximum(best, np.abs(w[lo:hi] @ vectors.T), out=best)
        if itself is not None:
            own = np.asarray(itself[lo:hi])
            at = np.flatnonzero(own >= 0)
            best[at, own[at]] = -np.inf
        yield lo, hi, best


def _rank(k: int, n: int, itself) -> int:
    """Which most alike member (1 = the most) is asked among n: the k-th, or fewer where there are fewer, the
    picture itself (when it is a member) left out."""
    return min(k, n) if itself is None else max(1, min(k, n - 1))


def _kth_dense(vectors: np.ndarray, windows: np.ndarray, k: int, itself: np.ndarray | None) -> np.ndarray:
    """kth_similarity against every member."""
    n, out = len(vectors), np.empty(windows.shape[1], np.float32)
    kth = _rank(k, n, itself)
    for lo, hi, best in _best_blocks(vectors, windows, itself):
        out[lo:hi] = np.partition(best, n - kth, axis=1)[:, n - kth]
    return out


def below_kth(members: Members, blurred: np.ndarray, k: int, floor: float, itself: np.ndarray | None = None,
              shifts=content.SEARCH_SHIFTS) -> np.ndarray:
    """Whether each picture's kth_similarity is below `floor`: fewer than k members reach it. Counting them
    costs a pass over the similarities where finding the k-th (a partition of each row) costs several."""
    if members.vectors is None or len(blurred) == 0:
        return kth_similarity(members, blurred, k, itself, shifts) < floor
    n, out = len(members.vectors), np.empty(len(blurred), bool)
    kth = _rank(k, n, itself)
    for lo, hi, best in _best_blocks(members.vectors, content.moved_search_vectors(blurred, shifts), itself):
        out[lo:hi] = np.count_nonzero(best >= floor, axis=1) < kth
    return out


def _kth_indexed(index: "content.Index", windows: np.ndarray, k: int, itself: np.ndarray | None) -> np.ndarray:
    """kth_similarity through an index: each window and its negative's k + 1 nearest."""
    sims, rows = zip(*(index.nearest(sign * w, k + 1) for w in windows for sign in (1, -1)), strict=True)
    sims, rows = np.concatenate(sims, axis=1), np.concatenate(rows, axis=1)
    order = np.argsort(rows * 4.0 + (1 - sims), axis=1)  # by indexed row, the best similarity first
    sims, rows = np.take_along_axis(sims, order, axis=1), np.take_along_axis(rows, order, axis=1)
    repeat = np.zeros(rows.shape, bool)
    repeat[:, 1:] = rows[:, 1:] == rows[:, :-1]
    if itself is not None:
        repeat |= rows == np.asarray(itself)[:, None]
    sims = np.where(repeat | (rows < 0), -np.inf, sims)
    kth = np.sort(sims, axis=1)[:, -min(k, sims.shape[1])]
    return np.where(np.isfinite(kth), kth, sims.max(axis=1))  # fewer than k found: the farthest found
