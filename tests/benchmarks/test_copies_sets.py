"""The copy benchmark's sets (benchmarks/_copies_sets.py, _digits32.py): what is planted obeys the truth."""

import io
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _copies_sets as S  # noqa: E402
import _copies_truth as T  # noqa: E402
import _digits32 as D  # noqa: E402
import _real_photos  # noqa: E402

TINY = replace(S.COPIES32, images=100, singles=1, pairs=1, negatives=1, exact=1)


@pytest.fixture(scope="module")
def tiny():
    return S.build(TINY, seed=3)


def test_a_tiny_copies32_plants_every_kind_and_every_plant_obeys_the_truth(tiny):
    files, truth = tiny
    S.check(truth)  # raises if a planted copy is not a copy of its original, or a negative is not a negative
    assert set(truth.loc[truth["role"] == "copy", "kind"]) == {"exact", *S.SINGLES, *S.PAIRS}
    assert set(truth.loc[truth["role"] == "negative", "kind"]) == set(S.NEGATIVES)
    assert list(truth["path"]) == [p for p, _ in files] and truth["path"].is_unique
    colour = truth["kind"].str.contains("hue|saturation")
    assert truth.loc[colour, "photo"].map(_real_photos.is_colour).all()
    sizes = {Image.open(io.BytesIO(data)).size for _, data in files}
    assert sizes == {(32, 32)}


def test_the_same_seed_gives_the_same_bytes(tiny):
    assert S.build(TINY, 3)[0] == tiny[0]


def test_base_windows_of_one_photo_share_less_than_half_their_area_and_are_not_blank():
    base = S.base_images(np.random.default_rng(0), TINY, 100)
    for i, x in enumerate(base):
        others = [y.window for y in base[i + 1:] if y.photo == x.photo]
        assert not others or T.overlaps(x.window, others).max() < T.NEGATIVE
        assert S.not_blank(x)


def test_digits_truth_pairs_every_planted_copy_and_keeps_outliers_apart():
    files, truth = D.build(seed=1)
    copies = truth[truth["role"] == "copy"]
    by_path = truth.set_index("path", drop=False)
    assert all(T.pair_label(r, by_path.loc[r["original"]]) == T.IS_COPY for _, r in copies.iterrows())
    outliers = truth[truth["role"] == "outlier"]
    assert len(outliers) == len(D.OUTLIERS) * D.PER_OUTLIER
    for _, r in outliers.iterrows():
        assert (T.pair_labels(r, outliers[outliers["path"] != r["path"]]) == T.IS_NEGATIVE).all()
    data = dict(files)
    assert np.asarray(Image.open(io.BytesIO(data[copies["path"].iloc[0]]))).shape == (32, 32)
