"""The copy benchmark's truth (benchmarks/_copies_truth.py): a wrong truth would mislead every score."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _copies_edits as E  # noqa: E402
import _copies_truth as T  # noqa: E402


def image(photo="astronaut", window=(0, 0, 100, 100), **kw) -> dict:
    return {"photo": photo, "x0": window[0], "y0": window[1], "x1": window[2], "y1": window[3], "changed": False,
            "source": "", "source_key": "", "near_source": "", **kw}


def digit(source: str, key: str = "", near: str = "") -> dict:
    return {"photo": "", "x0": 0.0, "y0": 0.0, "x1": 0.0, "y1": 0.0, "changed": False, "source": source,
            "source_key": key or f"k{source}", "near_source": near}


def test_overlap_is_the_intersection_over_the_larger_window():
    assert T.overlap((0, 0, 10, 10), (0, 0, 10, 8)) == pytest.approx(0.8)
    assert T.overlap((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(0.5)
    assert T.overlap((0, 0, 200, 200), (10, 10, 50, 50)) == pytest.approx(0.04)  # a small window inside a big one
    assert T.overlap((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_a_crop_keeping_80_percent_is_a_copy_less_than_half_a_negative_between_ambiguous():
    assert T.pair_label(image(window=(0, 0, 100, 100)), image(window=(0, 0, 100, 80))) == T.IS_COPY
    assert T.pair_label(image(window=(0, 0, 100, 100)), image(window=(0, 0, 100, 79))) == T.IS_AMBIGUOUS
    assert T.pair_label(image(window=(0, 0, 100, 100)), image(window=(50, 0, 150, 100))) == T.IS_AMBIGUOUS
    assert T.pair_label(image(window=(0, 0, 100, 100)), image(window=(51, 0, 151, 100))) == T.IS_NEGATIVE


def test_a_zoomed_out_copy_is_judged_by_the_larger_window():
    assert T.pair_label(image(window=(10, 10, 110, 110)), image(window=(5, 5, 116, 116))) == T.IS_COPY  # 0.81
    assert T.pair_label(image(window=(10, 10, 110, 110)), image(window=(0, 0, 115, 115))) == T.IS_AMBIGUOUS  # 0.76


def test_images_of_different_photos_are_negatives_even_at_the_same_window():
    assert T.pair_label(image("grass"), image("gravel")) == T.IS_NEGATIVE


def test_a_burst_is_a_negative_of_every_image_it_shares_its_window_with():
    burst = image(changed=True)
    assert T.pair_label(burst, image()) == T.IS_NEGATIVE
    assert T.pair_label(image(), burst) == T.IS_NEGATIVE
    assert T.pair_label(burst, image(window=(0, 0, 100, 70))) == T.IS_AMBIGUOUS


def test_digits_are_copies_by_source_or_identical_arrays_and_ambiguous_when_nearly_identical():
    others = pd.DataFrame([digit("1"), digit("2", key="k7"), digit("3"), digit("4"), digit("outlier:0")])
    labels = T.pair_labels(digit("1", near="3"), others)
    assert list(labels) == [T.IS_COPY, T.IS_NEGATIVE, T.IS_AMBIGUOUS, T.IS_NEGATIVE, T.IS_NEGATIVE]
    assert T.pair_label(digit("7"), digit("2", key="k7")) == T.IS_COPY  # identical 8x8 arrays in the source


def test_a_mirrored_copy_keeps_its_window_and_is_a_copy():
    case = E.cut("astronaut", (100, 100, 164, 164), (32, 32), 92)
    flipped = E.mirror(np.random.default_rng(0), case, None)
    assert flipped.window == case.window and flipped.mirrored
    assert np.array_equal(flipped.pixels, case.pixels[:, ::-1])
    assert T.pair_label(image(window=case.window), image(window=flipped.window, mirrored=True)) == T.IS_COPY


class _Spec:
    shift = (4 / 32, 4 / 32)  # always 4 px along the main axis
    rescale = (0.5, 0.75)


@pytest.mark.parametrize("seed", range(6))
def test_a_shifted_copy_moves_its_window_with_its_content(seed):
    case = E.cut("astronaut", (100, 100, 164, 164), (32, 32), 92)  # 2 photo px per output px
    moved = E.shift_edge(np.random.default_rng(seed), case, _Spec())
    dx, dy = moved.params["shift_px"]
    assert moved.window == pytest.approx((100 - 2 * dx, 100 - 2 * dy, 164 - 2 * dx, 164 - 2 * dy))
    again = E.render("astronaut", moved.window, (32, 32)).astype(int)  # the moved window, cut from the photo
    inner = (slice(4, 28), slice(4, 28))  # away from the filled strip
    assert np.abs(again[inner] - moved.pixels[inner].astype(int)).mean() < 3
    assert T.overlap(case.window, moved.window) >= T.COPY


@pytest.mark.parametrize("edit", [E.crop, E.zoom_out, E.shift_recrop, E.shift_black, E.rotation])
def test_geometric_copies_keep_at_least_80_percent_of_the_picture(edit):
    case = E.cut("coffee", (200, 150, 330, 280), (32, 32), 92)
    spec = type("S", (), {"shift": (1 / 32, 4 / 32), "rescale": (0.5, 0.75)})()
    for seed in range(20):
        copy = edit(np.random.default_rng(seed), case, spec)
        assert copy is not None and T.band(T.overlap(case.window, copy.window)) == T.IS_COPY
