"""Content-level copies: the same picture after a shift, a crop or zoom, a colour or tone change, a mirror.

Every scanned image leaves its 32x32 grey thumbnail (`content`, the grey pHash starts from). Two steps
find copies among them without an N x N matrix:

1. Search. A copy shifted by a few pixels, with a strip at one edge, no longer lines up with its
   original cell by cell, so each image is indexed by blurred, normalised 8x8 summaries of its 24x24
   windows moved by -3, 0 and +3 px each way, and queried with the summary of its central window (and,
   for mirrored copies, its mirror image's). One of the moved windows lines up with a copy's to within
   1.5 px, which the blur absorbs. A second search compares the magnitudes of the pictures' detail
   spectra, which no shift changes. Both keep the pairs above a cosine floor (vector_join.py).
2. Alignment (alignment.py): each candidate pair is aligned (zoom, shift, mirror) and compared.

What decides that an aligned pair is a copy lives in copies.py, with the thresholds in config.py.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import vector_join
from .vector_join import run_starts

SIDE = 32  # the content thumbnail's side (statistics.HASH_SIDE)
WINDOW = 24  # the search and the comparison look at the central window: edge strips stay outside
SEARCH_SHIFTS = (-3, 0, 3)  # query windows moved by these many px: every shift up to 4.5 px is within 1.5 px of one
SEARCH_CELLS = 8  # the search vector is the window averaged to 8x8 cells of 3x3 px
SEARCH_BLUR = 1.5  # px: a 1.5 px misalignment then changes the summary little
SPECTRUM_BLURS = (0.7, 2.5)  # px: the detail the spectra describe (the alignment's band-pass)
SPECTRUM_KEEP = 8  # the lowest 8 frequencies each way: the detail's scale and orientation, not its noise


def greys(content) -> np.ndarray:
    """`content` bytes (one 32x32 grey thumbnail each) -> (n, 32, 32) float32."""
    return np.frombuffer(b"".join(content), np.uint8).reshape(-1, SIDE, SIDE).astype(np.float32)


STRIP_MAX = 8  # px (of 32): the widest uniform strip at one edge that is taken for the fill of a shift
STRIP_TOLERANCE = 8.0  # grey levels (0-255): a strip's lines are flat and of one value to within this (JPEG rings)


def _one_sided_strips(g: np.ndarray) -> np.ndarray:
    """(n, 4): how many flat lines of one value each picture has at its top, bottom, left and right edge, where
    the opposite edge has none (0 elsewhere)."""
    edges = ((g[:, :STRIP_MAX], 2), (g[:, :-STRIP_MAX - 1:-1], 2), (g[:, :, :STRIP_MAX], 1),
             (g[:, :, :-STRIP_MAX - 1:-1], 1))  # the lines nearest the edge first, a line's values running `across`
    first = [edge[:, 0] if across == 2 else edge[:, :, 0] for edge, across in edges]
    flat_first = np.stack([line.max(axis=1) - line.min(axis=1) <= STRIP_TOLERANCE for line in first], axis=1)
    widths = np.zeros((len(g), 4), np.int64)
    for side, (edge, across) in enumerate(edges):
        # only pictures whose first line is flat and the opposite one not are measured further: a digit on black
        # or a letterboxed photo has margins on both sides (reductions over short lines are slow in numpy)
        some = np.flatnonzero(flat_first[:, side] & ~flat_first[:, side ^ 1])
        edge = edge[some]
        mean = edge.mean(axis=across)  # sums of whole grey levels: exact in any order
        flat = (edge.max(axis=across) - edge.min(axis=across) <= STRIP_TOLERANCE) \
            & (np.abs(mean - mean[:, :1]) <= STRIP_TOLERANCE)
        widths[some, side] = np.cumprod(flat, axis=1).sum(axis=1)
    return widths


def fill_strips(g: np.ndarray) -> np.ndarray:
    """The pictures with a uniform strip at one edge of an axis (what a shift leaves when the gap is filled
    with black or any one colour) filled by repeating the first line inside it, as a shift that repeats the
    edge leaves it: the strip's hard edge would otherwise dominate the band-pass the alignment compares.
    Margins on both sides of an axis (a digit on black, a letterboxed photo) are the picture's own: kept.
    In place (g is the greys just read): returns g."""
    top, bottom, left, right = _one_sided_strips(g).T
    filled = np.flatnonzero((top > 0) | (bottom > 0) | (left > 0) | (right > 0))
    if not len(filled):
        return g
    line = np.arange(SIDE)
    rows = np.clip(line[None, :], top[filled, None], SIDE - 1 - bottom[filled, None])  # each line's source line
    columns = np.clip(line[None, :], left[filled, None], SIDE - 1 - right[filled, None])
    g[filled] = g[filled[:, None, None], rows[:, :, None], columns[:, None, :]]  # gathered first, then written
    return g


def _blur_matrix(n: int, sigma: float) -> np.ndarray:
    """Gaussian blur along one axis as a matrix, edges reflected: M @ x blurs the rows of x."""
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    m = np.zeros((n, n), np.float32)
    for i in range(n):
        for t, w in zip(range(i - radius, i + radius + 1), taps, strict=True):
            j = -t - 1 if t < 0 else (2 * n - t - 1 if t >= n else t)
            m[i, j] += w
    return m


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    m = _blur_matrix(images.shape[-1], sigma)
    return m @ images @ m.T  # a stack of small products: on the alignment's threads, faster than both_axes


BLUR_CHUNK = 4096  # pictures a thread blurs at once: the temporaries stay small


def blur_on_threads(images: np.ndarray, sigma: float) -> np.ndarray:
    """blur of many pictures, chunks on threads of our own: a stack of small products runs on one core."""
    out = np.empty_like(images)

    def run(lo):
        out[lo:lo + BLUR_CHUNK] = blur(images[lo:lo + BLUR_CHUNK], sigma)

    with vector_join.one_blas_thread(), ThreadPoolExecutor(max_workers=threads()) as pool:
        list(pool.map(run, range(0, len(images), BLUR_CHUNK)))
    return out


def both_axes(images: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """rows @ image @ columns.T for each image (n, h, w), as two plain matrix products: on one thread, faster
    than a stack of small ones."""
    n, h, w = images.shape
    across = images.reshape(n * h, w) @ columns.T.astype(images.dtype)  # (n * h, w')
    down = across.reshape(n, h, -1).transpose(0, 2, 1).reshape(-1, h) @ rows.T.astype(images.dtype)  # (n * w', h')
    return np.ascontiguousarray(down.reshape(n, -1, rows.shape[0]).transpose(0, 2, 1))


def normalised(x: np.ndarray) -> np.ndarray:
    """Rows of x (any trailing shape, flattened) with zero mean and unit norm; flat rows stay zero."""
    return _normalise_rows(x.reshape(len(x), -1).astype(np.float32))


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    """normalised, in place, of a (rows, d) float32 array."""
    x -= x.mean(axis=1, keepdims=True)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)
    return x


def _cells(offset: int, count: int = SEARCH_CELLS) -> np.ndarray:
    """(count, SIDE): M @ x averages x into `count` cells of the window's size, the first where the window moved
    by `offset` px begins."""
    c, lo = WINDOW // SEARCH_CELLS, (SIDE - WINDOW) // 2 + offset
    m = np.zeros((count, SIDE), np.float32)
    for r in range(count):
        m[r, lo + r * c:lo + (r + 1) * c] = 1 / c
    return m


def search_vectors(blurred: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """(n, 64) unit vectors: the WINDOW x WINDOW window at offset (dx, dy) from the centre, in 8x8 cells."""
    return normalised(both_axes(blurred, _cells(dy), _cells(dx)))


def moved_search_vectors(blurred: np.ndarray, shifts=SEARCH_SHIFTS) -> np.ndarray:
    """(len(shifts) ** 2, n, 64): search_vectors at every (dx, dy) of the shifts, dy the outer loop. The shifts
    are whole cells apart, so every window's cells are cells of one grid over all of them (10x10 for three
    shifts): two matrix products for the grid, each window a slice of it."""
    k, c, first = len(shifts), WINDOW // SEARCH_CELLS, min(shifts)
    steps = [(shift - first) // c for shift in shifts]
    if any(shift - first != step * c for shift, step in zip(shifts, steps, strict=True)):
        raise ValueError(f"search shifts {shifts} are not whole cells ({c} px) apart")
    cells = _cells(first, SEARCH_CELLS + max(steps))
    n = len(blurred)
    grid = both_axes(blurred, cells, cells)  # (n, cells, cells)
    out = np.empty((k * k, n, SEARCH_CELLS * SEARCH_CELLS), np.float32)  # normalised in place: no copies of all
    for y in range(k):
        for x in range(k):
            rows, columns = slice(steps[y], steps[y] + SEARCH_CELLS), slice(steps[x], steps[x] + SEARCH_CELLS)
            np.copyto(out[y * k + x].reshape(n, SEARCH_CELLS, SEARCH_CELLS), grid[:, rows, columns])
            _normalise_rows(out[y * k + x])
    return out


@dataclass(frozen=True)
class Candidates:
    i: np.ndarray  # the indexed image (its central window), a position in the content array
    j: np.ndarray  # the querying image; one row per unordered pair and mirroring
    similarity: np.ndarray  # best cosine similarity of the search vectors over the query windows
    mirrored: np.ndarray  # bool: found by the mirror image's query
    dx: np.ndarray  # the query window's offset: j's content sits about this many px right of i's
    dy: np.ndarray


class Index:
    """Nearest neighbours by inner product (faiss): exact up to `exact_rows` rows, an inverted-file index of
    `cells` lists (default 4 sqrt(rows)) beyond, learnt from `training_rows` a list, whose recall on pairs
    this alike is ~1 (tests/inspectors/test_content.py). The index holds the only copy of the vectors."""

    def __init__(self, vectors: np.ndarray, exact_rows: int | None = None, cells: int | None = None,
                 training_rows: int = 64):
        import faiss  # only here: the app's first pages never load it

        faiss.omp_set_num_threads(threads())
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows, dim = vectors.shape
        if self.rows <= (EXACT_ROWS if exact_rows is None else exact_rows):
            self.index, self.ivf = faiss.IndexFlatIP(dim), None
        else:
            cells = max(16, int(4 * np.sqrt(self.rows)) if cells is None else cells)
            self.ivf = self.index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, cells, faiss.METRIC_INNER_PRODUCT)
            self.ivf.cp.seed = 0  # the same clusters on every run: findings are reproducible
            self.ivf.cp.min_points_per_centroid = 5  # fewer rows than 39 a list is fine here: no warning on stderr
            sample = np.random.default_rng(0).permutation(self.rows)[:cells * training_rows]
            self.ivf.train(vectors[np.sort(sample)])
            self.ivf.nprobe = PROBES
        self.index.add(vectors)

    def nearest(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows) of the k nearest indexed rows to each query (rows -1 where fewer)."""
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, self.rows))


