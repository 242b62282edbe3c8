"""Every (query, row) pair of unit vectors whose inner product reaches a floor, without an N x N matrix.

The rows are split into cells (k-means); each query looks into its `probes` nearest cells, and all the
queries of a cell meet its rows in one matrix product. That is an inverted-file search (faiss's IVF-flat
visits the same rows) done a cell at a time instead of a query at a time, so the work runs at the speed
of a matrix product; and it returns everything above the floor, which is what a copy search asks,
rather than a fixed number of neighbours. Up to `exact_rows` rows there is one cell: the search is exact.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

BLOCK = 1 << 22  # similarities computed at once (16 MB): memory stays flat however crowded a cell
NITER = 4  # k-means iterations: the cells only bound where a query looks (10 found the same copies, docs/benchmarks.md)
BATCHES = 8  # batches of a join's tasks a thread: the threads finish together
MIN_PER_CELL = 5  # faiss asks for 39 training rows a centroid; fewer is fine here and keeps stderr quiet


def one_blas_thread():
    """Within threads of our own, each product on one BLAS thread: BLAS's own threads on top of ours made
    every product several times slower on a busy machine (docs/benchmarks.md)."""
    return threadpool_limits(1, user_api="blas")


class Cells:
    """The rows (unit vectors), grouped by their nearest of `cells` k-means centroids (learnt from
    `training_rows` rows a cell, a fixed sample: the same cells on every run)."""

    def __init__(self, vectors: np.ndarray, cells: int, training_rows: int, exact_rows: int, threads: int = 1):
        import faiss  # only here: the app's first pages never load it

        faiss.omp_set_num_threads(threads)
        self.threads = threads
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        self.quantiser, cell = None, np.zeros(n, np.int64)
        if n > exact_rows and cells > 1:
            centroids = train_centroids(vectors[training_sample(n, cells, training_rows)], cells, training_rows)
            self.quantiser, cell = quantiser(centroids), nearest_cell(centroids, vectors, threads)
        self.cells = 1 if self.quantiser is None else self.quantiser.ntotal
        self.row = np.argsort(cell, kind="stable")  # the rows, cell by cell
        self.vectors = vectors[self.row]
        self.starts = np.searchsorted(cell[self.row], np.arange(self.cells + 1))

    def probe(self, queries: np.ndarray, probes: int) -> np.ndarray:
        """(queries, probes): the cells each query looks into, nearest first."""
        if self.quantiser is None:
            return np.zeros((len(queries), 1), np.int64)
        return nearest_cells(self.quantiser, queries, min(probes, self.cells))

    def pairs(self, queries: np.ndarray, floor, probes: int, per_block: int, probe: np.ndarray | None = None):
        """(query, row, similarity) for every query and every row in its `probes` nearest cells with an inner
        product of at least `floor` (one, or one a query); where more than `per_block` rows of one cell reach
        it, the best `per_block` of them. In cell order: the same on every run. `probe`: the queries' nearest
        cells (self.probe) where known already; its first `probes` columns are used."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        probe = self.probe(queries, probes) if probe is None else probe[:, :probes]
        q, r, s = join_cells(queries, floor, probe, per_block, self.vectors, self.starts, 0, self.threads)
        return q, self.row[r], s


def training_sample(n: int, cells: int, training_rows: int) -> np.ndarray:
    """The positions (sorted) of the fixed sample the cells are learnt from: the same on every run, and all a
    partitioned search needs to read before it knows the cells."""
    return np.sort(np.random.default_rng(0).permutation(n)[:cells * training_rows])


def train_centroids(sample: np.ndarray, cells: int, training_rows: int) -> np.ndarray:
    """(cells, d) spherical k-means centroids of the sample's rows."""
    import faiss

    kmeans = faiss.Kmeans(sample.shape[1], cells, niter=NITER, seed=0, spherical=True,
                          min_points_per_centroid=MIN_PER_CELL, max_points_per_centroid=training_rows)
    kmeans.train(np.ascontiguousarray(sample, dtype=np.float32))
    return kmeans.centroids


def quantiser(centroids: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    return index


def nearest_cells(index, vectors: np.ndarray, k: int) -> np.ndarray:
    """(n, k) int64: each vector's k nearest cells, nearest first."""
    return index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)[1].astype(np.int64)


