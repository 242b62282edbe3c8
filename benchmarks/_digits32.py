"""digits32: scikit-learn's handwritten digits at 32 px, with planted shifted copies and planted outliers.

Each 8x8 digit (0-16) is enlarged bicubically to 24 px, its strokes firmed by a contrast curve (the 8x8 grid
otherwise shows as soft blobs), and centred on a black 32 px canvas: white ink on black with a 4 px margin,
as MNIST draws digits, so a shift of 1-2 px moves the digit without cutting it. Grey PNG, train/test per class.

Planted copies (original in train and copy in test, or both in test): shifted by 1-2 px, alone or with a slight
zoom, a contrast change or a JPEG round trip; some zoomed, re-contrasted or re-encoded without a shift; some
byte-identical. Digits whose 8x8 arrays are identical in the source are copies too (scikit-learn 1.9.1's set has
none); digits whose arrays differ by at most NEAR_L1 in total (about one and a half pixels) are ambiguous.
Planted outliers (~2.5 %): crops of grey and of colour photos, of printed text, noise, gradients, inverted
digits, drawings and faces: images a person would call "not a digit like the others"; no two alike (crops of
one photo share < 30 %, each drawing, face and inverted digit is used once), so none is a copy of another.
"""

import hashlib
import io

import _real_photos
import numpy as np
import pandas as pd
from _copies_truth import overlap
from PIL import Image, ImageEnhance

VERSION = 2  # bump on any change to what build() makes: cached sets carry it in their folder name
NEAR_L1 = 24  # total absolute difference of two 8x8 arrays (0-16 each) below which they are ambiguous
COPIES = {"shift_1px": 30, "shift_2px": 30, "shift+zoom": 15, "shift+contrast": 15, "shift+jpeg": 15,
          "zoom": 10, "contrast": 10, "jpeg": 10, "exact": 10}
OUTLIERS = ("grey_photo", "colour_photo", "text", "noise", "gradient", "inverted_digit", "drawing", "face")
PER_OUTLIER = 6
TEST_SHARE, LEAK_SHARE = 1 / 6, 0.7


def render(digit: np.ndarray) -> np.ndarray:
    """An 8x8 digit (0-16) as a 32x32 uint8 image: bicubic to 24 px, contrast curve, 4 px black margin."""
    small = Image.fromarray(np.round(digit * 255 / 16).astype(np.uint8)).resize((24, 24), Image.Resampling.BICUBIC)
    ink = np.clip((np.asarray(small, np.float32) - 40) * 1.4, 0, 255)
    out = np.zeros((32, 32), np.uint8)
    out[4:28, 4:28] = np.round(ink).astype(np.uint8)
    return out


