"""The content-search benchmark's recall count (benchmarks/content_search.py) on neighbour lists built by hand."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import content_search as C  # noqa: E402


def test_exact_partners_are_each_querys_k_best_others_above_the_floor():
    vectors = np.array([[1, 0], [0.99, 0.141], [0.9, 0.436], [0, 1], [0.6, 0.8]], np.float32)
    found = C.exact_partners(vectors, np.array([0, 3]), k=2, floor=0.8)
    assert found == [{1, 2}, {4}]  # vector 0: 1 and 2 (4 is only 0.6); vector 3: 4 alone reaches the floor


def test_ladder_runs_from_48_px_to_the_photo_6_percent_apart():
    grey = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    sides = [r.shape for r in C.ladder(grey)]
    assert sides[0] == (48, 96) and sides[-1][0] <= 100 and sides[-1][0] > 100 / 1.06
    assert all(b[0] > a[0] for a, b in zip(sides, sides[1:], strict=False))
