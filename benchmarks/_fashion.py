"""fashion: the real Fashion-MNIST (Zalando's product photos, 28x28 grey, 60,000 train and 10,000 test) with
planted edited copies: the scale and the natural crowds of the hidden 60,000-image check, on photos nobody
here made.

The images are read from Debian's package `dataset-fashion-mnist` (`apt-get install dataset-fashion-mnist`;
it installs /usr/share/datasets/fashion-mnist/*.gz), or from $FASHION_MNIST, a folder holding the same four
IDX files. Each becomes a PNG under train/<class>/ or test/<class>/ as the source splits it.

Planted copies (PER_KIND of each kind; LEAK_SHARE with the original in train and the copy in test, the others
both in test): whole-pixel shifts of 1-3 px (the vacated strip black, the background), crops keeping 81-90 %
of the picture resized back, zooms out to 88-95 % on black, brightness and contrast changes, JPEG re-encodes
(q 50-95, saved as .jpg), down-and-up rescales, mirror images, rotations of 3-10 degrees, and pairs of them;
some byte-identical. The truth is by source (benchmarks/_copies_truth.py): a planted copy and its original
are a copy, and so are source images with identical pixels; source images whose pixels nearly match
(`near_pairs`) are ambiguous; every other pair is a negative. The dataset's own look-alikes (plain T-shirts,
sneakers in profile) are the hard negatives: thousands of them, none planted.
"""

import gzip
import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageEnhance

VERSION = 1  # bump on any change to what build() makes: cached sets carry it in their folder name
SOURCE = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ("tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")
SINGLES = ("shift_1px", "shift_2px", "shift_3px", "crop", "zoom_out", "tone", "jpeg", "rescale", "mirror",
           "rotation")
PAIRS = ("shift+tone", "crop+jpeg", "mirror+shift", "zoom_out+tone", "rescale+jpeg", "rotation+tone")
PER_KIND, PER_PAIR, EXACT = 40, 20, 20
LEAK_SHARE = 0.7
NEAR_RMS = 6.0  # grey levels (0-255): source images this close on 14x14 means are ambiguous, not negatives
SIDE = 28


def source_dir() -> Path:
    folder = Path(os.environ.get("FASHION_MNIST", SOURCE))
    if not (folder / "train-images-idx3-ubyte.gz").exists():
        raise SystemExit(f"Fashion-MNIST not found in {folder}: `apt-get install dataset-fashion-mnist`, or set "
                         "FASHION_MNIST to a folder holding its four IDX files (*-idx3-ubyte.gz, *-idx1-ubyte.gz)")
    return folder


def _idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped) as a numpy array."""
    data = gzip.decompress(path.read_bytes())
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (70,000, 28, 28) uint8, labels, split: True for the test images), train first."""
    folder = source_dir()
    parts = [(_idx(folder / f"{part}-images-idx3-ubyte.gz"), _idx(folder / f"{part}-labels-idx1-ubyte.gz"))
             for part in ("train", "t10k")]
    test = np.repeat([False, True], [len(images) for images, _ in parts])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), test


def near_pairs(images: np.ndarray, rms: float = NEAR_RMS) -> list[str]:
    """For each image, the others (space-separated positions) whose 14x14 means differ by at most `rms` grey
    levels RMS: near-identical source pictures, which no one can call copies or not by their pixels."""
    import faiss

    small = images.reshape(len(images), 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(images), -1).astype(np.float32)
    index = faiss.IndexFlatL2(small.shape[1])
    index.add(small)
    dist, nearest = index.search(small, 8)
    close = dist <= rms * rms * small.shape[1]
    out = [[] for _ in range(len(images))]
    for i, j in zip(*np.nonzero(close), strict=True):
        a, b = i, int(nearest[i, j])
        if a != b and b >= 0:
            out[a].append(b)
            out[b].append(a)
    return [" ".join(str(v) for v in sorted(set(o))) for o in out]


