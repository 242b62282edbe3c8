"""The copy-groups benchmark (benchmarks/copy_groups.py): each edit is the edit it says, and a copy is found
only when it shares a duplicate group with its own original."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import copy_groups as G  # noqa: E402


@pytest.fixture
def picture():
    rng = np.random.default_rng(3)
    return (rng.uniform(0, 255, (32, 32, 3))).astype(np.uint8)


def test_every_edit_keeps_a_32_px_colour_picture(picture):
    rng = np.random.default_rng(0)
    for edit in G.EDITS:
        out = edit(rng, picture)
        assert out.shape == picture.shape and out.dtype == np.uint8, edit.__name__


def test_a_shift_moves_the_picture_by_whole_pixels_with_the_edge_repeated(picture):
    out = G.shifted(np.random.default_rng(1), picture)
    matches = [(dx, dy) for dx in range(-3, 4) for dy in range(-3, 4) if (dx, dy) != (0, 0)
               and np.array_equal(out[4:28, 4:28], picture[4 + dy:28 + dy, 4 + dx:28 + dx])]
    assert len(matches) == 1 and max(map(abs, matches[0])) >= 1


def test_a_tone_change_scales_the_levels_and_a_zoom_out_shrinks_the_picture(picture):
    rng = np.random.default_rng(2)
    toned = G.toned(rng, picture).astype(float)
    gain = np.polyfit(picture.astype(float).ravel(), toned.ravel(), 1)[0]
    assert 0.7 < gain < 1.3 and abs(gain - 1) > 0.05
    flat = np.zeros((32, 32, 3), np.uint8)
    flat[8:24, 8:24] = 255
    zoomed = G.zoomed_out(rng, flat)
    assert 0 < (zoomed > 128).sum() < (flat > 128).sum()


def test_a_copy_is_found_only_in_a_group_with_its_own_original():
    truth = pd.DataFrame({"copy": ["c1", "c2", "c3", "c4"], "original": ["o1", "o2", "o3", "o4"],
                          "edit": ["shifted"] * 4})
    findings = pd.DataFrame({"path": ["c1", "o1", "c2", "x", "c3", "o3", "o4"],
                             "issue": ["near_duplicate", "near_duplicate", "near_duplicate", "near_duplicate",
                                       "exact_duplicate", "near_duplicate", "exact_duplicate"],
                             "group": ["N1", "N1", "N2", "N2", "E5", "N5", "E6"]})
    # c1 with o1: found; c2 with another picture; c3 and o3 share a number but not a kind of group; c4 alone
    assert list(G.found(truth, findings)) == [True, False, False, False]