CHUNK = 4_096  # pairs whose spectra are compared at once: memory stays flat however many pairs
EXACT_ROWS = 4_096  # up to this many pictures the search is exact
PROBES = 12  # inverted lists visited per query
TRAINING_ROWS = 40  # per list of the search's indexes (faiss asks for at least 39): their training is the costly part
PER_BLOCK = 20  # rows a query keeps from one cell at most: 9 windows of a picture share a cell, k + 1 pictures fit
QUERY_CHUNK = 16_384  # pictures whose queries go at once: memory stays flat in crowds, products stay large


def threads() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def spectra(g: np.ndarray) -> np.ndarray:
    """(n, 32, 17) complex64: the Fourier transform of each picture's detail (band-pass), windowed (Hann) so
    that its edges do not count. Its magnitude does not change when the picture moves."""
    from scipy import fft  # numpy's transforms a stack of small pictures one line at a time: 10x slower here

    window = np.hanning(SIDE).astype(np.float32)
    out = np.empty((len(g), SIDE, SIDE // 2 + 1), np.complex64)

    def run(lo):
        low = blur(g[lo:lo + CHUNK], SPECTRUM_BLURS[0])
        out[lo:lo + CHUNK] = fft.rfft2((low - blur(low, SPECTRUM_BLURS[1])) * window[:, None] * window[None, :])

    with vector_join.one_blas_thread(), ThreadPoolExecutor(max_workers=threads()) as pool:  # the FFTs free the GIL
        list(pool.map(run, range(0, len(g), CHUNK)))
    return out


def mirrored_spectra(f: np.ndarray, rows: np.ndarray | None = None, columns: int | None = None) -> np.ndarray:
    """spectra() of the mirror images, from the pictures' own (the band-pass and the window are symmetric):
    mirroring x turns F(ky, kx) into exp(2 pi i kx / SIDE) F(ky, -kx), and F(ky, -kx) = conj F(-ky, kx). Only
    the frequency rows `rows` and the first `columns` columns where asked (the same values, element by element)."""
    rows = np.arange(SIDE) if rows is None else np.asarray(rows)
    columns = f.shape[2] if columns is None else columns
    turn = np.exp(2j * np.pi * np.arange(f.shape[2]) / SIDE).astype(np.complex64)[:columns]
    return np.conj(f[:, (-rows) % SIDE, :columns]) * turn


def spectrum_vectors(f: np.ndarray, mirrored: bool = False) -> np.ndarray:
    """Unit vectors of the low frequencies' magnitudes (square-rooted, so no one frequency dominates), of the
    pictures or of their mirror images."""
    k = SPECTRUM_KEEP
    rows = np.r_[np.arange(k), np.arange(SIDE - k + 1, SIDE)]
    low = mirrored_spectra(f, rows, k) if mirrored else f[:, rows, :k]
    return normalised(np.sqrt(np.abs(low)))


def phase_shift(fa: np.ndarray, fb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dy) whole pixels by which each picture b's content sits from a's (phase correlation)."""
    cross = fb * np.conj(fa)
    surface = np.fft.irfft2(cross / np.maximum(np.abs(cross), 1e-9), s=(SIDE, SIDE)).reshape(len(fa), -1)
    dy, dx = np.divmod(surface.argmax(axis=1), SIDE)
    return (dx + SIDE // 2) % SIDE - SIDE // 2, (dy + SIDE // 2) % SIDE - SIDE // 2


class Search:
    """Two indexes of the pictures. Windows: each picture's window moved by each of the 9 offsets, queried by
    the central window of each picture (and of its mirror image); finds copies among look-alikes when
    shifted by a few px. Spectra: the magnitude of each picture's detail spectrum, which a shift does not
    change; finds shifted copies in crowds of look-alikes (one handwritten digit among hundreds), where the
    windows' blur makes all alike."""

    def __init__(self, g: np.ndarray, mirror: bool = True):
        self.g = g
        self.blurred = blur_on_threads(g, SEARCH_BLUR)
        self.mirror = mirror
        self.offsets = np.array([(dx, dy) for dy in SEARCH_SHIFTS for dx in SEARCH_SHIFTS])
        # the moved windows are indexed, not queried: one query a picture into an index 9 times as large
        # costs a third of nine queries into the small one
        windows = moved_search_vectors(self.blurred).reshape(-1, SEARCH_CELLS * SEARCH_CELLS)  # self.offsets' order
        self.index = vector_join.Cells(windows, cells=int(2 * np.sqrt(len(windows))), training_rows=TRAINING_ROWS,
                                       exact_rows=EXACT_ROWS * len(self.offsets), threads=threads())
        del windows
        self.f = spectra(g)
        self.spectra = vector_join.Cells(spectrum_vectors(self.f), cells=int(2 * np.sqrt(len(g))),
                                         training_rows=TRAINING_ROWS, exact_rows=EXACT_ROWS, threads=threads())

    def flips(self):
        return (False, True) if self.mirror else (False,)

    def partners(self, k: int, min_similarity: float = -1.0) -> Candidates:
        """For each picture, its k most similar others over all their windows, its own and its mirror image's
        central window against them, at least `min_similarity`: i the indexed picture, j the querying one;
        each picture's rows best first."""
        n, found, flips = len(self.blurred), [], self.flips()
        for lo in range(0, n, QUERY_CHUNK):  # a chunk of pictures at a time: memory stays flat
            who, chunk = np.arange(lo, min(lo + QUERY_CHUNK, n)), self.blurred[lo:lo + QUERY_CHUNK]  # a view
            queries = np.concatenate([search_vectors(chunk[:, :, ::-1] if flipped else chunk) for flipped in flips])
            q, row, sims = vector_join.best_partners(self.index, queries, who, n, k, min_similarity, PROBES,
                                                     PER_BLOCK)
            offset = self.offsets[row // n]  # i's window moved by this lines up with j's centre
            found.append((row % n, who[q % len(who)], sims, np.array(flips)[q // len(who)], -offset[:, 0],
                          -offset[:, 1]))
        return _concat(found, min_similarity)

    def spectrum_partners(self, k: int, min_similarity: float = -1.0, shifts: bool = True) -> Candidates:
        """Each picture's k nearest others by detail spectrum (and its mirror image's), at least
        `min_similarity`, with the shift between the two from phase correlation (zero without `shifts`:
        phase_shifts gives it for the rows kept)."""
        n = len(self.g)
        flips = self.flips()
        parts = []
        for lo in range(0, n, QUERY_CHUNK):
            who, chunk = np.arange(lo, min(lo + QUERY_CHUNK, n)), self.f[lo:lo + QUERY_CHUNK]
            queries = np.concatenate([spectrum_vectors(chunk, flipped) for flipped in flips])
            q, i, sims = vector_join.best_partners(self.spectra, queries, who, n, k, min_similarity, PROBES,
                                                   PER_BLOCK)
            parts.append((i, who[q % len(who)], sims, np.array(flips)[q // len(who)]))
        i, j, sims, mirrored = (np.concatenate(x) if parts else np.empty(0) for x in zip(*parts, strict=True))
        i, j, mirrored = i.astype(np.int64), j.astype(np.int64), mirrored.astype(bool)
        dx, dy = self.phase_shifts(i, j, mirrored) if shifts else (np.zeros(len(i), np.int64),) * 2
        return Candidates(i, j, sims.astype(np.float32), mirrored, dx, dy)

    def phase_shifts(self, i: np.ndarray, j: np.ndarray, mirrored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dx, dy): how far picture j (its mirror image where `mirrored`) sits from picture i, by phase correlation."""
        dx, dy = np.zeros(len(i), np.int64), np.zeros(len(i), np.int64)
        parts = [(flipped, at[lo:lo + CHUNK]) for flipped in self.flips()
                 for at in [np.flatnonzero(mirrored == flipped)] for lo in range(0, len(at), CHUNK)]

        def shift(task):
            flipped, part = task
            fj = self.f[j[part]]
            dx[part], dy[part] = phase_shift(self.f[i[part]], mirrored_spectra(fj) if flipped else fj)

        with ThreadPoolExecutor(max_workers=threads()) as pool:  # the inverse FFTs free the GIL
            list(pool.map(shift, parts))
        return dx, dy


def _concat(parts: list, min_similarity: float) -> Candidates:
    if not parts:
        empty = np.empty(0, np.int64)
        return Candidates(empty, empty, np.empty(0, np.float32), np.empty(0, bool), empty, empty)
    i, j, s, m, dx, dy = (np.concatenate(x) for x in zip(*parts, strict=True))
    keep = s >= min_similarity
    return Candidates(i[keep], j[keep], s[keep].astype(np.float32), m[keep], dx[keep].astype(np.int64),
                      dy[keep].astype(np.int64))


def subset(found: Candidates, keep: np.ndarray) -> Candidates:
    return Candidates(*(getattr(found, name)[keep] for name in ("i", "j", "similarity", "mirrored", "dx", "dy")))


def candidates(search: Search, k: int, min_similarity: float, min_spectrum_similarity: float = -1.0) -> Candidates:
    """Pairs that either search puts within each other's k nearest, with a similarity of at least
    `min_similarity` (the window search) or `min_spectrum_similarity` (the spectrum search), one row per
    unordered pair and mirroring; the window search's row first. Each
    pair comes as (earlier, later) picture, so it reads the same on every run: the later aligned onto the earlier."""
    if len(search.g) < 2:
        empty = np.empty(0, np.int64)
        return Candidates(empty, empty, np.empty(0, np.float32), np.empty(0, bool), empty, empty)
    windows = search.partners(k, min_similarity)
    both = [windows, search.spectrum_partners(k, min_spectrum_similarity, shifts=False)]
    i, j, s, m, dx, dy = (np.concatenate([getattr(f, name) for f in both])
                          for name in ("i", "j", "similarity", "mirrored", "dx", "dy"))
    source = np.repeat([0, 1], [len(both[0].i), len(both[1].i)])
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((-s, source, m, hi, lo))
    first = order[run_starts(lo[order], hi[order], m[order])]
    i, j, s, m, dx, dy = i[first], j[first], s[first], m[first], dx[first], dy[first]
    spectral = np.flatnonzero(source[first] == 1)  # only the pairs the window search did not find need a shift
    dx[spectral], dy[spectral] = search.phase_shifts(i[spectral], j[spectral], m[spectral])
    swap = i > j  # the shift of i seen from j: opposite, but a mirror image's stays across (mirrored both ways)
    return Candidates(np.minimum(i, j), np.maximum(i, j), s, m, np.where(swap & ~m, -dx, dx), np.where(swap, -dy, dy))


def merged(found: Candidates, i: np.ndarray, j: np.ndarray) -> Candidates:
    """The candidates plus pairs (i, j) found another way (as is, no shift known), each pair once."""
    n = max(int(found.i.max(initial=0)), int(found.j.max(initial=0)), int(np.max(i, initial=0)),
            int(np.max(j, initial=0))) + 1
    plain = ~found.mirrored
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    new = ~np.isin(pair_keys(i, j, n), pair_keys(found.i[plain], found.j[plain], n))
    i, j = i[new], j[new]
    zeros = np.zeros(len(i), np.int64)
    return Candidates(np.r_[found.i, i], np.r_[found.j, j],
                      np.r_[found.similarity, np.full(len(i), np.nan, np.float32)],
                      np.r_[found.mirrored, np.zeros(len(i), bool)], np.r_[found.dx, zeros], np.r_[found.dy, zeros])


def pair_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """One int64 per unordered pair of positions below n."""
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    return np.minimum(i, j) * np.int64(n) + np.maximum(i, j)