def shifted(pixels: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(pixels)
    h, w = pixels.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = pixels[max(-dy, 0):h - max(dy, 0),
                                                                        max(-dx, 0):w - max(dx, 0)]
    return out


def _edit(rng, pixels: np.ndarray, kind: str) -> tuple[np.ndarray, dict, bool]:
    """(edited pixels, the edit's parameters, saved as JPEG) for one kind ("a+b": a then b)."""
    params, jpeg = {}, False
    im = Image.fromarray(pixels)
    for part in kind.split("+"):
        if part.startswith("shift"):
            step = int(part[6]) if part[6:7].isdigit() else int(rng.integers(1, 4))
            dx, dy = [(step, 0), (0, step), (step, step)][int(rng.integers(3))]
            dx, dy = dx * int(rng.choice([-1, 1])), dy * int(rng.choice([-1, 1]))
            im, params["shift_px"] = Image.fromarray(shifted(np.asarray(im), dx, dy)), [dx, dy]
        elif part == "crop":
            keep = float(rng.uniform(0.9, 0.95))  # of the side: 81-90 % of the picture
            side = SIDE * keep
            x0, y0 = float(rng.uniform(0, SIDE - side)), float(rng.uniform(0, SIDE - side))
            im = im.resize((SIDE, SIDE), Image.Resampling.BICUBIC, box=(x0, y0, x0 + side, y0 + side))
            params["crop_keep"] = round(keep * keep, 3)
        elif part == "zoom_out":
            f = float(rng.uniform(0.88, 0.95))
            side = round(SIDE * f)
            canvas = Image.new("L", (SIDE, SIDE), 0)
            canvas.paste(im.resize((side, side), Image.Resampling.LANCZOS), ((SIDE - side) // 2, (SIDE - side) // 2))
            im, params["zoom"] = canvas, round(side / SIDE, 3)
        elif part == "tone":
            b = float(rng.uniform(0.75, 0.9)) if rng.random() < 0.5 else float(rng.uniform(1.1, 1.3))
            c = float(rng.uniform(0.75, 0.9)) if rng.random() < 0.5 else float(rng.uniform(1.1, 1.3))
            im = ImageEnhance.Contrast(ImageEnhance.Brightness(im).enhance(b)).enhance(c)
            params["brightness"], params["contrast"] = round(b, 3), round(c, 3)
        elif part == "jpeg":
            jpeg, params["jpeg_quality"] = True, int(rng.integers(50, 96))
        elif part == "rescale":
            side = int(rng.integers(18, 25))
            im = im.resize((side, side), Image.Resampling.BILINEAR).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
            params["rescale_px"] = side
        elif part == "mirror":
            im, params["mirrored"] = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), True
        elif part == "rotation":
            angle = float(rng.uniform(3, 10)) * float(rng.choice([-1, 1]))
            im, params["rotation"] = im.rotate(angle, Image.Resampling.BILINEAR, fillcolor=0), round(angle, 1)
        else:
            raise ValueError(f"unknown edit {part}")
    return np.asarray(im), params, jpeg


def encoded(pixels: np.ndarray, quality: int | None) -> bytes:
    buf = io.BytesIO()
    if quality:
        Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
    else:
        Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def build(seed: int) -> tuple[list[tuple[str, bytes]], pd.DataFrame]:
    """Every file of the set (path, bytes) and the truth table, one row per file."""
    images, labels, test = load()
    rng = np.random.default_rng([seed, 21])
    keys = [hashlib.sha1(p.tobytes()).hexdigest()[:16] for p in images]
    near = near_pairs(images)
    records = [{"pixels": p, "label": CLASSES[int(t)], "split": "test" if s else "train", "source": str(i),
                "source_key": keys[i], "near_source": near[i], "kind": "base", "role": "base", "original": None,
                "params": {}, "quality": None}
               for i, (p, t, s) in enumerate(zip(images, labels, test, strict=True))]
    free = [int(i) for i in rng.permutation(len(images))]
    kinds = (["exact"] * EXACT + [k for k in SINGLES for _ in range(PER_KIND)]
             + [k for k in PAIRS for _ in range(PER_PAIR)])
    for kind in kinds:
        leak = rng.random() < LEAK_SHARE
        original = next(i for i in free if (records[i]["split"] == "train") == leak and images[i].std() > 10)
        free.remove(original)
        src = records[original]
        pixels, params, jpeg = (src["pixels"], {}, False) if kind == "exact" else _edit(rng, src["pixels"], kind)
        records.append({**src, "pixels": pixels, "split": "test", "kind": kind, "role": "copy", "original": original,
                        "params": params, "quality": params.get("jpeg_quality") if jpeg else None})
    ids = np.random.default_rng([seed, 22]).permutation(len(records))
    paths = [f"{r['split']}/{r['label']}/{ids[n]:05d}.{'jpg' if r['quality'] else 'png'}"
             for n, r in enumerate(records)]
    files = [(paths[n], encoded(r["pixels"], r["quality"])) for n, r in enumerate(records)]
    truth = pd.DataFrame([{"path": paths[n], "split": r["split"], "label": r["label"], "photo": "", "group": "",
                           "x0": 0.0, "y0": 0.0, "x1": 0.0, "y1": 0.0, "width": SIDE, "height": SIDE,
                           "quality": r["quality"] or 0, "mirrored": bool(r["params"].get("mirrored", False)),
                           "changed": False, "kind": r["kind"], "role": r["role"],
                           "original": "" if r["original"] is None else paths[r["original"]],
                           "params": str(r["params"]).replace("'", '"'), "source": r["source"],
                           "source_key": r["source_key"], "near_source": r["near_source"]}
                          for n, r in enumerate(records)])
    return files, truth
