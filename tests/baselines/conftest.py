"""Tiny datasets a tiny CNN separates in a few dozen steps, scanned once per session into a cache of their
own (never ~/.cache, never the dataset folder), and the helpers that turn them into training tensors."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import inspectors.scan
from baselines import data
from baselines.config import TrainConfig
from baselines.train import load_tensors

torch.set_num_threads(1)  # docs: OpenMP spin-waiting on 2 shared cores makes 2 threads far slower than 1

COLOURS = {"blue": (40, 60, 220), "green": (40, 200, 110), "red": (220, 50, 40)}  # R != B in each: a swap shows
FAST = TrainConfig(width=8, batch_size=16, lr=1e-2, epochs=3, fixed_batch=6)  # 9 steps learn `colours` (val acc 1)


def colour_image(rgb, rng, side=16) -> Image.Image:
    a = np.asarray(rgb, float)[None, None, :] + rng.normal(0, 20, (side, side, 3))
    return Image.fromarray(a.clip(0, 255).astype(np.uint8))


def make_colours(root: Path, per_class=(("train", 12), ("val", 4)), classes=COLOURS, seed=0) -> Path:
    """train/ and val/ with one colour per class (16x16 PNGs with noise)."""
    rng = np.random.default_rng(seed)
    for split, n in per_class:
        for label, rgb in classes.items():
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                colour_image(rgb, rng).save(folder / f"{label}_{i}.png")
    return root


def quadrant_image(rgb, side=32) -> Image.Image:
    """Grey with a coloured top-left quadrant: any rotation or mirror of it looks different."""
    a = np.full((side, side, 3), 128, np.uint8)
    a[: side // 2, : side // 2] = rgb
    return Image.fromarray(a)


def make_exif(root: Path) -> Path:
    """JPEGs stored sideways with EXIF orientation 6 or 8: upright (quadrant top-left) only once EXIF is
    applied. Orientation 6 shows the stored pixels turned 90° clockwise, 8 counter-clockwise."""
    for split, n in (("train", 6), ("val", 2)):
        for label, rgb in (("red", (230, 30, 30)), ("blue", (30, 30, 230))):
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                orientation = 6 if i % 2 else 8
                upright = quadrant_image(rgb)
                turn = Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270
                stored = upright.transpose(turn)
                exif = Image.Exif()
                exif[0x0112] = orientation
                stored.save(folder / f"{label}_{i}.jpg", quality=95, exif=exif)
    return root


def scan(root: Path, cache: Path) -> data.Prepared:
    """data.prepare with one scan worker: spawning one per core costs seconds on a loaded machine."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(inspectors.scan, "worker_count", lambda requested: 1)
        return data.prepare(root, cache=cache)


def reprepare(prepared: data.Prepared, tmp_path: Path) -> data.Prepared:
    """The same scanned dataset with a private copy of its cache root: no rescan, and an empty tensor cache
    (a planted decode bug must not be hidden by tensors another test cached)."""
    cache = tmp_path / "cache-copy"
    shutil.copytree(prepared.workspace.parent, cache, ignore=shutil.ignore_patterns("tensors"))
    return data.prepare(prepared.root, cache=cache)


def listing(root: Path) -> dict:
    """Every file under root with its size and mtime: to show a dataset was only read."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Anything that forgets --cache writes under tmp_path, never to ~/.cache."""
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "default-cache"))


@pytest.fixture(scope="session")
def colours(tmp_path_factory) -> data.Prepared:
    """3 classes x (12 train + 4 val) coloured 16x16 PNGs, scanned. Read-only: tests that need a cache of
    their own use reprepare()."""
    base = tmp_path_factory.mktemp("colours")
    return scan(make_colours(base / "ds"), base / "cache")


@pytest.fixture(scope="session")
def colours_split(colours) -> data.Split:
    return data.split(colours.samples)


@pytest.fixture
def split(colours_split) -> data.Split:
    """A copy a test may change (load_tensors appends notes)."""
    return dataclasses.replace(colours_split, notes=list(colours_split.notes))


@pytest.fixture(scope="session")
def colour_tensors(colours, colours_split):
    """The colours dataset as training tensors (shared: do not modify)."""
    s = dataclasses.replace(colours_split, notes=[])
    return load_tensors(colours, s, FAST)


@pytest.fixture(scope="session")
def exif_dataset(tmp_path_factory) -> data.Prepared:
    base = tmp_path_factory.mktemp("exif")
    return scan(make_exif(base / "ds"), base / "cache")
