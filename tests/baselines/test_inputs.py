""""What enters the net": the batch decoded back next to its files, with the differences named (EXIF
orientation ignored, channels swapped, scaling)."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from baselines import inputs
from baselines.train import load_tensors, normalise
from inspectors import imaging

from .conftest import FAST, reprepare, scan


def tensors(prepared, **changes):
    from baselines import data
    return load_tensors(prepared, data.split(prepared.samples), dataclasses.replace(FAST, **changes))


def flags(verdict) -> list[str]:
    return [row["flag"] for row in verdict.evidence["samples"]]


def test_what_enters_passes_on_a_correct_pipeline_and_reports_the_tensors(colours, colour_tensors):
    verdict, pairs = inputs.what_enters(colour_tensors, colours, n=6)
    assert verdict.passed, verdict.todo
    assert flags(verdict) == [""] * 6
    stats = verdict.evidence["stats"]
    assert stats["shape"] == [6, 3, 16, 16] and stats["dtype"] == "float32"
    assert all(abs(m) < 1.5 for m in stats["channel_mean"]) and len(stats["channel_std"]) == 3
    assert stats["min"] < 0 < stats["max"]
    assert len(pairs) == 6 and all(f.shape == n.shape == (16, 16, 3) and n.dtype == np.uint8 for f, n in pairs)


def test_what_enters_passes_on_exif_rotated_files(exif_dataset, tmp_path):
    t = tensors(reprepare(exif_dataset, tmp_path))
    verdict, pairs = inputs.what_enters(t, exif_dataset)
    assert verdict.passed, verdict.todo
    assert len(pairs) == 8


def test_what_enters_catches_exif_orientation_ignored(exif_dataset, tmp_path, monkeypatch):
    prepared = reprepare(exif_dataset, tmp_path)  # a fresh tensor cache: the bug must be in it
    with monkeypatch.context() as m:
        m.setattr(imaging, "orientation", lambda im: 1)  # the planted bug, while the tensors are built
        t = tensors(prepared)
    verdict, _ = inputs.what_enters(t, exif_dataset)  # the reference opens the files correctly
    assert not verdict.passed
    found = [f for f in flags(verdict) if f]
    assert len(found) == 8
    assert all(f.startswith("EXIF orientation ignored (rotated") for f in found), found
    assert "EXIF orientation ignored" in verdict.todo


def test_what_enters_catches_rgb_bgr_swapped(colours, tmp_path, monkeypatch):
    prepared = reprepare(colours, tmp_path)
    correct = imaging.to_rgb
    with monkeypatch.context() as m:
        m.setattr(imaging, "to_rgb",  # the planted bug, while the tensors are built
                  lambda im, levels=None: Image.fromarray(np.asarray(correct(im, levels))[..., ::-1].copy()))
        t = tensors(prepared)
    verdict, _ = inputs.what_enters(t, colours)
    assert not verdict.passed
    assert "RGB/BGR channels swapped" in flags(verdict)
    assert set(flags(verdict)) <= {"RGB/BGR channels swapped", ""}
    assert "RGB/BGR channels swapped" in verdict.todo


def test_what_enters_catches_a_network_that_reads_16_bit_files_otherwise_than_a_person(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    for split, n in (("train", 6), ("val", 2)):
        for label, level in (("dim", 12000), ("mid", 24000)):  # far below 65535: scaling by the max shows
            (root / split / label).mkdir(parents=True)
            for i in range(n):
                values = np.full((16, 16), level + 500 * i, np.uint16)
                values[4:12, 4:12] //= 2
                Image.fromarray(values).save(root / split / label / f"{i}.png")
    prepared = scan(root, tmp_path / "cache")
    correct = imaging.to_rgb
    with monkeypatch.context() as m:  # the planted bug: 16-bit divided by the image's own maximum, as until 2026-12
        m.setattr(imaging, "to_rgb", lambda im, levels=None: correct(
            im, (0, float(np.asarray(im).max())) if im.mode.startswith("I;16") else levels))
        t = tensors(prepared)
    verdict, _ = inputs.what_enters(t, prepared)
    assert not verdict.passed
    assert all(flag.startswith("scaled wrongly") for flag in flags(verdict)), flags(verdict)
    assert inputs.what_enters(tensors(reprepare(prepared, tmp_path)), prepared)[0].passed  # the reader itself agrees


def test_what_enters_catches_inputs_not_divided_by_255(colours, colour_tensors, monkeypatch):
    # the planted bug: the [0, 255] -> [0, 1] step forgotten, the standardisation kept
    monkeypatch.setattr(inputs, "normalise",
                        lambda x, mean, std: (x.float() - mean[None, :, None, None]) / std[None, :, None, None])
    verdict, _ = inputs.what_enters(colour_tensors, colours)
    assert not verdict.passed
    assert "not standardised" in verdict.todo
    assert min(verdict.evidence["stats"]["channel_mean"]) > 100


def test_what_enters_catches_a_missing_standardisation(colours, colour_tensors):
    t = dataclasses.replace(colour_tensors, std=colour_tensors.std / 100)  # inputs x100 too large
    verdict, _ = inputs.what_enters(t, colours)
    assert not verdict.passed and "not standardised" in verdict.todo


def test_what_enters_compares_augmented_batches_unaugmented(colours, colour_tensors):
    verdict, pairs = inputs.what_enters(colour_tensors, colours, augment_kind="flip_crop")
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
