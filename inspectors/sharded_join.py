"""vector_join.Cells.pairs for more rows than one machine holds: the cells split into ranges (shards), each shard
holding only its own cells' rows, searched one at a time here or side by side on a Dask cluster.

The search is already cell by cell: a query meets only the rows of its `probes` nearest cells. So the rows can
be placed by cell, in ranges of whole cells of at most `max_rows` rows, and each shard answers, for every query,
the probes that fall into its cells. The union over shards is exactly the one-machine answer: the same cells
(learnt from the same fixed sample, vector_join.training_sample), the same rows a cell in the same order, the same
products. What every shard needs besides its rows is small: the queries of the current query chunk and the
probe table, (queries x probes) cell numbers computed once from the centroids (cells x d floats).

The three passes of a run beyond memory, over vectors read a chunk at a time (`read(lo, hi)`):
1. read the training sample only, learn the centroids;
2. assign every row its cell (a chunk at a time: memory of one chunk), count rows per cell, cut the ranges;
3. per shard, gather its rows (on a cluster: each worker reads the chunks and keeps its cells' rows), search.
"""

from dataclasses import dataclass

import numpy as np

from . import vector_join

CHUNK_ROWS = 1 << 18  # rows assigned to cells at a time: 64 MB of 64-d float32 vectors


@dataclass
class Shard:
    """The rows of cells first_cell .. first_cell + len(starts) - 2, cell by cell."""
    first_cell: int
    starts: np.ndarray  # where each cell begins in `vectors` (one more entry than cells)
    vectors: np.ndarray
    row: np.ndarray  # each vector's row number in the whole set

    def pairs(self, queries, floor, probe, per_block, threads=1):
        """(query, row, similarity) of the probes into this shard's cells (vector_join.join_cells)."""
        q, r, s = vector_join.join_cells(queries, floor, probe, per_block, self.vectors, self.starts,
                                         self.first_cell, threads)
        return q, self.row[r], s


@dataclass
class Plan:
    """What a partitioned search knows before it reads a shard: the cells and where they are cut."""
    centroids: np.ndarray | None  # None: one cell (the set is small enough for the exact search)
    counts: np.ndarray  # rows per cell
    ranges: list  # [(first cell, end cell)], each of at most max_rows rows (a bigger cell alone)

    @property
    def cells(self) -> int:
        return len(self.counts)


def cell_ranges(counts: np.ndarray, max_rows: int) -> list[tuple[int, int]]:
    """Consecutive cells in ranges of at most max_rows rows; a cell of more rows is a range of its own."""
    ranges, first, rows = [], 0, 0
    for c, n in enumerate(counts.tolist()):
        if c > first and rows + n > max_rows:
            ranges.append((first, c))
            first, rows = c, 0
        rows += n
    if len(counts):
        ranges.append((first, len(counts)))
    return ranges