def shifted(pixels: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Content moved by (dx, dy), the vacated strip black (the background)."""
    out = np.zeros_like(pixels)
    h, w = pixels.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = pixels[max(-dy, 0):h - max(dy, 0),
                                                                        max(-dx, 0):w - max(dx, 0)]
    return out


def _edit(rng, pixels: np.ndarray, kind: str) -> tuple[np.ndarray, dict]:
    params = {}
    im = Image.fromarray(pixels)
    if "zoom" in kind:
        f = float(rng.uniform(1.05, 1.12)) if rng.random() < 0.5 else float(rng.uniform(0.9, 0.95))
        side = round(32 * f)
        big = im.resize((side, side), Image.Resampling.BICUBIC)
        canvas = Image.new("L", (max(side, 32), max(side, 32)), 0)
        canvas.paste(big, ((canvas.width - side) // 2, (canvas.height - side) // 2))
        off = (canvas.width - 32) // 2
        im, params["zoom"] = canvas.crop((off, off, off + 32, off + 32)), round(f, 3)
    if "contrast" in kind:
        f = float(rng.uniform(0.7, 0.85)) if rng.random() < 0.5 else float(rng.uniform(1.15, 1.3))
        im, params["contrast"] = ImageEnhance.Contrast(im).enhance(f), round(f, 3)
    if "jpeg" in kind:
        q = int(rng.integers(60, 91))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)
        im, params["jpeg_quality"] = Image.open(io.BytesIO(buf.getvalue())).convert("L"), q
    out = np.asarray(im)
    if "shift" in kind:
        step = 2 if kind == "shift_2px" else 1 if kind == "shift_1px" else int(rng.integers(1, 3))
        dx, dy = [(step, 0), (0, step), (step, step), (step, 0)][int(rng.integers(4))]
        dx, dy = dx * int(rng.choice([-1, 1])), dy * int(rng.choice([-1, 1]))
        out, params["shift_px"] = shifted(out, dx, dy), [dx, dy]
    return out, params


def _photo_crop(rng, names: list[str], lo: int, hi: int, taken: list) -> tuple[np.ndarray, str, tuple] | None:
    """A 32 px crop of one of the photos, sharing < 30 % with the crops taken before (else None)."""
    name = names[int(rng.integers(len(names)))]
    photo = _real_photos.photo(name)
    h, w = photo.shape[:2]
    side = int(rng.integers(lo, min(hi, h, w) + 1))
    x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
    window = (x, y, x + side, y + side)
    if any(n == name and overlap(window, other) >= 0.3 for n, other in taken):
        return None
    taken.append((name, window))
    crop = Image.fromarray(photo[y:y + side, x:x + side]).resize((32, 32), Image.Resampling.LANCZOS)
    return np.asarray(crop), name, window


def _drawings(rng) -> list[np.ndarray]:
    """Six distinct drawn images (not photos, not digits), grey 0-255."""
    import skimage.data
    images = [skimage.data.horse(), skimage.data.shepp_logan_phantom(), skimage.data.checkerboard(),
              *(skimage.data.binary_blobs(128, blob_size_fraction=f, rng=int(rng.integers(1000)))
                for f in (0.05, 0.1, 0.2))]
    out = []
    for img in images:
        img = np.asarray(img, np.float64)
        img = np.round(255 * (img - img.min()) / max(img.max() - img.min(), 1e-9)).astype(np.uint8)
        out.append(np.asarray(Image.fromarray(img).resize((32, 32), Image.Resampling.LANCZOS)))
    return out


def outliers(rng, digits: np.ndarray) -> list[dict]:
    """PER_OUTLIER distinct images of each outlier kind: pixels (32x32, grey except colour_photo: RGB), and the
    photo and window for crops of photos (so the truth can tell two crops of one place apart by geometry)."""
    grey = [n for n in _real_photos.names() if not _real_photos.is_colour(n) and n not in ("page", "text")]
    colour = [n for n in _real_photos.names() if _real_photos.is_colour(n)]
    crops = {"grey_photo": (grey, 40, 200), "colour_photo": (colour, 40, 200), "text": (["page", "text"], 48, 120)}
    taken, out = [], []
    drawings = _drawings(rng)
    inverted = rng.choice(len(digits), PER_OUTLIER, replace=False)
    faces, face_ids = None, rng.choice(100, PER_OUTLIER, replace=False)
    for kind in OUTLIERS:
        for k in range(PER_OUTLIER):
            photo, window = "", (0.0, 0.0, 0.0, 0.0)
            if kind in crops:
                got = None
                while got is None:
                    got = _photo_crop(rng, *crops[kind], taken)
                pixels, photo, window = got
                if kind != "colour_photo":
                    pixels = np.asarray(Image.fromarray(pixels).convert("L"))
            elif kind == "noise":
                pixels = rng.integers(0, 256, (32, 32), dtype=np.uint8) if k % 2 else \
                    np.clip(rng.normal(128, 50, (32, 32)), 0, 255).astype(np.uint8)
            elif kind == "gradient":  # directions 60 degrees apart: no two alike
                angle = np.radians(60 * k + rng.uniform(-10, 10))
                y, x = np.mgrid[0:32, 0:32] / 31
                t = np.cos(angle) * x + np.sin(angle) * y
                pixels = np.round(255 * (t - t.min()) / (t.max() - t.min())).astype(np.uint8)
            elif kind == "inverted_digit":
                pixels = 255 - render(digits[inverted[k]])
            elif kind == "drawing":
                pixels = drawings[k % len(drawings)]
            else:
                import skimage.data
                faces = skimage.data.lfw_subset()[:100] if faces is None else faces  # the first 100 are faces
                face = Image.fromarray(np.round(faces[face_ids[k]] * 255).astype(np.uint8))
                pixels = np.asarray(face.resize((32, 32), Image.Resampling.BICUBIC))
            out.append({"kind": kind, "pixels": pixels, "photo": photo, "window": window})
    if len({o["pixels"].tobytes() for o in out}) != len(out):
        raise AssertionError("two planted outliers have the same pixels")
    return out


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def near_sources(digits: np.ndarray) -> list[str]:
    """For each digit, the other digits whose 8x8 arrays differ by at most NEAR_L1 in total (space-separated)."""
    flat = digits.reshape(len(digits), -1).astype(np.int16)
    out = []
    for i in range(len(flat)):
        d = np.abs(flat - flat[i]).sum(axis=1)
        out.append(" ".join(str(j) for j in np.flatnonzero(d <= NEAR_L1) if j != i))
    return out


def build(seed: int) -> tuple[list[tuple[str, bytes]], pd.DataFrame]:
    """Every file of the set (path, bytes) and the truth table, one row per file."""
    from sklearn.datasets import load_digits
    data = load_digits()
    digits, targets = data.images, data.target
    rng = np.random.default_rng([seed, 11])
    keys = [hashlib.sha1(d.astype(np.uint8).tobytes()).hexdigest()[:16] for d in digits]
    near = near_sources(digits)
    records = [{"pixels": render(d), "label": str(t), "split": "test" if rng.random() < TEST_SHARE else "train",
                "source": str(i), "source_key": keys[i], "near_source": near[i], "kind": "base", "role": "base",
                "original": None, "params": {}} for i, (d, t) in enumerate(zip(digits, targets, strict=True))]
    free = [int(i) for i in rng.permutation(len(digits))]
    for kind in [k for k, n in COPIES.items() for _ in range(n)]:
        leak = rng.random() < LEAK_SHARE
        original = next((i for i in free if (records[i]["split"] == "train") == leak), free[0])
        free.remove(original)
        src = records[original]
        pixels, params = (src["pixels"], {}) if kind == "exact" else _edit(rng, src["pixels"], kind)
        records.append({**src, "pixels": pixels, "split": "test", "kind": kind, "role": "copy",
                        "original": original, "params": params})
    for n, o in enumerate(outliers(rng, digits)):
        records.append({"pixels": o["pixels"], "label": str(int(rng.integers(10))), "photo": o["photo"],
                        "window": o["window"], "split": "test" if rng.random() < TEST_SHARE else "train",
                        "source": f"outlier:{n}", "source_key": f"outlier:{n}", "near_source": "", "kind": o["kind"],
                        "role": "outlier", "original": None, "params": {}})
    ids = np.random.default_rng([seed, 12]).permutation(len(records))
    paths = [f"{r['split']}/{r['label']}/{ids[n]:05d}.png" for n, r in enumerate(records)]
    files = [(paths[n], png(r["pixels"]) if r["kind"] != "exact" else png(records[r["original"]]["pixels"]))
             for n, r in enumerate(records)]
    truth = pd.DataFrame([{"path": paths[n], "split": r["split"], "label": r["label"], "photo": r.get("photo", ""),
                           "group": "", **dict(zip(("x0", "y0", "x1", "y1"), r.get("window", (0.0,) * 4), strict=True)),
                           "width": 32, "height": 32, "quality": 0,
                           "mirrored": False, "changed": False, "kind": r["kind"], "role": r["role"],
                           "original": "" if r["original"] is None else paths[r["original"]],
                           "params": str(r["params"]).replace("'", '"'), "source": r["source"],
                           "source_key": r["source_key"], "near_source": r["near_source"]}
                          for n, r in enumerate(records)])
    return files, truth
