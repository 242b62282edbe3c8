import numpy as np
import pytest

from inspectors import pair_distances as P
from inspectors.config import DuplicatesConfig
from tests.inspectors.tables import appearance, samples

H = 0x1234_5678_9ABC_DEF0
LOOK = appearance(7)


def flip(value: int, bits) -> int:
    v = value & (2**64 - 1)
    for b in bits:
        v ^= 1 << int(b)
    return v - 2**64 if v >= 2**63 else v


def table(*extra):
    return samples([{"path": "a.png", "phash": H, "appearance": LOOK},
                    {"path": "b.png", "phash": flip(H, [3, 40]), "appearance": LOOK},  # 2 bits, same look: a copy
                    {"path": "c.png", "phash": flip(H, range(20, 26)), "appearance": LOOK},  # 6 bits: past radius 4
                    {"path": "d.png", "phash": flip(H, [5]), "appearance": appearance(9)},  # 1 bit, another look
                    {"path": "far.png", "phash": flip(H, range(30, 50)), "appearance": LOOK}, *extra])


def pairs_of(frame):
    return [(a, b, int(d)) for a, b, d in zip(frame["path_a"], frame["path_b"], frame["hamming"], strict=True)]


def test_every_pair_near_the_threshold_carries_both_distances_and_the_verdict():
    result = P.pair_distances(table(), DuplicatesConfig(radius=4))
    assert result.searched_radius == 8 and result.radius == 4 and result.pictures == result.sampled == 5
    assert pairs_of(result.pairs) == [("a.png", "d.png", 1), ("a.png", "b.png", 2), ("b.png", "d.png", 3),
                                      ("a.png", "c.png", 6), ("c.png", "d.png", 7), ("b.png", "c.png", 8)]
    verdict = {(a, b): (w, c) for a, b, w, c in result.pairs[["path_a", "path_b", "within_radius", "confirmed"]]
               .itertuples(index=False)}
    assert verdict[("a.png", "b.png")] == (True, True)
    assert verdict[("a.png", "d.png")] == (True, False)  # within the radius, the appearance turns it down
    assert verdict[("a.png", "c.png")] == (False, False)
    same_look = result.pairs[result.pairs["path_b"] != "d.png"]["appearance"]
    assert (same_look == 0).all() and (result.pairs[result.pairs["path_b"] == "d.png"]["appearance"] > 0.5).all()


def test_the_histogram_has_every_integer_bin_split_by_the_verdict():
    hist = P.pair_distances(table(), DuplicatesConfig(radius=4)).histogram
    assert list(hist["hamming"]) == list(range(9))
    assert list(hist["confirmed"]) == [0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert list(hist["not_confirmed"]) == [0, 1, 0, 1, 0, 0, 1, 1, 1]


def test_examples_on_either_side_of_the_line():
    result = P.pair_distances(table(), DuplicatesConfig(radius=4))
    assert pairs_of(P.just_inside(result)) == [("a.png", "b.png", 2)]
    assert pairs_of(P.just_outside(result, n=2)) == [("a.png", "c.png", 6), ("c.png", "d.png", 7)]
    assert pairs_of(P.rejected_by_appearance(result)) == [("a.png", "d.png", 1), ("b.png", "d.png", 3)]


def test_exact_copies_near_blank_and_broken_images_are_not_searched():
    result = P.pair_distances(table({"path": "a_copy.png", "phash": H, "appearance": LOOK, "pixel_hash": "p0"},
                                    {"path": "blank.png", "phash": H, "appearance": LOOK, "contrast": 0.0},
                                    {"path": "broken.png", "phash": H, "appearance": LOOK, "ok": False}),
                             DuplicatesConfig(radius=4))
    assert result.pictures == 5
    assert not {"a_copy.png", "blank.png", "broken.png"} & (set(result.pairs["path_a"]) | set(result.pairs["path_b"]))


def test_beyond_the_line_a_search_over_budget_runs_on_a_sample_and_scales_its_bins():
    full = P.pair_distances(table(), DuplicatesConfig(radius=4))
    cost = P.comparisons(table()["phash"].to_numpy(np.int64), 8)
    result = P.pair_distances(table(), DuplicatesConfig(radius=4), budget=cost * 9 // 25 + 1, seed=1)  # 3 of 5
    assert result.sampled == 3 and result.pictures == 5
    inside = result.pairs[result.pairs["within_radius"]]
    assert pairs_of(inside) == [("a.png", "d.png", 1), ("a.png", "b.png", 2), ("b.png", "d.png", 3)]  # exact
    hist = result.histogram
    assert list(hist["estimated"]) == [False] * 5 + [True] * 4
    assert list(hist["not_confirmed"][:5]) == list(full.histogram["not_confirmed"][:5])
    outside = result.pairs[~result.pairs["within_radius"]]
    assert set(outside["path_a"]) | set(outside["path_b"]) <= {"a.png", "b.png", "c.png", "d.png", "far.png"}
    found = np.bincount(outside["hamming"], minlength=9)[5:]
    assert found.sum() >= 1  # 3 of 5 pictures cover 6 of the 20 pairs: each found pair stands for 20/6
    assert list(hist["not_confirmed"][5:]) == [round(c * 20 / 6) for c in found]
    nothing = P.pair_distances(table(), DuplicatesConfig(radius=4), budget=0)
    assert nothing.sampled == 0 and (nothing.pairs["within_radius"]).all() and len(nothing.pairs) == 3


def test_comparisons_count_pairs_inside_runs_of_equal_blocks():
    hashes = np.array([0, 0, 0, 1], dtype=np.int64)  # radius 0: one block of 64 bits; three equal hashes
    assert P.comparisons(hashes, 0) == 3


def test_an_empty_table_gives_empty_bins_and_a_missing_column_fails_loudly():
    result = P.pair_distances(table().head(0), DuplicatesConfig(radius=2))
    assert result.pairs.empty and list(result.pairs.columns) == P.PAIR_COLUMNS
    assert list(result.histogram["confirmed"]) == [0] * 7
    with pytest.raises(KeyError, match="appearance"):
        P.pair_distances(table().drop(columns=["appearance"]))
