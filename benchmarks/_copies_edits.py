"""Cutting images out of the real photos, and the edits that make copies of them, for benchmarks/copies.py.

An image is a `Case`: the photo it is cut from, its window there (x0, y0, x1, y1, float pixels), its size on
disk, its pixels, the JPEG quality it is saved at, whether it is mirrored, and the parameters of each edit.
Geometric edits move the window and render it again from the photo (antialiased); pixel edits change the
pixels and, for shifts, move the window with the content, so that the truth (_copies_truth) can judge every
pair by geometry. Every function takes its randomness from the `rng` it is given.
"""

import io
import math
from dataclasses import dataclass, field, replace
from functools import cache

import _real_photos
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

LANCZOS, BICUBIC, BILINEAR, BOX = (Image.Resampling.LANCZOS, Image.Resampling.BICUBIC, Image.Resampling.BILINEAR,
                                   Image.Resampling.BOX)


@dataclass(frozen=True)
class Case:
    photo: str
    window: tuple  # (x0, y0, x1, y1) in the photo's pixels: what the image shows
    size: tuple  # (width, height) on disk
    pixels: np.ndarray = field(repr=False, compare=False)
    quality: int = 92
    mirrored: bool = False
    params: dict = field(default_factory=dict, compare=False)


@cache
def _photo_image(name: str) -> Image.Image:
    return Image.fromarray(_real_photos.photo(name))


def render(name: str, window, size, scale: int = 1) -> np.ndarray:
    """The window of a photo resized to `size` (times `scale`), antialiased when it shrinks."""
    out = (size[0] * scale, size[1] * scale)
    return np.asarray(_photo_image(name).resize(out, LANCZOS, box=tuple(float(v) for v in window)))


def cut(name: str, window, size, quality: int) -> Case:
    return Case(name, tuple(float(v) for v in window), tuple(size), render(name, window, size), quality)


def inside(name: str, window) -> bool:
    h, w = _real_photos.photo(name).shape[:2]
    return window[0] >= 0 and window[1] >= 0 and window[2] <= w and window[3] <= h


def jpeg_bytes(pixels: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=int(quality))
    return buf.getvalue()


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def grey_stats(pixels: np.ndarray) -> tuple[float, float]:
    """(grey std, edge energy: mean absolute difference of neighbours) on 0-255: how far from blank."""
    g = np.asarray(Image.fromarray(pixels).convert("L").resize((32, 32), BOX), np.float32)
    return float(g.std()), float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def _uniform_either(rng, low: tuple, high: tuple) -> float:
    """A value from one of two ranges, picked at random (e.g. darker or brighter)."""
    lo, hi = low if rng.random() < 0.5 else high
    return float(rng.uniform(lo, hi))


def _shift_amount(rng, side: int, fraction: tuple) -> tuple[int, int]:
    """(dx, dy) in output pixels: one axis by `fraction` of the side (at least 1 px), sometimes the other a little,
    keeping at least 82 % of the picture so the copy stays a copy by geometry."""
    lo, hi = max(1, round(fraction[0] * side)), max(1, round(fraction[1] * side))
    main = int(rng.integers(lo, hi + 1))
    other = 0
    if rng.random() < 0.5:
        limit = math.floor(side * (1 - 0.82 / (1 - main / side)))
        other = int(rng.integers(0, max(limit, 0) + 1))
    dx, dy = (main, other) if rng.random() < 0.5 else (other, main)
    return dx * int(rng.choice([-1, 1])), dy * int(rng.choice([-1, 1]))


def _move(window, dx: float, dy: float) -> tuple:
    return (window[0] + dx, window[1] + dy, window[2] + dx, window[3] + dy)


def _scale_of(case: Case) -> tuple[float, float]:
    """Photo pixels per output pixel, in x and y."""
    return (case.window[2] - case.window[0]) / case.size[0], (case.window[3] - case.window[1]) / case.size[1]


# ---------------------------------------------------------------- geometric edits: a new window, rendered again


