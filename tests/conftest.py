"""Shared fixtures: tiny images built in a few lines, and a workspace that never touches the repo."""

import io
import os
import random

import numpy as np
import pytest
from PIL import Image


def noise_image(w=64, h=48, mode="RGB", seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    # smooth-ish content so JPEG and hashes behave like photos, not like white noise
    small = rng.integers(0, 256, size=(max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    im = Image.fromarray(small, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    return im.convert(mode) if mode != "RGB" else im


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def write(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("INSPECTORS_CACHE", str(root))
    return root


def folder_dataset(root, splits, seed):
    """Noise pictures, JPEG and PNG, of two classes under each split ({split: images a class}), plus a
    truncated JPEG and a README."""
    rnd = random.Random(seed)
    for split, n in splits.items():
        for label in ("cat", "dog"):
            for i in range(n):
                im = noise_image(40 + rnd.randint(0, 30), 40 + rnd.randint(0, 30), seed=rnd.randint(0, 2**31))
                ext = "jpg" if i % 2 else "png"
                write(root / split / label / f"{label}_{i}.{ext}", encode(im, "JPEG" if ext == "jpg" else "PNG"))
    good = (root / "train" / "cat" / "cat_1.jpg").read_bytes()
    write(root / "train" / "cat" / "truncated.jpg", good[: len(good) // 2])
    write(root / "train" / "dog" / "README.txt", b"notes")
    return root


@pytest.fixture
def small_dataset(tmp_path):
    """train/val/test with two classes, JPEG and PNG, plus a truncated JPEG and a README."""
    return folder_dataset(tmp_path / "ds", {"train": 12, "val": 4, "test": 4}, seed=0)
