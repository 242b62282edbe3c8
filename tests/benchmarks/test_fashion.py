"""The Fashion-MNIST copy set (benchmarks/_fashion.py) on a made-up IDX folder: every planted copy is an edit of
its original, judged a copy by source, and the truth's fast split-leak path agrees with the pair rule."""

import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _copies_score as score_  # noqa: E402
import _copies_truth as T  # noqa: E402
import _fashion as F  # noqa: E402


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _garment(rng) -> np.ndarray:
    """A bright blob with some texture on black: what a product photo of the set looks like."""
    y, x = np.mgrid[0:28, 0:28]
    cy, cx, r = rng.uniform(11, 17), rng.uniform(11, 17), rng.uniform(7, 11)
    inside = (y - cy) ** 2 + (x - cx) ** 2 < r * r
    return np.where(inside, rng.integers(60, 255, (28, 28)), 0).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fashion")
    rng = np.random.default_rng(0)
    train, test = np.stack([_garment(rng) for _ in range(800)]), np.stack([_garment(rng) for _ in range(700)])
    test[5] = train[3]  # a source image that is in both splits, pixel for pixel
    for name, array in (("train-images-idx3-ubyte.gz", train), ("t10k-images-idx3-ubyte.gz", test),
                        ("train-labels-idx1-ubyte.gz", rng.integers(0, 10, len(train))),
                        ("t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, len(test)))):
        _write_idx(folder / name, array)
    mp = pytest.MonkeyPatch()
    mp.setenv("FASHION_MNIST", str(folder))
    mp.setattr(F, "PER_KIND", 2)
    mp.setattr(F, "PER_PAIR", 1)
    mp.setattr(F, "EXACT", 2)
    yield F.build(seed=5)
    mp.undo()


def test_the_idx_reader_reads_back_what_was_written(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "x.gz", array)
    assert np.array_equal(F._idx(tmp_path / "x.gz"), array)


def test_a_missing_source_names_the_folder_and_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST", str(tmp_path))
    with pytest.raises(SystemExit, match="dataset-fashion-mnist"):
        F.source_dir()


def test_every_kind_is_planted_once_per_count_and_each_copy_is_a_copy_of_its_original(tiny):
    files, truth = tiny
    copies = truth[truth["role"] == "copy"]
    assert copies["kind"].value_counts().to_dict() == {"exact": 2, **{k: 2 for k in F.SINGLES},
                                                       **{k: 1 for k in F.PAIRS}}
    assert (copies["split"] == "test").all()
    by_path = truth.set_index("path")
    for _, c in copies.iterrows():
        assert T.pair_label(c, by_path.loc[c["original"]].to_dict() | {"path": c["original"]}) == T.IS_COPY
        assert c["label"] == by_path.loc[c["original"], "label"]
    assert len({p for p, _ in files}) == len(files) == len(truth)


def test_the_edits_move_and_change_the_pixels_as_named():
    rng = np.random.default_rng(1)
    pixels = _garment(rng)
    shifted, params, _ = F._edit(rng, pixels, "shift_2px")
    dx, dy = params["shift_px"]
    assert max(abs(dx), abs(dy)) == 2
    assert np.array_equal(np.roll(np.roll(pixels, dy, 0), dx, 1)[2:-2, 2:-2], shifted[2:-2, 2:-2])
    mirrored, params, _ = F._edit(rng, pixels, "mirror")
    assert params["mirrored"] and np.array_equal(mirrored, pixels[:, ::-1])
    _, params, jpeg = F._edit(rng, pixels, "crop+jpeg")
    assert jpeg and 0.8 <= params["crop_keep"] <= 0.91 and 50 <= params["jpeg_quality"] <= 95
    turned, params, _ = F._edit(rng, pixels, "rotation")
    assert 3 <= abs(params["rotation"]) <= 10 and not np.array_equal(turned, pixels)


def test_jpeg_copies_are_saved_as_jpeg_the_rest_as_png(tiny):
    files, truth = tiny
    data = dict(files)
    for _, row in truth.iterrows():
        assert Image.open(io.BytesIO(data[row["path"]])).format == ("JPEG" if row["quality"] else "PNG")
        assert row["path"].endswith(".jpg" if row["quality"] else ".png")


def test_identical_source_pictures_are_copies_and_the_fast_leak_truth_agrees_with_the_pair_rule(tiny):
    _, truth = tiny
    test = truth[truth["split"] == "test"]
    fast = score_.leak_truth(truth, list(test["path"]))
    train = T.table(truth[truth["split"] == "train"])
    for _, row in test.iterrows():
        labels = set(T.pair_labels(row, train))
        slow = T.IS_COPY if T.IS_COPY in labels else T.IS_AMBIGUOUS if T.IS_AMBIGUOUS in labels else T.IS_NEGATIVE
        assert fast[row["path"]] == slow, row["path"]
    twin = truth[(truth["role"] == "base") & (truth["split"] == "test")].iloc[5]
    assert fast[twin["path"]] == T.IS_COPY  # the test picture identical to a train one


def test_near_identical_sources_are_listed_both_ways():
    rng = np.random.default_rng(2)
    images = np.stack([_garment(rng) for _ in range(50)])
    images[7] = np.clip(images[3].astype(int) + 2, 0, 255)  # two grey levels apart: near-identical
    near = F.near_pairs(images)
    assert "7" in near[3].split() and "3" in near[7].split()
    assert all(str(i) in near[int(j)].split() for i, n in enumerate(near) for j in n.split())
