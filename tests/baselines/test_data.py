"""From a scanned dataset to tensors: splits, input size, and the uint8 cache in the workspace."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from baselines import data
from baselines.train import load_tensors
from inspectors.config import Config, ScanConfig, config_from_dict, config_to_dict, workspace_config

from .conftest import FAST, colour_image, listing, make_colours, reprepare, scan

LIMIT = ScanConfig().max_pixel_bytes


def samples(counts: dict, split: str = "", **extra) -> pd.DataFrame:
    """A samples table: {label: n} images of 32x32 that decode."""
    rows = [{"path": f"{label}/{i}.png", "label": label, "split": split, "ok": True, "width": 32, "height": 32,
             **extra} for label, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_split_comes_from_the_datasets_train_and_val_folders(colours):
    s = data.split(colours.samples)
    assert s.classes == ["blue", "green", "red"]
    assert "train/ and val/" in s.how
    assert len(s.train) == 36 and len(s.val) == 12
    assert s.train["path"].str.startswith("train/").all() and s.val["path"].str.startswith("val/").all()
    assert (s.train["target"] == s.train["label"].map({"blue": 0, "green": 1, "red": 2})).all()
    assert s.notes == []


def test_test_split_and_undecodable_or_unlabelled_rows_are_never_used():
    table = pd.concat([samples({"a": 4, "b": 4}, "train"), samples({"a": 2, "b": 2}, "val"),
                       samples({"a": 3}, "test"), samples({"c": 2}, "train", ok=False),
                       samples({"": 2}, "train")], ignore_index=True)
    s = data.split(table)
    assert s.classes == ["a", "b"]
    assert len(s.train) == 8 and len(s.val) == 4


def test_a_dataset_without_val_gets_a_seeded_stratified_split():
    table = samples({"a": 20, "b": 10, "c": 5})
    s = data.split(table, seed=0, val_fraction=0.2)
    assert s.val["label"].value_counts().to_dict() == {"a": 4, "b": 2, "c": 1}
    assert s.train["label"].value_counts().to_dict() == {"a": 16, "b": 8, "c": 4}
    assert not set(s.train["path"]) & set(s.val["path"])
    assert "seeded stratified 80%/20% split (seed 0)" in s.how
    again = data.split(table, seed=0, val_fraction=0.2)
    assert again.val["path"].tolist() == s.val["path"].tolist()
    other = data.split(table, seed=1, val_fraction=0.2)
    assert other.val["path"].tolist() != s.val["path"].tolist()


def test_a_train_only_dataset_is_split_from_its_train_rows():
    table = pd.concat([samples({"a": 10, "b": 10}, "train"), samples({"a": 5, "b": 5}, "test")],
                      ignore_index=True)
    s = data.split(table)
    assert "of train/" in s.how
    assert (s.train["split"] == "train").all() and (s.val["split"] == "train").all()
    assert len(s.val) == 4


def test_an_empty_validation_split_is_a_clear_error():
    with pytest.raises(ValueError, match="validation split is empty"):
        data.split(samples({"a": 1, "b": 1}))  # one image per class: nothing to hold out


def test_nothing_decodable_is_a_clear_error():
    with pytest.raises(ValueError, match="nothing to train on"):
        data.split(samples({"a": 3}, ok=False))


def test_a_class_with_one_training_image_gets_a_note():
    table = pd.concat([samples({"a": 5, "b": 1}, "train"), samples({"a": 2, "b": 2}, "val")], ignore_index=True)
    s = data.split(table)
    assert s.notes == ["class 'b' has 1 training image(s): its accuracy means little"]


@pytest.mark.parametrize("side, cap, expected", [(40, 64, 32), (300, 64, 64), (10, 64, 16), (16, 64, 16),
                                                  (300, 224, 224), (130, 224, 128)])
def test_choose_input_size_takes_the_largest_standard_side_under_the_median(side, cap, expected):
    table = samples({"a": 5}, width=side, height=side * 2)
    assert data.choose_input_size(table, cap=cap) == expected


def test_choose_input_size_looks_at_the_median_short_side_of_usable_images():
    table = pd.concat([samples({"a": 3}), samples({"a": 2}).assign(width=500, height=400)], ignore_index=True)
    assert data.choose_input_size(table) == 32
    broken = samples({"a": 9}, ok=False).assign(width=500, height=500)
    assert data.choose_input_size(pd.concat([table, broken], ignore_index=True)) == 32


def test_the_tensor_cache_is_built_once_in_the_workspace_and_reused(colours, colours_split, tmp_path, monkeypatch):
    before = listing(colours.root)
    prepared = reprepare(colours, tmp_path)
    rows = colours_split.train
    images, ok, failed = data.tensor_cache(prepared, rows, 16)
    assert images.shape == (36, 3, 16, 16) and images.dtype == np.uint8 and ok.all() and failed == []
    cached = list((prepared.workspace / "tensors").iterdir())
    assert len(cached) == 2 and all(p.is_relative_to(tmp_path / "cache-copy") for p in cached)

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded again: the cache was not reused")

    monkeypatch.setattr(data, "decode_for_network", no_decode)
    again, ok2, _ = data.tensor_cache(prepared, rows, 16)
    assert np.array_equal(again, images) and ok2.all()
    assert listing(colours.root) == before  # the dataset was only read


def test_cached_tensors_are_the_decoded_files(colours, colour_tensors):
    path = colour_tensors.train_paths[0]
    with Image.open(colours.root / path) as im:
        expected = np.asarray(im.convert("RGB")).transpose(2, 0, 1)
    assert np.array_equal(colour_tensors.x_train[0].numpy(), expected)


def test_a_file_that_no_longer_decodes_is_skipped_with_its_reason(tmp_path):
    root = make_colours(tmp_path / "ds", per_class=(("train", 4), ("val", 2)))
    before = listing(root)
    prepared = scan(root, tmp_path / "cache")
    assert listing(root) == before  # scanning only reads the dataset
    broken = root / "train" / "red" / "red_0.png"
    broken.write_bytes(broken.read_bytes()[:40])  # truncated after the scan
    s = data.split(prepared.samples)
    t = load_tensors(prepared, s, FAST)
    assert [p for p, _ in t.failed] == ["train/red/red_0.png"]
    assert t.failed[0][1].split(":")[0] in {"OSError", "SyntaxError", "UnidentifiedImageError", "ValueError"}
    assert len(t.y_train) == 11 and "train/red/red_0.png" not in t.train_paths
    assert len(t.y_val) == 6


def test_the_workspace_is_never_inside_the_dataset(tmp_path):
    root = make_colours(tmp_path / "ds", per_class=(("train", 2),))
    with pytest.raises(ValueError, match="inside the dataset"):
        data.prepare(root, cache=root / "cache")
    assert not (root / "cache").exists()


def test_prepare_reuses_the_workspace_without_rescanning(colours, monkeypatch):
    import baselines.data
    monkeypatch.setattr(baselines.data, "scan_and_inspect", lambda *a, **k: pytest.fail("scanned again"))
    again = data.prepare(colours.root, cache=colours.workspace.parent)
    assert again.workspace == colours.workspace and len(again.samples) == len(colours.samples)
    assert "class_counts" in again.summary


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "I;16", "CMYK"])
def test_decode_for_network_gives_rgb_uint8_for_every_mode(tmp_path, mode):
    im = colour_image((200, 40, 40), np.random.default_rng(0), side=20)
    if mode == "I;16":
        im = Image.fromarray(np.asarray(im.convert("L"), np.uint16) * 257)  # the same levels in 16 bits
    elif mode == "P":
        im = im.convert("P")
    else:
        im = im.convert(mode)
    path = tmp_path / ("x.tif" if mode in ("CMYK", "I;16") else "x.png")
    im.save(path)
    out = data.decode_for_network(path, 16, LIMIT)
    assert out.shape == (3, 16, 16) and out.dtype == np.uint8
    assert out.max() > 100  # 16-bit scaled down to 8, not clipped to white or black
    if mode == "I;16":  # divided by 65535 (imaging's one rule), not by the image's own maximum
        assert abs(out.mean() - np.asarray(colour_image((200, 40, 40), np.random.default_rng(0), side=20)
                                            .convert("L")).mean()) < 1


def test_transparent_pixels_decode_as_white(tmp_path):
    Image.new("RGBA", (16, 16), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert (data.decode_for_network(tmp_path / "clear.png", 16, LIMIT) == 255).all()


def test_decode_for_network_resizes_the_short_side_and_centre_crops(tmp_path):
    a = np.zeros((32, 64, 3), np.uint8)
    a[:, 8:56] = 255  # a white centre band, black at the sides
    Image.fromarray(a).save(tmp_path / "wide.png")
    out = data.decode_for_network(tmp_path / "wide.png", 16, LIMIT)
    assert out.shape == (3, 16, 16) and out.min() == 255


def test_a_rescan_keeps_the_settings_the_command_line_gave_the_workspace(colours, tmp_path):
    prepared = reprepare(colours, tmp_path)
    settings = config_to_dict(Config())
    settings["duplicates"]["radius"], settings["scan"]["workers"] = 6, 1
    (prepared.workspace / "config.json").write_text(json.dumps(settings))
    rescanned = data.prepare(prepared.root, cache=prepared.workspace.parent, rescan=True)
    assert workspace_config(rescanned.workspace) == config_from_dict(settings)
