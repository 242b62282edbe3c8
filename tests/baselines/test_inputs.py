""""What enters the net": the batch decoded back next to its files, with the differences named (EXIF
orientation ignored, channels swapped, scaling)."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

import baselines.data
from baselines import inputs
from baselines.train import load_tensors, normalise

from .conftest import FAST, reprepare


def tensors(prepared, **changes):
    from baselines import data
    return load_tensors(prepared, data.split(prepared.samples), dataclasses.replace(FAST, **changes))


def flags(verdict) -> list[str]:
    return [row["flag"] for row in verdict.evidence["samples"]]


def test_what_enters_passes_on_a_correct_pipeline_and_reports_the_tensors(colours, colour_tensors):
    verdict, pairs = inputs.what_enters(colour_tensors, colours.root, n=6)
    assert verdict.passed, verdict.todo
    assert flags(verdict) == [""] * 6
    stats = verdict.evidence["stats"]
    assert stats["shape"] == [6, 3, 16, 16] and stats["dtype"] == "float32"
    assert all(abs(m) < 1.5 for m in stats["channel_mean"]) and len(stats["channel_std"]) == 3
    assert stats["min"] < 0 < stats["max"]
    assert len(pairs) == 6 and all(f.shape == n.shape == (16, 16, 3) and n.dtype == np.uint8 for f, n in pairs)


def test_what_enters_passes_on_exif_rotated_files(exif_dataset, tmp_path):
    t = tensors(reprepare(exif_dataset, tmp_path))
    verdict, pairs = inputs.what_enters(t, exif_dataset.root)
    assert verdict.passed, verdict.todo
    assert len(pairs) == 8


def test_what_enters_catches_exif_orientation_ignored(exif_dataset, tmp_path, monkeypatch):
    prepared = reprepare(exif_dataset, tmp_path)  # a fresh tensor cache: the bug must be in it
    with monkeypatch.context() as m:
        m.setattr(baselines.data.ImageOps, "exif_transpose", lambda im, **kw: im)  # the planted bug
        t = tensors(prepared)
    verdict, _ = inputs.what_enters(t, exif_dataset.root)  # the reference opens the files correctly
    assert not verdict.passed
    found = [f for f in flags(verdict) if f]
    assert len(found) == 8
    assert all(f.startswith("EXIF orientation ignored (rotated") for f in found), found
    assert "EXIF orientation ignored" in verdict.todo


def test_what_enters_catches_rgb_bgr_swapped(colours, tmp_path, monkeypatch):
    prepared = reprepare(colours, tmp_path)
    correct = baselines.data.to_rgb
    with monkeypatch.context() as m:
        m.setattr(baselines.data, "to_rgb",
                  lambda im: Image.fromarray(np.asarray(correct(im))[..., ::-1].copy()))  # the planted bug
        t = tensors(prepared)
    verdict, _ = inputs.what_enters(t, colours.root)
    assert not verdict.passed
    assert "RGB/BGR channels swapped" in flags(verdict)
    assert set(flags(verdict)) <= {"RGB/BGR channels swapped", ""}
    assert "RGB/BGR channels swapped" in verdict.todo


def test_what_enters_catches_inputs_not_divided_by_255(colours, colour_tensors, monkeypatch):
    # the planted bug: the [0, 255] -> [0, 1] step forgotten, the standardisation kept
    monkeypatch.setattr(inputs, "normalise",
                        lambda x, mean, std: (x.float() - mean[None, :, None, None]) / std[None, :, None, None])
    verdict, _ = inputs.what_enters(colour_tensors, colours.root)
    assert not verdict.passed
    assert "not standardised" in verdict.todo
    assert min(verdict.evidence["stats"]["channel_mean"]) > 100


def test_what_enters_catches_a_missing_standardisation(colours, colour_tensors):
    t = dataclasses.replace(colour_tensors, std=colour_tensors.std / 100)  # inputs x100 too large
    verdict, _ = inputs.what_enters(t, colours.root)
    assert not verdict.passed and "not standardised" in verdict.todo


def test_what_enters_compares_augmented_batches_unaugmented(colours, colour_tensors):
    verdict, pairs = inputs.what_enters(colour_tensors, colours.root, augment_kind="flip_crop")
    assert verdict.passed, verdict.todo
    assert verdict.evidence["augment"] == "flip_crop"


def test_network_batch_is_the_training_transform(colour_tensors):
    import torch
    idx = torch.tensor([0, 5, 7])
    x = inputs.network_batch(colour_tensors, idx)
    expected = normalise(colour_tensors.x_train[idx], colour_tensors.mean, colour_tensors.std)
    assert torch.equal(x, expected)
    back = inputs.to_images(x, colour_tensors.mean, colour_tensors.std)
    assert np.abs(back.astype(int) - colour_tensors.x_train[idx].permute(0, 2, 3, 1).numpy()).max() <= 1


@pytest.mark.parametrize("op, name", [(Image.Transpose.ROTATE_180, "EXIF orientation ignored (rotated 180°)"),
                                      (Image.Transpose.FLIP_LEFT_RIGHT, "EXIF orientation ignored (mirrored)")])
def test_diagnose_names_the_orientation(op, name):
    blocks = np.random.default_rng(1).integers(0, 256, (4, 4, 3), dtype=np.uint8)  # no symmetry to confuse
    upright = np.asarray(Image.fromarray(blocks).resize((32, 32), Image.Resampling.NEAREST))
    seen = np.asarray(Image.fromarray(upright).transpose(op))
    diff, flag = inputs.diagnose(seen, upright)
    assert diff > inputs.MATCH and flag == name


def test_diagnose_accepts_resampling_noise_and_names_a_brightness_change():
    rng = np.random.default_rng(0)
    a = rng.integers(60, 200, (32, 32, 3)).astype(np.uint8)
    assert inputs.diagnose(a, a)[1] == ""
    darker = (a * 0.5).astype(np.uint8)
    assert inputs.diagnose(darker, a)[1].startswith("scaled wrongly")
