"""Synthetic benchmark data, generated once under benchmarks/data/ (gitignored) and reused.

Two sets, each a folder per class under train/:
  photos_N: N photo-like JPEGs, 256-1024 px each side, quality 90. A smooth random colour field,
            a few soft-edged shapes, mid-frequency texture and per-pixel grain: they compress like
            photos (~2-3 bits per pixel), so the entropy decode costs what it costs on real data.
  tiny_N:   N 32x32 colour PNGs: a gradient, one shape, light noise (CIFAR-like sizes).
Also: flat_subset (the peers' flat folder) and read_all (warms the page cache).
Every file is a pure function of (set, index, SEED), so the same Pillow/zlib/libjpeg gives the same
bytes. A set is generated into a temporary folder and renamed when complete, so an interrupted
generation never leaves a half set that looks finished.
"""

import io
import multiprocessing as mp
import os
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

DATA = Path(__file__).resolve().parent / "data"
SEED = 20_260_101
CLASSES = 10


def _rng(kind: int, index: int) -> np.random.Generator:
    return np.random.default_rng([SEED, kind, index])


def _field(rng, w, h, cells, amplitude) -> Image.Image:
    """A smooth random RGB field around 128 +- amplitude: a coarse random grid upsampled bicubically."""
    gw, gh = max(2, round(w / cells)), max(2, round(h / cells))
    coarse = rng.integers(128 - amplitude, 128 + amplitude + 1, (gh, gw, 3), dtype=np.uint8)
    return Image.fromarray(coarse, "RGB").resize((w, h), Image.Resampling.BICUBIC)


def _add(a: Image.Image, b: Image.Image) -> Image.Image:
    """a + b - 128, clipped: adds a field centred on 128."""
    return ImageChops.add(a, b, 1.0, -128)


def photo_jpeg(index: int) -> bytes:
    rng = _rng(1, index)
    w, h = (int(v) for v in rng.integers(256, 1025, 2))
    canvas = _field(rng, w, h, rng.uniform(120, 400), 70)  # large smooth regions (sky, walls)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 7))):  # objects with edges, softened like a lens does
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 2 + 21)), y0 + int(rng.integers(20, h // 2 + 21))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    canvas = canvas.filter(ImageFilter.BoxBlur(1))
    canvas = _add(canvas, _field(rng, w, h, rng.uniform(6, 16), 18))  # texture (foliage, fabric)
    grain = int(rng.integers(6, 13))  # sensor grain
    canvas = _add(canvas, Image.fromarray(rng.integers(128 - grain, 129 + grain, (h, w, 3), dtype=np.uint8), "RGB"))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def tiny_png(index: int) -> bytes:
    rng = _rng(2, index)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0, 1, 32, dtype=np.float32)
    grad = t[:, None] if rng.random() < 0.5 else t[None, :]
    img = a + (b - a) * np.broadcast_to(grad, (32, 32))[..., None]
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    x0, y0 = (int(v) for v in rng.integers(0, 20, 2))
    x1, y1 = x0 + int(rng.integers(6, 13)), y0 + int(rng.integers(6, 13))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    (ImageDraw.Draw(canvas).ellipse if rng.random() < 0.5 else ImageDraw.Draw(canvas).rectangle)(
        [x0, y0, x1, y1], fill=colour)
    img = np.asarray(canvas, dtype=np.int16) + rng.integers(-6, 7, (32, 32, 3), dtype=np.int16)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


SETS = {"photos": (photo_jpeg, ".jpg"), "tiny": (tiny_png, ".png")}


def relative_path(index: int, ext: str) -> str:
    return f"train/class_{index % CLASSES:02d}/img_{index:06d}{ext}"


def _write(job):
    kind, folder, index = job
    make, ext = SETS[kind]
    data = make(index)
    target = Path(folder) / relative_path(index, ext)
    target.write_bytes(data)
    return len(data)


def ensure_set(kind: str, count: int, workers: int = 2) -> Path:
    """The dataset folder of `count` files of `kind`, generating it first if it is not there."""
    final = DATA / f"{kind}_{count}"
    if (final / "COMPLETE").exists():
        return final
    tmp = DATA / f".{kind}_{count}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for c in range(CLASSES):
        (tmp / "train" / f"class_{c:02d}").mkdir(parents=True, exist_ok=True)
    start, total = time.perf_counter(), 0
    with mp.get_context("spawn").Pool(workers) as pool:
        for n, size in enumerate(pool.imap_unordered(_write, ((kind, str(tmp), i) for i in range(count)),
                                                     chunksize=64), 1):
            total += size
            if n % 5000 == 0:
                print(f"  {kind}: {n:,}/{count:,} files", flush=True)
    (tmp / "COMPLETE").write_text(f"{count} files, {total} bytes, seed {SEED}\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    print(f"generated {final} ({count:,} files, {total / 1e6:,.0f} MB) in {time.perf_counter() - start:.0f} s",
          flush=True)
    return final


def image_files(root: Path) -> list[Path]:
    """The set's images in path order (the order the scan's listing uses)."""
    return sorted(p for p in (root / "train").rglob("*") if p.is_file())


def flat_subset(photos: list[Path], count: int) -> Path:
    """The first `count` files of a set, hard-linked into one flat folder (what imagededup reads)."""
    folder = DATA / f"peers_{len(photos)}_{count}"
    if (folder / "COMPLETE").exists():
        return folder / "images"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "images").mkdir(parents=True)
    for path in photos[:count]:
        target = folder / "images" / f"{path.parent.name}_{path.name}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    (folder / "COMPLETE").write_text(f"{count}\n")
    return folder / "images"


def read_all(paths) -> None:
    """Read every file once, so floor and ours both read from the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass
