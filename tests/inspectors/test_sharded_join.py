"""sharded_join.Sharded: the partitioned search behind the same `pairs` as vector_join.Cells."""

import numpy as np

from inspectors import content, sharded_join, vector_join


def test_best_partners_over_shards_are_the_one_machine_best_partners(tmp_path):
    rng = np.random.default_rng(1)
    centres = content.normalised(rng.normal(size=(50, 16)))
    pictures = 400  # 3 rows a picture (moved windows), as content.Search indexes them
    rows = content.normalised(centres[rng.integers(0, 50, 3 * pictures)] + rng.normal(scale=0.1, size=(1200, 16)))
    np.save(tmp_path / "rows.npy", rows.astype(np.float32))
    sharded = sharded_join.Sharded(sharded_join.ArrayReader(tmp_path / "rows.npy"), len(rows), cells=30,
                                   training_rows=40, exact_rows=100, max_rows=150)
    assert len(sharded.the_plan.ranges) >= 8  # forced small shards
    one = vector_join.Cells(rows, cells=30, training_rows=40, exact_rows=100)
    queries, owners = rows[:pictures], np.arange(pictures)  # each picture's first window asks
    expected = vector_join.best_partners(one, queries, owners, pictures, 5, 0.8, 6, 10)
    got = vector_join.best_partners(sharded, queries, owners, pictures, 5, 0.8, 6, 10)
    assert len(expected[0]) > pictures  # most pictures have several partners above the floor
    as_rows = [sorted(zip(q.tolist(), (r % pictures).tolist(), s.tolist(), strict=True)) for q, r, s in
               (expected, got)]
    assert as_rows[0] == as_rows[1]
