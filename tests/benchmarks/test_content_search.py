"""The content-search benchmark's recall count (benchmarks/content_search.py) on neighbour lists built by hand."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import content_search as C  # noqa: E402


def test_recall_leaves_the_query_out_and_counts_the_close_ones_apart():
    exact = np.array([[0, 5, 6, 7], [1, 2, 3, -1]])
    sims = np.array([[1.0, 0.95, 0.91, 0.5], [1.0, 0.92, 0.3, -np.inf]], np.float32)
    found = np.array([[0, 5, 7, 9], [3, 1, 8, 9]])
    r = C.recall(exact, sims, found, np.array([0, 1]), partners=2)
    # query 0 wants 5 and 6 (both close), finds 5; query 1 wants 2 (close) and 3, finds 3
    assert r == {"top": 4, "top_found": 2, "close": 3, "close_found": 1, "queries_with_close": 2}


def test_recall_when_the_query_is_not_first_in_a_tie():
    exact = np.array([[4, 0, 2]])
    sims = np.array([[1.0, 1.0, 0.2]], np.float32)
    r = C.recall(exact, sims, np.array([[0, 4, 1]]), np.array([0]), partners=2)
    assert r == {"top": 2, "top_found": 1, "close": 1, "close_found": 1, "queries_with_close": 1}


def test_ladder_runs_from_48_px_to_the_photo_6_percent_apart():
    grey = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    sides = [r.shape for r in C.ladder(grey)]
    assert sides[0] == (48, 96) and sides[-1][0] <= 100 and sides[-1][0] > 100 / 1.06
    assert all(b[0] > a[0] for a, b in zip(sides, sides[1:], strict=False))