def shift_recrop(rng, case: Case, spec) -> Case | None:
    """The window itself moved by 1-4 output pixels (scaled with the side): a re-crop of the source."""
    dx, dy = _shift_amount(rng, min(case.size), spec.shift)
    sx, sy = _scale_of(case)
    window = _move(case.window, dx * sx, dy * sy)
    if not inside(case.photo, window):
        return None
    return replace(case, window=window, pixels=render(case.photo, window, case.size),
                   params={**case.params, "recrop_px": [dx, dy]})


def crop(rng, case: Case, spec) -> Case | None:
    """Zoom in: a sub-window keeping 80-95 % of the area (sides cut unequally), resized to the same size."""
    area = float(rng.uniform(0.805, 0.95))
    fx = area ** float(rng.uniform(0.25, 0.75))
    fy = area / fx
    x0, y0, x1, y1 = case.window
    w, h = (x1 - x0) * fx, (y1 - y0) * fy
    left, top = x0 + rng.uniform(0, x1 - x0 - w), y0 + rng.uniform(0, y1 - y0 - h)
    window = (left, top, left + w, top + h)
    return replace(case, window=window, pixels=render(case.photo, window, case.size),
                   params={**case.params, "crop_area": round(area, 3)})


def zoom_out(rng, case: Case, spec) -> Case | None:
    """Zoom out: the window's sides grow by 5-11 %, so the original is still >= 80 % of the copy's area."""
    grow = float(rng.uniform(1.05, 1.11))
    x0, y0, x1, y1 = case.window
    w, h = (x1 - x0) * grow, (y1 - y0) * grow
    photo_h, photo_w = _real_photos.photo(case.photo).shape[:2]
    lo_x, hi_x, lo_y, hi_y = max(0.0, x1 - w), min(x0, photo_w - w), max(0.0, y1 - h), min(y0, photo_h - h)
    if lo_x > hi_x or lo_y > hi_y:
        return None
    left, top = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    window = (left, top, left + w, top + h)
    return replace(case, window=window, pixels=render(case.photo, window, case.size),
                   params={**case.params, "zoom_out": round(grow, 3)})


def rotation(rng, case: Case, spec) -> Case | None:
    """Rotated by 3-10 degrees about the centre: black corners, or cropped (the corners filled by the photo
    around the window, so the picture keeps its size). Rendered at 4x and shrunk, as a camera would."""
    angle = float(rng.choice([-1, 1]) * rng.uniform(3, 10))
    grow = abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))
    x0, y0, x1, y1 = case.window
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * grow, (y1 - y0) / 2 * grow
    big = (cx - hw, cy - hh, cx + hw, cy + hh)
    w, h = case.size
    corners = "cropped" if rng.random() < 0.5 and inside(case.photo, big) else "black"
    if corners == "cropped":
        bw, bh = round(4 * w * grow), round(4 * h * grow)
        im = Image.fromarray(np.asarray(_photo_image(case.photo).resize((bw, bh), LANCZOS, box=big)))
        im = im.rotate(angle, BICUBIC)
        im = im.crop(((bw - 4 * w) // 2, (bh - 4 * h) // 2, (bw - 4 * w) // 2 + 4 * w, (bh - 4 * h) // 2 + 4 * h))
    else:
        im = Image.fromarray(render(case.photo, case.window, case.size, scale=4)).rotate(angle, BICUBIC)
    pixels = np.asarray(im.resize((w, h), LANCZOS))
    return replace(case, pixels=pixels, params={**case.params, "rotation": round(angle, 2), "corners": corners})


# ---------------------------------------------------------------- pixel edits


def _shift_pixels(rng, case: Case, spec, fill: str) -> Case:
    dx, dy = _shift_amount(rng, min(case.size), spec.shift)
    src = case.pixels
    h, w = src.shape[:2]
    rows = np.clip(np.arange(h) - dy, 0, h - 1)  # content moves by (dx, dy): output pixel y shows input y - dy
    cols = np.clip(np.arange(w) - dx, 0, w - 1)
    out = src[rows][:, cols].copy()
    if fill == "black":
        out[:max(dy, 0)] = 0
        out[h + min(dy, 0):] = 0
        out[:, :max(dx, 0)] = 0
        out[:, w + min(dx, 0):] = 0
    sx, sy = _scale_of(case)
    return replace(case, pixels=out, window=_move(case.window, -dx * sx, -dy * sy),
                   params={**case.params, "shift_px": [dx, dy], "strip": fill})


def shift_edge(rng, case, spec):
    """The image's content shifted by 1-4 px, the vacated strip filled by repeating the edge."""
    return _shift_pixels(rng, case, spec, "edge")


def shift_black(rng, case, spec):
    """The image's content shifted by 1-4 px, the vacated strip black."""
    return _shift_pixels(rng, case, spec, "black")


def mirror(rng, case: Case, spec) -> Case:
    return replace(case, pixels=case.pixels[:, ::-1].copy(), mirrored=not case.mirrored)


def hue(rng, case: Case, spec) -> Case:
    degrees = float(rng.choice([-1, 1]) * rng.uniform(15, 45))
    hsv = np.asarray(Image.fromarray(case.pixels).convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(degrees / 360 * 256)) % 256
    pixels = np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))
    return replace(case, pixels=pixels, params={**case.params, "hue_degrees": round(degrees, 1)})


