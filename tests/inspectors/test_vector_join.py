import numpy as np
import pytest

from inspectors import content, vector_join


def brute_force(vectors, queries, floor):
    sims = queries @ vectors.T
    q, r = np.nonzero(sims >= floor)
    return set(zip(q.tolist(), r.tolist(), strict=True))


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    centres = content.normalised(rng.normal(size=(60, 16)))
    return content.normalised(centres[rng.integers(0, 60, 3000)] + rng.normal(scale=0.15, size=(3000, 16)))


def test_one_cell_is_exact(vectors):
    cells = vector_join.Cells(vectors, cells=40, training_rows=40, exact_rows=5000)
    assert cells.cells == 1
    q, r, s = cells.pairs(vectors[:200], 0.9, probes=12, per_block=10_000)
    assert set(zip(q.tolist(), r.tolist(), strict=True)) == brute_force(vectors, vectors[:200], 0.9)
    assert np.allclose(s, np.sum(vectors[:200][q] * vectors[r], axis=1), atol=1e-5)


def test_cells_find_what_the_exact_search_finds_when_every_cell_is_probed(vectors):
    cells = vector_join.Cells(vectors, cells=40, training_rows=40, exact_rows=100)
    assert cells.cells == 40
    q, r, _ = cells.pairs(vectors[:300], 0.9, probes=40, per_block=10_000)
    assert set(zip(q.tolist(), r.tolist(), strict=True)) == brute_force(vectors, vectors[:300], 0.9)


def test_a_few_probed_cells_find_nearly_every_close_pair_and_no_false_one(vectors):
    cells = vector_join.Cells(vectors, cells=40, training_rows=40, exact_rows=100)
    exact = brute_force(vectors, vectors, 0.95)
    q, r, _ = cells.pairs(vectors, 0.95, probes=6, per_block=10_000)
    found = set(zip(q.tolist(), r.tolist(), strict=True))
    assert found <= exact
    assert len(found) >= 0.99 * len(exact)


def test_a_per_query_floor_and_the_crowd_limit_keep_the_best(vectors):
    cells = vector_join.Cells(vectors, cells=1, training_rows=40, exact_rows=100)
    floor = np.r_[np.full(100, 0.5), np.full(100, 0.99)]
    q, r, s = cells.pairs(vectors[:200], floor, probes=1, per_block=3)
    assert np.all(s >= floor[q] - 1e-6)
    assert np.bincount(q, minlength=200).max() <= 3
    sims = vectors[:100] @ vectors.T
    best = np.sort(sims, axis=1)[:, -3:]
    for k in range(100):
        assert np.allclose(np.sort(s[q == k]), best[k], atol=1e-5)


def test_best_distinct_keeps_each_owners_k_best_other_partners_once():
    owner = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    partner = np.array([3, 3, 4, 0, 5, 2, 2, 1])
    sims = np.array([0.9, 0.95, 0.8, 1.0, 0.85, 0.7, 0.6, 1.0], np.float32)
    best = vector_join.best_distinct(owner, partner, sims, k=2)
    assert list(zip(owner[best].tolist(), partner[best].tolist(), strict=True)) == [(0, 3), (0, 5), (1, 2)]
    assert sims[best].tolist() == pytest.approx([0.95, 0.85, 0.7])
    assert vector_join.kth_best(owner, sims, best, 3, 2, 0.5).tolist() == pytest.approx([0.85, 0.5, 0.5])


def test_best_distinct_breaks_ties_by_partner_then_row_like_a_plain_sort():
    rng = np.random.default_rng(3)
    owner, partner = rng.integers(0, 30, 5000), rng.integers(0, 40, 5000)
    sims = rng.choice(np.array([0.5, 0.6, 0.7, 0.8], np.float32), 5000)  # many ties
    best = vector_join.best_distinct(owner, partner, sims, k=3)
    rows = sorted((o, -s, p, r) for r, (o, p, s) in enumerate(zip(owner, partner, sims, strict=True)) if o != p)
    expected, kept = [], {}
    for o, _, p, r in rows:
        if (o, p) not in kept and sum(key[0] == o for key in kept) < 3:
            kept[(o, p)] = r
            expected.append(r)
    assert best.tolist() == expected