ASSIGN_ROWS = 8192  # vectors assigned to their cell at once: the products (rows x cells) stay tens of MB


def nearest_cell(centroids: np.ndarray, vectors: np.ndarray, threads: int = 1) -> np.ndarray:
    """Each vector's nearest centroid by inner product: nearest_cells(quantiser(centroids), vectors, 1)[:, 0], as
    blocks of plain products on threads (faiss keeps a heap of one per row, a fifth more time here)."""
    centroids = np.ascontiguousarray(centroids, dtype=np.float32).T

    def run(lo):
        return np.argmax(vectors[lo:lo + ASSIGN_ROWS] @ centroids, axis=1)

    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads) as pool:
        return np.concatenate([np.zeros(0, np.int64), *pool.map(run, range(0, len(vectors), ASSIGN_ROWS))])


def join_cells(queries, floor, probe, per_block, vectors, starts, first_cell=0, threads=1):
    """Cells.pairs on the rows of cells first_cell .. first_cell + len(starts) - 2 only (`vectors` those rows, cell
    by cell, `starts` where each cell begins in them): (query, position in `vectors`, similarity). The probes
    into other cells are left out, so a partition of the cells (sharded_join.py) needs only its own rows."""
    floor = np.broadcast_to(np.asarray(floor, np.float32), (len(queries),))
    cells = len(starts) - 1
    who = np.repeat(np.arange(len(queries)), probe.shape[1])
    cell = probe.ravel() - first_cell
    inside = (cell >= 0) & (cell < cells)
    who, cell = who[inside], cell[inside]
    order = np.argsort(cell, kind="stable")
    who, cell = who[order], cell[order]
    bounds = np.searchsorted(cell, np.arange(cells + 1))
    tasks = []
    for c in range(cells):
        lo, hi = starts[c], starts[c + 1]
        if hi == lo:
            continue
        step = max(1, BLOCK // (hi - lo))
        tasks += [(who[q:min(q + step, bounds[c + 1])], lo, hi) for q in range(bounds[c], bounds[c + 1], step)]
    # a few tasks a batch, the batches taken by whichever thread is free (a crowded cell's tasks are long), the
    # parts put back in the order of one task in `threads` a thread: the rows come in the same order every run
    batches = min(len(tasks), BATCHES * threads)
    parts = [None] * len(tasks)

    def run(batch):
        for t in range(batch, len(tasks), batches):
            parts[t] = _block(queries, vectors, *tasks[t], floor, per_block)

    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads) as pool:  # products release the GIL
        list(pool.map(run, range(batches)))
    found = [parts[t] for k in range(threads) for t in range(k, len(tasks), threads)]
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    return tuple(np.concatenate(x) for x in zip(*found, strict=True))


def _block(queries, vectors, who, lo, hi, floor, per_block):
    sims = queries[who] @ vectors[lo:hi].T
    hits = np.flatnonzero(sims >= floor[who][:, None])  # row-major; 2-d nonzero is several times slower
    a, b = np.divmod(hits, hi - lo)
    if len(hits) > per_block:  # some row may be crowded: counted from its hits, not its whole row
        counts = np.bincount(a, minlength=len(who))
        crowded = np.flatnonzero(counts > per_block)
        if len(crowded):  # their best per_block, all above the floor since more than per_block are
            best = np.argpartition(-sims[crowded], per_block - 1, axis=1)[:, :per_block]
            hits = np.sort(np.r_[hits[counts[a] <= per_block], (crowded[:, None] * (hi - lo) + best).ravel()])
            a, b = np.divmod(hits, hi - lo)
    return who[a], lo + b, sims[a, b]


def best_distinct(owner: np.ndarray, partner: np.ndarray, sims: np.ndarray, k: int) -> np.ndarray:
    """Positions of each owner's k best distinct partners (its best row for each), owners in order, each
    owner's best first; an owner is never its own partner. Ties go to the lower partner, then the earlier row."""
    from . import join_kernels  # numba: only where a search runs, never in the app's first pages

    owner, partner = np.asarray(owner, np.int64), np.asarray(partner, np.int64)
    return join_kernels.best_distinct(owner, partner, np.asarray(sims, np.float32), k, int(owner.max(initial=-1)) + 1)