def assign(plan_centroids, read, n: int, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """The cell of each of the n rows, read chunk by chunk (int32: 400 MB for 100 million rows)."""
    if plan_centroids is None:
        return np.zeros(n, np.int32)
    out = np.empty(n, np.int32)
    for lo in range(0, n, chunk_rows):
        hi = min(n, lo + chunk_rows)
        out[lo:hi] = vector_join.nearest_cell(plan_centroids, np.asarray(read(lo, hi), np.float32))
    return out


def plan(read, n: int, cells: int, training_rows: int, exact_rows: int, max_rows: int,
         chunk_rows: int = CHUNK_ROWS) -> tuple[Plan, np.ndarray]:
    """(the plan, each row's cell): passes 1 and 2. Cells as vector_join.Cells makes them from the same rows."""
    centroids = None
    if n > exact_rows and cells > 1:
        sample = vector_join.training_sample(n, cells, training_rows)
        centroids = vector_join.train_centroids(_gather(read, sample, chunk_rows), cells, training_rows)
    cell = assign(centroids, read, n, chunk_rows)
    counts = np.bincount(cell, minlength=1 if centroids is None else len(centroids))
    return Plan(centroids, counts, cell_ranges(counts, max_rows)), cell


def _gather(read, positions: np.ndarray, chunk_rows: int) -> np.ndarray:
    """The rows at sorted positions, read a chunk at a time."""
    parts = []
    for lo in range(0, int(positions[-1]) + 1 if len(positions) else 0, chunk_rows):
        inside = positions[(positions >= lo) & (positions < lo + chunk_rows)]
        if len(inside):
            parts.append(read(lo, min(lo + chunk_rows, int(inside[-1]) + 1))[inside - lo])
    return np.concatenate(parts)


def shard(read, rows: np.ndarray, row_cells: np.ndarray, first: int, end: int,
          chunk_rows: int = CHUNK_ROWS) -> Shard:
    """Pass 3's gathering: the given rows (sorted positions, their cells first..end-1), read chunk by chunk, in
    Cells' order (by cell, then by row)."""
    vectors = _gather(read, rows, chunk_rows) if len(rows) else np.empty((0, 0), np.float32)
    order = np.argsort(row_cells, kind="stable")
    starts = np.searchsorted(row_cells[order], np.arange(first, end + 1))
    return Shard(first, starts, np.ascontiguousarray(vectors[order], dtype=np.float32), rows[order])


def probe(the_plan: Plan, queries: np.ndarray, probes: int) -> np.ndarray:
    if the_plan.centroids is None:
        return np.zeros((len(queries), 1), np.int64)
    return vector_join.nearest_cells(vector_join.quantiser(the_plan.centroids), queries, min(probes, the_plan.cells))


def search_shard(read, rows, row_cells, first, end, queries, floor, probe_table, per_block):
    """One shard's whole job, as a cluster task: gather its rows, answer the probes into its cells."""
    return shard(read, rows, row_cells, first, end).pairs(queries, floor, probe_table, per_block)


def run_shards(jobs, shared, client=None) -> list:
    """search_shard(*job, *shared) for each job: one after the other here, or one Dask task each on `client`.
    On a cluster the shared arguments (the query chunk and its probe table, the same for every shard) go to each
    worker once, not once a task; a task lost with its worker runs again elsewhere (Dask's retry)."""
    if client is None:
        return [search_shard(*job, *shared) for job in jobs]
    shared = client.scatter(list(shared), broadcast=True, hash=False)
    return client.gather([client.submit(search_shard, *job, *shared, pure=False) for job in jobs])


def search(the_plan: Plan, cell: np.ndarray, read, queries: np.ndarray, floor, probes: int, per_block: int,
           client=None, table: np.ndarray | None = None):
    """Pass 3 for one chunk of queries: (query, row, similarity) from every shard a query probes. Each job
    carries its shard's row numbers (not the whole cell table); `client` (a distributed.Client) runs the shards
    side by side on its cluster, the reader then being one every worker can open (ArrayReader on shared storage)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    table = probe(the_plan, queries, probes) if table is None else table[:, :probes]
    probed = np.zeros(the_plan.cells + 1, bool)
    probed[table.ravel()] = True
    jobs = []
    for first, end in the_plan.ranges:
        if probed[first:end].any():  # a shard no query looks into is not even read
            rows = np.flatnonzero((cell >= first) & (cell < end))
            jobs.append((read, rows, cell[rows], first, end))
    found = [f for f in run_shards(jobs, (queries, floor, table, per_block), client) if len(f[0])]
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    return tuple(np.concatenate(x) for x in zip(*found, strict=True))


def partitioned_pairs(read, n: int, queries: np.ndarray, floor, probes: int, per_block: int, cells: int,
                      training_rows: int, exact_rows: int, max_rows: int, client=None):
    """What vector_join.Cells(rows, cells, training_rows, exact_rows).pairs(queries, floor, probes, per_block)
    returns (as a set: the order differs), with no more than max_rows rows (or one cell) in memory at a time
    besides the queries, on this machine or, given a distributed.Client, on a worker each shard. A long run
    plans once and calls `search` a query chunk at a time."""
    the_plan, cell = plan(read, n, cells, training_rows, exact_rows, max_rows)
    return search(the_plan, cell, read, queries, floor, probes, per_block, client)


class Sharded:
    """vector_join.Cells' `pairs` over shards: planned once, each call a `search` (here, or on `client`'s
    cluster). What vector_join.best_partners, and so content.Search, can take in place of a Cells whose rows
    do not fit one machine."""

    def __init__(self, read, n: int, cells: int, training_rows: int, exact_rows: int, max_rows: int, client=None):
        self.the_plan, self.cell = plan(read, n, cells, training_rows, exact_rows, max_rows)
        self.read, self.client = read, client

    def probe(self, queries: np.ndarray, probes: int) -> np.ndarray:
        return probe(self.the_plan, queries, probes)

    def pairs(self, queries, floor, probes: int, per_block: int, probe: np.ndarray | None = None):
        return search(self.the_plan, self.cell, self.read, queries, floor, probes, per_block, self.client, probe)


class ArrayReader:
    """read(lo, hi) of a .npy file of rows, memory-mapped: what a shard task takes with it to a worker (a path,
    not the rows; every worker opens the file itself, e.g. on shared storage)."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, lo: int, hi: int) -> np.ndarray:
        return np.asarray(np.load(self.path, mmap_mode="r")[lo:hi], dtype=np.float32)