def saturation(rng, case: Case, spec) -> Case:
    factor = _uniform_either(rng, (0.0, 0.6), (1.4, 2.0))
    pixels = np.asarray(ImageEnhance.Color(Image.fromarray(case.pixels)).enhance(factor))
    return replace(case, pixels=pixels, params={**case.params, "saturation": round(factor, 2)})


def tone(rng, case: Case, spec) -> Case:
    """One or two of gamma, brightness and contrast."""
    im, params = Image.fromarray(case.pixels), {}
    for what in rng.choice(["gamma", "brightness", "contrast"], size=int(rng.integers(1, 3)), replace=False):
        if what == "gamma":
            g = _uniform_either(rng, (0.65, 0.8), (1.25, 1.55))
            im = im.point([round(255 * (i / 255) ** g) for i in range(256)] * 3)
        elif what == "brightness":
            g = _uniform_either(rng, (0.8, 0.92), (1.08, 1.2))
            im = ImageEnhance.Brightness(im).enhance(g)
        else:
            g = _uniform_either(rng, (0.7, 0.85), (1.2, 1.4))
            im = ImageEnhance.Contrast(im).enhance(g)
        params[str(what)] = round(g, 3)
    return replace(case, pixels=np.asarray(im), params={**case.params, **params})


def jpeg(rng, case: Case, spec) -> Case:
    """Decoded from the original's file and saved again at quality 50-95 (a second generation)."""
    q = int(rng.integers(50, 96))
    return replace(case, pixels=decoded(jpeg_bytes(case.pixels, case.quality)), quality=q,
                   params={**case.params, "jpeg_quality": q})


def rescale(rng, case: Case, spec) -> Case:
    """Shrunk (to 16-24 px at 32 px; to 50-75 % at larger sizes) and enlarged back."""
    f = float(rng.uniform(*spec.rescale))
    w, h = case.size
    small = (max(2, round(w * f)), max(2, round(h * f)))
    down, up = rng.choice([BOX, BILINEAR, BICUBIC, LANCZOS]), rng.choice([BILINEAR, BICUBIC])
    im = Image.fromarray(case.pixels).resize(small, down).resize((w, h), up)
    return replace(case, pixels=np.asarray(im), params={**case.params, "rescaled_to": list(small)})


def blur_mask(mask: np.ndarray, radius: float) -> Image.Image:
    return Image.fromarray(mask).filter(ImageFilter.GaussianBlur(radius))


EDITS = {  # applied in this order when combined: geometry first, then pixels, mirror after the shift
    "shift_recrop": shift_recrop, "crop": crop, "zoom_out": zoom_out, "rotation": rotation,
    "shift_edge": shift_edge, "shift_black": shift_black, "mirror": mirror, "rescale": rescale,
    "hue": hue, "saturation": saturation, "tone": tone, "jpeg": jpeg,
}
COLOUR_EDITS = {"hue", "saturation"}  # a no-op on a grey photo: planted on colour photos only


def apply(rng, case: Case, kinds, spec) -> Case | None:
    """The case with the edits named in `kinds` applied in EDITS order; None if one cannot apply here (a window
    that would leave the photo)."""
    for name in EDITS:
        if name in kinds:
            case = EDITS[name](rng, case, spec)
            if case is None:
                return None
    return case