def kth_distinct(owner: np.ndarray, partner: np.ndarray, values: np.ndarray, k: int, owners: int,
                 missing: float = -1.0) -> np.ndarray:
    """Per owner (0..owners-1), the k-th highest value among its distinct partners, each partner counted once at
    its highest (float32); `missing` where it has fewer than k."""
    from . import join_kernels

    if k < 1:
        return np.full(owners, missing, np.float32)
    return join_kernels.kth_distinct(np.asarray(owner, np.int64), np.asarray(partner, np.int64),
                                     np.asarray(values, np.float32), k, owners, missing)


def compile_kernels() -> None:
    """Rank made-up hits, so that numba compiles the kernels and caches them now, at set-up."""
    best_distinct(np.array([0, 0, 1]), np.array([1, 2, 0]), np.array([0.5, 0.7, 0.9], np.float32), 1)
    kth_distinct(np.array([0, 0, 1]), np.array([1, 2, 0]), np.array([0.5, 0.7, 0.9], np.float32), 1, 2)
    rank_in_groups(np.array([0, 0, 1]), np.array([0.5, 0.7, 0.9]))


def kth_best(owner: np.ndarray, sims: np.ndarray, best: np.ndarray, owners: int, k: int, floor: float) -> np.ndarray:
    """Per owner (0..owners-1), the similarity of its k-th best distinct partner among `best` (from
    best_distinct), or `floor` where it has fewer: a lower bound below which no row can enter its k best."""
    out = np.full(owners, floor, np.float32)
    kth = rank_in_runs(run_starts(owner[best])) == k - 1
    out[owner[best][kth]] = np.maximum(sims[best][kth], floor)
    return out


def best_partners(cells: Cells, queries: np.ndarray, owners: np.ndarray, groups: int, k: int, floor: float,
                  probes: int, per_block: int):
    """(query, row, similarity) of each owner's k best distinct partners at `floor` or above, never itself.
    Query q asks for owner owners[q % len(owners)] (several queries an owner: moved or mirrored versions),
    row r stands for partner r % groups (several rows a partner). The nearest cell of each query is searched
    first: its owner's k-th best partner there is a floor no row below can pass, which spares most of the
    products in crowds."""
    m = len(owners)
    probe = cells.probe(np.ascontiguousarray(queries, dtype=np.float32), probes)  # once for both passes
    q, row, sims = cells.pairs(queries, floor, 1, per_block, probe)
    best = best_distinct(owners[q % m], row % groups, sims, k)
    local = np.full(owners.max(initial=0) + 1, -1, np.int64)
    local[owners] = np.arange(m)
    bound = np.tile(kth_best(local[owners[q % m]], sims, best, m, k, floor), len(queries) // m)
    # the nearest cell's rows above the bound are known already: the second pass looks into the other cells
    near = sims >= bound[q]
    far = cells.pairs(queries, bound, probes - 1, per_block, probe[:, 1:])
    q, row, sims = (np.concatenate(x) for x in zip((q[near], row[near], sims[near]), far, strict=True))
    best = best_distinct(owners[q % m], row % groups, sims, k)
    return q[best], row[best], sims[best]


def rank_in_runs(starts: np.ndarray) -> np.ndarray:
    """Each row's place (0 = first) in its run of sorted rows, given where the runs start (run_starts)."""
    at = np.arange(len(starts))
    return at - np.maximum.accumulate(np.where(starts, at, 0))


def rank_in_groups(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's rank (0 = best) among the rows of its group, by value, highest first; ties keep the rows'
    order."""
    from . import join_kernels

    groups = np.asarray(groups, np.int64)
    return join_kernels.rank_in_groups(groups, np.asarray(values, np.float64), int(groups.max(initial=-1)) + 1)


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """True where a row of sorted keys differs from the row before (the first of each run of equal rows)."""
    start = np.ones(len(keys[0]), bool)
    if len(start) > 1:
        start[1:] = np.any([np.diff(key.astype(np.int64)) != 0 for key in keys], axis=0)
    return start