@pytest.mark.parametrize("k", [1, 3])
def test_kth_distinct_is_the_kth_best_of_each_owners_partners_at_their_best(k):
    rng = np.random.default_rng(3)
    owner, partner = rng.integers(0, 40, 2500), rng.integers(0, 60, 2500)  # many repeats of one partner
    values = rng.choice(np.linspace(-1, 1, 50), 2500).astype(np.float32)  # and ties
    expected = np.full(45, -1.0, np.float32)  # owners 40..44 have no partner
    for o in range(40):
        best = {}
        for p, v in zip(partner[owner == o], values[owner == o], strict=True):
            best[p] = max(best.get(p, -np.inf), v)
        ranked = sorted(best.values(), reverse=True)
        expected[o] = ranked[k - 1] if len(ranked) >= k else -1.0
    np.testing.assert_array_equal(vector_join.kth_distinct(owner, partner, values, k, 45), expected)
    few = vector_join.kth_distinct(np.array([0, 0, 0]), np.array([1, 1, 2]), np.array([0.9, 0.95, 0.5]), 3, 1)
    assert few[0] == -1.0  # two distinct partners only
    assert vector_join.kth_distinct(np.array([0, 0]), np.array([1, 1]), np.array([0.2, 0.7]), 1, 1)[0] == \
        np.float32(0.7)


def test_rank_in_groups_ranks_highest_first_ties_in_row_order_like_a_stable_sort():
    rng = np.random.default_rng(4)
    groups = rng.integers(0, 50, 4000)
    values = rng.choice(np.array([0.1, 0.2, 0.3, 0.4], np.float32), 4000)  # many ties
    order = np.lexsort((-values, groups))
    expected = np.empty(len(order), np.int64)
    for g in range(50):
        at = order[groups[order] == g]
        expected[at] = np.arange(len(at))
    np.testing.assert_array_equal(vector_join.rank_in_groups(groups, values), expected)
    assert len(vector_join.rank_in_groups(np.zeros(0, np.int64), np.zeros(0))) == 0


def test_best_partners_of_a_later_chunk_of_owners_never_pair_an_owner_with_itself(vectors):
    cells = vector_join.Cells(vectors, cells=40, training_rows=40, exact_rows=100)
    owners = np.arange(1000, 1500)  # the second chunk's pictures: their queries are rows 0..499
    q, row, sims = vector_join.best_partners(cells, vectors[owners], owners, len(vectors), 3, 0.5, 40, 10_000)
    assert not np.any(owners[q] == row)
    assert np.bincount(q, minlength=500).max() == 3
    exact = vectors[owners] @ vectors.T
    exact[np.arange(500), owners] = -1
    assert np.allclose(np.sort(sims[q == 7]), np.sort(exact[7])[-3:], atol=1e-5)


def as_set(q, r):
    return set(zip(q.tolist(), r.tolist(), strict=True))


@pytest.mark.parametrize("max_rows", [1, 150, 700, 10_000])
def test_a_search_cut_into_small_shards_finds_the_same_pairs(vectors, tmp_path, max_rows):
    from inspectors import sharded_join
    np.save(tmp_path / "rows.npy", vectors)
    read = sharded_join.ArrayReader(tmp_path / "rows.npy")
    one = vector_join.Cells(vectors, cells=40, training_rows=40, exact_rows=100)
    floor = np.where(np.arange(3000) % 2, 0.9, 0.95).astype(np.float32)
    q, r, s = one.pairs(vectors, floor, probes=6, per_block=5)
    the_plan, cell = sharded_join.plan(read, len(vectors), 40, 40, 100, max_rows, chunk_rows=512)
    assert len(the_plan.ranges) > 3 or max_rows == 10_000
    assert all(the_plan.counts[a:b].sum() <= max_rows or b - a == 1 for a, b in the_plan.ranges)
    got = sharded_join.search(the_plan, cell, read, vectors, floor, probes=6, per_block=5)
    assert as_set(*got[:2]) == as_set(q, r) and len(got[0]) == len(q)
    expected = dict(zip(zip(q.tolist(), r.tolist(), strict=True), s.tolist(), strict=True))
    assert all(expected[k] == v for k, v in zip(zip(got[0].tolist(), got[1].tolist(), strict=True),
                                                  got[2].tolist(), strict=True))  # the same products, bit for bit


def test_a_small_set_is_one_shard_and_exact(vectors, tmp_path):
    from inspectors import sharded_join
    got = sharded_join.partitioned_pairs(lambda lo, hi: vectors[lo:hi], len(vectors), vectors[:200], 0.9, 12,
                                         10_000, cells=40, training_rows=40, exact_rows=5000, max_rows=100)
    assert as_set(*got[:2]) == brute_force(vectors, vectors[:200], 0.9)
