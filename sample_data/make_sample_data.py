#!/usr/bin/env python
"""Generate the sample datasets, with planted problems and their ground truth.

    python sample_data/make_sample_data.py                # rewrite sample_data/{shapes,shapes_csv,truth}
    python sample_data/make_sample_data.py --out DIR      # the same three folders, under DIR
    python sample_data/make_sample_data.py --style glyphs --seed 7 --out DIR [--truth TDIR]
                                                          # grayscale glyph set in DIR (train/val/test),
                                                          # truth in TDIR (default DIR/../truth_<DIR name>)

Everything is drawn from one numpy Generator seeded by --seed, and files carry no timestamps, so the
same seed (and the same Pillow/zlib/libjpeg) gives byte-identical files. Needs only Pillow and numpy.
See sample_data/README.md for what is planted and the truth file formats.
"""
import argparse
import csv
import io
import json
import shutil
import struct
import sys
import zlib
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "val", "test")
SPLIT_WEIGHTS = (0.70, 0.15, 0.15)
SIZE_LIMIT = 4_500_000  # bytes, everything under sample_data/ (du -sb)
SS = 4  # supersampling factor for anti-aliased drawing


# ---------------------------------------------------------------- encoding and byte surgery
def jpeg_bytes(img, quality, exif=None):
    buf = io.BytesIO()
    kw = {"exif": exif} if exif else {}
    img.save(buf, "JPEG", quality=int(quality), optimize=True, **kw)
    return buf.getvalue()


def png_bytes(img, level=9, **kw):
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=level, **kw)
    return buf.getvalue()


def other_bytes(img, fmt):
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def exif_block():
    exif = Image.Exif()  # no DateTime and no Orientation: pixels stay as stored, bytes stay fixed
    exif[0x010F] = "ShapeCam"
    exif[0x0110] = "SC-1"
    exif[0x0131] = "make_sample_data"
    return exif.tobytes()


def jpeg_segments(data):
    """(marker, start, end) of each segment between SOI and SOS."""
    out, i = [], 2
    while i < len(data) and data[i] == 0xFF and data[i + 1] != 0xDA:
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        out.append((data[i + 1], i, i + 2 + length))
        i += 2 + length
    return out


def jpeg_add_comment(data, text):
    """Same entropy-coded data, one COM segment more (after APP0 when there is one)."""
    segs = jpeg_segments(data)
    at = segs[0][2] if segs and segs[0][0] == 0xE0 else 2
    body = text.encode()
    return data[:at] + b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body + data[at:]


def jpeg_strip_exif(data):
    for marker, start, end in jpeg_segments(data):
        if marker == 0xE1 and data[start + 4:start + 10] == b"Exif\x00\x00":
            return data[:start] + data[end:]
    raise ValueError("no EXIF segment")


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(level):
    """A PNG whose IHDR declares 100000x100000 grey pixels, with a tiny IDAT (valid CRCs)."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 101, level)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_bad_crc(data, which):
    """Flip the CRC of the IHDR chunk, or break the IDAT stream and leave its old CRC."""
    i = 8
    while i < len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        if kind == which:
            b = bytearray(data)
            if which == b"IHDR":
                b[i + 8 + length] ^= 0xFF
            else:  # garble the zlib stream start and its adler32: inflate fails
                for k in (i + 8, i + 9, i + 8 + length - 1, i + 8 + length - 2):
                    b[k] ^= 0x5A
            return bytes(b)
        i += 12 + length
    raise ValueError(which)


def decodes(data):
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return True, im.mode
    except Exception:
        return False, None


def decode(data):
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


# ---------------------------------------------------------------- perceptual fingerprints
_D = np.cos(np.pi * (2 * np.arange(32)[None, :] + 1) * np.arange(32)[:, None] / 64)


def grey(img):
    """8-bit grey view of any mode (16-bit grey is scaled down, not clipped)."""
    if img.mode in ("I;16", "I"):
        return Image.fromarray((np.asarray(img, dtype=float) / 257).clip(0, 255).astype(np.uint8))
    return img.convert("L")


def phash(img):
    """The usual 64-bit pHash (8x8 low DCT terms of the 32x32 grey image against their median)."""
    g = np.asarray(grey(img).resize((32, 32), Image.LANCZOS), dtype=float)
    low = (_D @ g @ _D.T)[:8, :8]
    return int(np.packbits((low > np.median(low)).ravel()).view(">u8")[0])


def appearance(img):
    """16x16 grey thumbnail, centred and scaled to unit length: a dot product is a correlation."""
    a = np.asarray(grey(img).resize((16, 16), Image.BOX), dtype=float).ravel()
    a = a - a.mean()
    return a / (np.linalg.norm(a) + 1e-9)


def hamming(a, b):
    return bin(a ^ b).count("1")


def likeness(a, b):
    """(pHash distance, appearance correlation) of two images."""
    return hamming(phash(a), phash(b)), float(appearance(a) @ appearance(b))


class Registry:
    """Keeps unrelated images apart: a draw too close to a registered image is redrawn, so that only
    planted copies are near duplicates (pHash within near_max bits and appearance correlation >= near_corr)."""

    def __init__(self, style):
        self.style = style
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.looks = np.zeros((0, 256))

    def is_new(self, img, skip=()):
        """Far from every registered image but those at the indices in skip (a copy's own group)."""
        dist = np.bitwise_count(self.hashes ^ np.uint64(phash(img)))
        corr = self.looks @ appearance(img)
        for i in skip:
            dist[i], corr[i] = 64, -1.0
        return not len(dist) or (dist.min() > self.style.min_distance and corr.max() < self.style.max_corr)

    def add(self, img):
        self.hashes = np.append(self.hashes, np.uint64(phash(img)))
        self.looks = np.vstack([self.looks, appearance(img)])
        return len(self.hashes) - 1


# ---------------------------------------------------------------- drawing helpers
@cache
def font(size):
    return ImageFont.load_default(size=size)


def hsv_rgb(h, s, v):
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return [round(255 * r), round(255 * g), round(255 * b)]


def luma(c):
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def polygon(cx, cy, radii, angle):
    n = len(radii)
    return [(cx + r * np.cos(angle + 2 * np.pi * k / n), cy + r * np.sin(angle + 2 * np.pi * k / n))
            for k, r in enumerate(radii)]


def object_mask(kind, w, h, cx, cy, r, angle, extra, ss=SS):
    """Anti-aliased mask in [0, 1] of one shape, drawn ss times larger and box-filtered down."""
    m = Image.new("L", (w * ss, h * ss), 0)
    d = ImageDraw.Draw(m)
    X, Y, R = cx * ss, cy * ss, r * ss
    if kind == "circle":
        d.ellipse([X - R, Y - R * extra, X + R, Y + R * extra], fill=255)
    elif kind == "ring":
        d.ellipse([X - R, Y - R, X + R, Y + R], fill=255)
        d.ellipse([X - R * extra, Y - R * extra, X + R * extra, Y + R * extra], fill=0)
    elif kind == "square":
        d.polygon(polygon(X, Y, [R] * 4, angle + np.pi / 4), fill=255)
    elif kind == "triangle":
        d.polygon(polygon(X, Y, [R] * 3, angle), fill=255)
    elif kind == "star":
        d.polygon(polygon(X, Y, [R, R * extra] * 5, angle), fill=255)
    elif kind == "cross":
        a = R * extra
        pts = [(a, R), (a, a), (R, a), (R, -a), (a, -a), (a, -R),
               (-a, -R), (-a, -a), (-R, -a), (-R, a), (-a, a), (-a, R)]
        c, s = np.cos(angle), np.sin(angle)
        d.polygon([(X + x * c - y * s, Y + x * s + y * c) for x, y in pts], fill=255)
    elif kind == "letter":
        d.text((X, Y), extra, font=font(max(8, int(2.2 * R))), anchor="mm", fill=255)
        m = m.rotate(np.degrees(angle), resample=Image.BILINEAR, center=(X, Y))
    else:
        raise ValueError(kind)
    return np.asarray(m.resize((w, h), Image.BOX), dtype=float) / 255


def gradient(w, h, c1, c2, angle):
    y, x = np.mgrid[0:h, 0:w]
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(1e-9, t.max() - t.min())
    return np.asarray(c1, float) * (1 - t[..., None]) + np.asarray(c2, float) * t[..., None]


def to_image(arr, mode):
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if mode == "L" and arr.ndim == 3:
        arr = arr[..., 0]
    return Image.fromarray(arr)  # mode follows from the array: HxW -> L, HxWx3 -> RGB, HxWx4 -> RGBA


# ---------------------------------------------------------------- the shapes style (RGB)
class Shapes:
    name = "shapes"
    mode = "RGB"
    classes = ["checker", "circle", "cross", "letter", "ring", "square", "star", "stripes", "triangle", "waves"]
    objects = ["circle", "cross", "letter", "ring", "square", "star", "triangle"]
    smooth_class = "waves"
    # unrelated images: pHash distance > min_distance and appearance correlation < max_corr;
    # planted near copies: pHash distance <= near_max and correlation >= near_corr;
    # look-alike pairs: pHash distance > lookalike_min and correlation < lookalike_corr
    min_distance, max_corr, near_max, near_corr, lookalike_min, lookalike_corr = 10, 0.93, 8, 0.96, 14, 0.8
    tiny_sizes = [(6, 6), (9, 12), (8, 8), (12, 9), (7, 10), (10, 10), (5, 8), (11, 6), (6, 9), (12, 12), (8, 11)]
    big_sizes = [(900, 700), (880, 660), (700, 900), (960, 720), (840, 840), (900, 640), (760, 980)]
    strip_sizes = [(240, 20), (200, 24), (18, 200), (20, 240), (180, 26), (26, 170), (210, 22), (22, 220)]

    def __init__(self, shortcut, minority):
        self.shortcut, self.minority = shortcut, minority

    def natural_size(self, rng, cls):
        lo, hi = (76, 80) if cls == self.shortcut else (56, 74)
        return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))

    def params(self, rng, cls, look="normal", size=None, fmt=None):
        w, h = size or self.natural_size(rng, cls)
        p = {"cls": cls, "w": w, "h": h, "look": look, "seed": int(rng.integers(2**31))}
        if fmt is None:
            plain_png = cls == self.shortcut or look == "sharp_on_dark"
            fmt = "png" if plain_png else ("jpeg" if rng.random() < 0.85 else "png")
        p["fmt"] = fmt
        if look == "normal":
            c1 = [int(v) for v in rng.integers(175, 251, 3)]
            c2 = [int(np.clip(v + rng.integers(-35, 36), 160, 255)) for v in c1]
            p["bg"] = (c1, c2, float(rng.uniform(0, 2 * np.pi)), str(rng.choice(["flat", "gradient"])))
            p["noise"] = float(rng.uniform(2.5, 5)) if fmt == "jpeg" and rng.random() < 0.25 else 0.0
            while True:
                fg = hsv_rgb(rng.random(), rng.uniform(0.55, 1), rng.uniform(0.35, 0.85))
                if luma(fg) < min(luma(c1), luma(c2)) - 45:
                    break
        elif look == "night":
            c1 = [int(v) for v in rng.integers(0, 30, 3)]
            c2 = [int(v) for v in np.clip(np.array(c1) + rng.integers(0, 40, 3), 0, 60)]
            p["bg"] = (c1, c2, float(rng.uniform(0, 2 * np.pi)), "gradient")
            p["noise"] = 0.0
            fg = hsv_rgb(rng.random(), rng.uniform(0.1, 0.6), rng.uniform(0.9, 1))
        else:  # sharp_on_dark: a small bright object on pure black
            p["bg"] = ([0, 0, 0], [0, 0, 0], 0.0, "flat")
            p["noise"] = 0.0
            fg = hsv_rgb(rng.random(), rng.uniform(0.0, 0.5), 1.0)
        p["fg"] = fg
        side = min(w, h)
        if cls in self.objects:
            frac = rng.uniform(0.09, 0.14) if look == "sharp_on_dark" else rng.uniform(0.2, 0.42)
            p["r"] = float(side * frac)
            p["cx"] = float(w / 2 + rng.uniform(-0.2, 0.2) * w)
            p["cy"] = float(h / 2 + rng.uniform(-0.2, 0.2) * h)
            p["cx"] = float(np.clip(p["cx"], p["r"] + 1, w - p["r"] - 1))
            p["cy"] = float(np.clip(p["cy"], p["r"] + 1, h - p["r"] - 1))
            p["angle"] = float(rng.uniform(0, 2 * np.pi))
            p["extra"] = {"circle": float(rng.uniform(0.85, 1.0)), "ring": float(rng.uniform(0.5, 0.68)),
                          "star": float(rng.uniform(0.38, 0.5)), "cross": float(rng.uniform(0.22, 0.34)),
                          "letter": str(rng.choice(list("AEFHKMNRTWXZ")))}.get(cls, 0.0)
            if cls == "letter":
                p["angle"] = float(rng.uniform(-0.3, 0.3))
        elif cls == "stripes":
            p["period"] = float(rng.uniform(7, 16))
            p["duty"] = float(rng.uniform(0.35, 0.6))
            p["angle"] = float(rng.uniform(0, np.pi))
            p["phase"] = float(rng.random())
        elif cls == "checker":
            p["cell"] = float(rng.uniform(6, 15))
            p["offset"] = (float(rng.uniform(0, 30)), float(rng.uniform(0, 30)))
            p["angle"] = float(rng.uniform(0, np.pi / 2)) if rng.random() < 0.6 else 0.0
        elif cls == "waves":
            p["angle"] = float(rng.uniform(0, np.pi))
            p["bands"] = float(rng.uniform(1.5, 3.5))  # wave crests across the image
            p["wobble"] = (float(rng.uniform(0.6, 1.6)), float(rng.uniform(0.5, 2.0)))  # amplitude, frequency
            p["phases"] = [float(v) for v in rng.uniform(0, 2 * np.pi, 2)]
            while True:  # the second colour stands well apart from the first: smooth, not flat
                p["c2"] = hsv_rgb(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.95))
                if abs(luma(p["c2"]) - luma(p["bg"][0])) > 60:
                    break
        return p

    def render(self, p):
        w, h, cls = p["w"], p["h"], p["cls"]
        ss = SS if w * h < 100_000 else 1
        c1, c2, ang, kind = p["bg"]
        bg = gradient(w, h, c1, c2, ang) if kind == "gradient" else np.ones((h, w, 1)) * np.asarray(c1, float)
        fg = np.asarray(p["fg"], float)
        if cls in self.objects:
            m = object_mask(cls, w, h, p["cx"], p["cy"], p["r"], p["angle"], p["extra"], ss)
        elif cls == "stripes":
            y, x = (np.mgrid[0:h * ss, 0:w * ss] + 0.5) / ss
            t = (x * np.cos(p["angle"]) + y * np.sin(p["angle"])) / p["period"] + p["phase"]
            hi = ((t % 1) < p["duty"]).astype(float)
            m = hi.reshape(h, ss, w, ss).mean(axis=(1, 3))
        elif cls == "checker":
            y, x = (np.mgrid[0:h * ss, 0:w * ss] + 0.5) / ss
            c, s = np.cos(p["angle"]), np.sin(p["angle"])
            u, v = x * c + y * s + p["offset"][0], -x * s + y * c + p["offset"][1]
            hi = ((np.floor(u / p["cell"]) + np.floor(v / p["cell"])) % 2).astype(float)
            m = hi.reshape(h, ss, w, ss).mean(axis=(1, 3))
        else:  # waves: soft wavy bands between two colours, smooth by nature
            y, x = np.mgrid[0:h, 0:w] / max(w, h)
            u = x * np.cos(p["angle"]) + y * np.sin(p["angle"])
            t = -x * np.sin(p["angle"]) + y * np.cos(p["angle"])
            amp, freq = p["wobble"]
            wobble = amp * np.sin(2 * np.pi * freq * t + p["phases"][1])
            m = 0.5 + 0.5 * np.sin(2 * np.pi * p["bands"] * u + wobble + p["phases"][0])
            fg = np.asarray(p["c2"], float)
        out = bg * (1 - m[..., None]) + fg * m[..., None]
        r = np.random.default_rng(p["seed"])
        if p["noise"]:
            out = out + r.normal(0, p["noise"], out.shape)
        if p["look"] == "night":  # a few faint background stars
            for _ in range(int(r.integers(3, 9))):
                yy, xx = int(r.integers(0, h)), int(r.integers(0, w))
                out[yy, xx] = np.maximum(out[yy, xx], r.integers(120, 230))
        return to_image(out, "RGB")

    def encode(self, rng, img, p):
        """The normal way an image of this set is saved: (bytes, extension)."""
        if p["fmt"] == "png":
            return png_bytes(img), ".png"
        ext = str(rng.choice([".jpg", ".jpg", ".jpg", ".jpeg", ".JPG"]))
        exif = exif_block() if rng.random() < 0.15 else None
        return jpeg_bytes(img, rng.integers(72, 90), exif), ext

    def lookalike(self, p, rng):
        """Same class, colours and background, the object moved by >= 25% of the image (maybe resized)."""
        q = dict(p)
        axis = str(rng.choice(["cx", "cy"]))
        span = p["w"] if axis == "cx" else p["h"]
        shift = rng.uniform(0.25, 0.32) * span
        q[axis] = p[axis] + shift if p[axis] < span / 2 else p[axis] - shift
        if rng.random() < 0.3:
            q["r"] = p["r"] * 0.8
        q["seed"] = int(rng.integers(2**31))
        return q

    def lookalike_base(self, rng, cls):
        p = self.params(rng, cls)
        p["r"] = min(p["w"], p["h"]) * float(rng.uniform(0.18, 0.22))
        for axis, span in (("cx", p["w"]), ("cy", p["h"])):
            p[axis] = span * float(rng.choice([0.33, 0.67]) + rng.uniform(-0.03, 0.03))
        return p

    # ---- planted looks
    def odd_mode_variants(self):
        return ["L_jpeg", "CMYK_jpeg", "RGBA_png", "I;16_png", "P_png", "L_png"]

    def outlier(self, rng, kind, w, h):
        if kind == "noise":
            return to_image(rng.integers(0, 256, (h, w, 3)), "RGB"), "jpeg"
        if kind == "field":  # photo-like smooth random field
            grid = rng.integers(0, 256, (int(rng.integers(3, 6)), int(rng.integers(3, 6)), 3))
            small = Image.fromarray(grid.astype(np.uint8))
            return small.resize((w, h), Image.BICUBIC), "jpeg"
        page = np.full((h, w, 3), 250.0)  # a page of tiny text-like marks
        for row in range(3, h - 4, 5):
            x = 3
            while x < w - 4:
                n = int(rng.integers(1, 5))
                page[row:row + 3, x:x + n] = rng.integers(0, 60)
                x += n + int(rng.integers(1, 3))
        return to_image(page, "RGB"), "png"


# ---------------------------------------------------------------- the glyphs style (grayscale)
class Glyphs:
    name = "glyphs"
    mode = "L"
    classes = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]
    chars = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
             "seven": "7", "eight": "8", "nine": "9"}
    objects = classes
    smooth_class = None
    # glyphs of one class are alike by nature: near copies are held far tighter (see Shapes)
    min_distance, max_corr, near_max, near_corr, lookalike_min, lookalike_corr = 6, 0.95, 4, 0.96, 10, 0.8
    tiny_sizes = [(6, 6), (9, 12), (8, 8), (12, 9), (7, 10), (10, 10), (5, 8), (11, 6), (6, 9), (4, 4), (8, 11)]
    big_sizes = [(300, 240), (280, 280), (240, 320), (360, 270), (320, 320), (300, 200), (260, 340)]
    strip_sizes = [(112, 7), (100, 8), (7, 110), (8, 96), (90, 9), (9, 88), (120, 6), (6, 116)]

    def __init__(self, shortcut, minority):
        self.shortcut, self.minority = shortcut, minority

    def natural_size(self, rng, cls):
        if cls == self.shortcut:
            return 32, 32
        if rng.random() < 0.8:
            return 28, 28
        return int(rng.integers(25, 31)), int(rng.integers(25, 31))

    def params(self, rng, cls, look="normal", size=None, fmt=None):
        w, h = size or self.natural_size(rng, cls)
        if fmt is None:
            fmt = "jpeg" if cls == self.shortcut or rng.random() < 0.1 else "png"
        sharp = look == "sharp_on_dark"
        return {"cls": cls, "w": w, "h": h, "look": look, "fmt": fmt, "seed": int(rng.integers(2**31)),
                "fs": float(min(w, h) * rng.uniform(0.62, 0.8)),
                "cx": float(w / 2 + rng.uniform(-0.08, 0.08) * w), "cy": float(h / 2 + rng.uniform(-0.08, 0.08) * h),
                "angle": float(rng.uniform(-0.25, 0.25)), "stroke": 0 if sharp else int(rng.integers(0, 3)),
                "fg": 255 if sharp else int(rng.integers(175, 256)), "bg": 0 if sharp else int(rng.integers(0, 45)),
                "noise": 0.0 if sharp or rng.random() < 0.7 else float(rng.uniform(2, 5))}

    def render(self, p):
        w, h = p["w"], p["h"]
        m = Image.new("L", (w * SS, h * SS), 0)
        X, Y = p["cx"] * SS, p["cy"] * SS
        ImageDraw.Draw(m).text((X, Y), self.chars[p["cls"]], font=font(int(p["fs"] * SS)), anchor="mm",
                               fill=255, stroke_width=p["stroke"] * 2, stroke_fill=255)
        m = m.rotate(np.degrees(p["angle"]), resample=Image.BILINEAR, center=(X, Y))
        mask = np.asarray(m.resize((w, h), Image.BOX), dtype=float) / 255
        out = p["bg"] + (p["fg"] - p["bg"]) * mask
        if p["noise"]:
            out = out + np.random.default_rng(p["seed"]).normal(0, p["noise"], out.shape)
        return to_image(out, "L")

    def encode(self, rng, img, p):
        if p["fmt"] == "png":
            return png_bytes(img), ".png"
        return jpeg_bytes(img, rng.integers(85, 96)), str(rng.choice([".jpg", ".jpg", ".jpeg", ".JPG"]))

    def lookalike(self, p, rng):
        q = dict(p)
        axis = str(rng.choice(["cx", "cy"]))
        span = p["w"] if axis == "cx" else p["h"]
        shift = rng.uniform(0.22, 0.28) * span
        q[axis] = p[axis] + shift if p[axis] < span / 2 else p[axis] - shift
        q["seed"] = int(rng.integers(2**31))
        return q

    def lookalike_base(self, rng, cls):
        p = self.params(rng, cls, size=(28, 28))
        p["fs"] = float(rng.uniform(13, 15))
        axis = str(rng.choice(["cx", "cy"]))
        p[axis] = 28 * float(rng.choice([0.36, 0.64]))
        return p

    def odd_mode_variants(self):
        return ["RGB_png", "RGB_jpeg", "CMYK_jpeg", "I;16_png", "P_png", "RGBA_png"]

    def outlier(self, rng, kind, w, h):
        if kind == "noise":
            return to_image(rng.integers(0, 256, (h, w)), "L"), "png"
        if kind == "field":
            grid = rng.integers(0, 256, (int(rng.integers(3, 6)), int(rng.integers(3, 6))))
            small = Image.fromarray(grid.astype(np.uint8))
            return small.resize((w, h), Image.BICUBIC), "png"
        page = np.full((h, w), 250.0)
        for row in range(2, h - 3, 4):
            x = 2
            while x < w - 3:
                n = int(rng.integers(1, 4))
                page[row:row + 2, x:x + n] = rng.integers(0, 60)
                x += n + 1
        return to_image(page, "L"), "png"


# ---------------------------------------------------------------- one dataset under construction
class Dataset:
    """Files (bytes by path), labels, truth rows and hard negatives, for one layout."""

    def __init__(self, name, style, layout, rng, plan):
        self.name, self.style, self.layout, self.rng, self.plan = name, style, layout, rng, plan
        self.files = {}        # path -> bytes, or None for a directory
        self.rows = []         # what a perfect lister sees: dict(path, label, split)
        self.csv_rows = []     # (path as written in labels.csv, label, split)
        self.truth = []        # (path, issue, group)
        self.hard = []         # (path, kind, must_not_be)
        self.noise = []        # (path, given label, true label): every file filed under the wrong class
        self.ids = set()
        self.groups = 0
        self.registry = Registry(style)
        self.clean = []        # normal images free to be a copy's original

    # ---- names and placement
    def new_name(self, ext):
        while True:
            i = int(self.rng.integers(10000, 100000))
            if i not in self.ids:
                self.ids.add(i)
                return f"img_{i:05d}{ext}"

    def place(self, data, name, label, split, listed=True, subdir=None):
        """Put a file (or, with data None, a directory) where this layout keeps (label, split)."""
        if self.layout == "folder":
            path = f"{split}/{label}/{name}"
        else:
            sub = subdir if subdir is not None else ("batch2" if self.rng.random() < 0.1 else "")
            path = f"images/{sub + '/' if sub else ''}{name}"
        if path in self.files:
            raise ValueError(f"duplicate path {path}")
        self.files[path] = data
        if self.layout == "csv" and listed:
            self.csv_rows.append((("./" + path) if self.rng.random() < 0.12 else path, label, split))
        listed = listed or self.layout == "folder"
        self.rows.append({"path": path, "label": label if listed else "", "split": split if listed else ""})
        return path

    def mark(self, path, issue, group=""):
        self.truth.append((path, issue, group))

    def new_group(self):
        self.groups += 1
        return f"{self.name}-g{self.groups:03d}"

    def plant_target(self, only=None, exclude=()):
        """A (class, split) for a planted file: neither a minority class nor the shortcut class."""
        style, (miss_cls, miss_split) = self.style, self.plan["missing"]
        options = [c for c in (only or style.classes)
                   if c not in style.minority and c != style.shortcut and c not in exclude]
        while True:
            cls = str(self.rng.choice(options))
            split = str(self.rng.choice(SPLITS, p=SPLIT_WEIGHTS))
            if (cls, split) != (miss_cls, miss_split):
                return cls, split

    # ---- every image that decodes goes through here: it must look unlike all before it
    def unique(self, make, tries=300):
        """make() -> (bytes, ext, info) or None; redrawn until the decoded image is far from every
        registered one, then registered. Returns (bytes, ext, info, decoded image)."""
        for _ in range(tries):
            made = make()
            if made is None:  # make() saw early that its draw is too close to an earlier image
                continue
            data, ext, info = made
            img = decode(data)
            if self.registry.is_new(img):
                self.registry.add(img)
                return data, ext, info, img
        raise RuntimeError(f"{self.name}: could not draw a distinct image")

    def normal(self, cls, look="normal", size=None, fmt=None, params=None):
        """make() for a normal image of cls, saved the way this set saves it."""
        def make():
            p = params or self.style.params(self.rng, cls, look, size, fmt)
            img = self.style.render(p)
            if not self.registry.is_new(img):  # cheap early check, before encoding
                return None
            data, ext = self.style.encode(self.rng, img, p)
            return data, ext, p
        return make

    def add_normal(self, cls, split, look="normal", clean=True, name=None):
        data, ext, p, img = self.unique(self.normal(cls, look))
        path = self.place(data, name or self.new_name(ext), cls, split)
        style = self.style
        if clean and cls not in style.minority and cls != style.shortcut and not is_size_edge(style, cls, p):
            self.clean.append({"path": path, "label": cls, "split": split, "img": img, "data": data, "ext": ext,
                               "reg": len(self.registry.hashes) - 1})
        return path, p

    def take_original(self):
        """Remove and return a clean normal image to serve as a copy's original."""
        return self.clean.pop(int(self.rng.integers(len(self.clean))))


# ---------------------------------------------------------------- base images and hard negatives
def build_base(ds):
    """The normal images of every class, split ~70/15/15, with the hard negatives among them."""
    style, plan, rng = ds.style, ds.plan, ds.rng
    miss_cls, miss_split = plan["missing"]
    plain = [c for c in style.objects if c not in style.minority and c != style.shortcut]
    sharp_classes = [c for c in plain if c != "letter"]
    for cls in style.classes:
        n = plan["minority_n"] if cls in style.minority else plan["normal_n"]
        quota = {"train": round(n * 0.7), "val": round(n * 0.15)}
        quota["test"] = n - quota["train"] - quota["val"]
        if cls == miss_cls:  # this class is absent from one split
            quota["train"] += quota[miss_split]
            quota[miss_split] = 0
        pairs = 0
        if cls in plain:
            i = plain.index(cls)
            pairs = plan["lookalike_pairs"] // len(plain) + (i < plan["lookalike_pairs"] % len(plain))
        for _ in range(pairs):
            add_lookalike_pair(ds, cls, "train")
            quota["train"] -= 2
        splits = [s for s in SPLITS for _ in range(quota[s])]
        rng.shuffle(splits)
        looks = ["normal"] * len(splits)
        if style.name == "shapes" and cls in plain:  # night scenes: bright objects on dark skies
            share = 0.5 if cls == "star" else 0.04
            looks = ["night" if rng.random() < share else "normal" for _ in splits]
        for i in range(plan["sharp_per_class"] if cls in sharp_classes else 0):
            looks[i] = "sharp_on_dark"
        for look, split in zip(looks, splits, strict=True):
            special = look != "normal" or cls == style.smooth_class
            path, p = ds.add_normal(cls, split, look=look, clean=not special)
            if look == "night":
                ds.hard.append((path, "dark_normal", "dark"))
            elif look == "sharp_on_dark":
                ds.hard.append((path, "sharp_on_dark", "blurry;dark"))
            elif cls == style.smooth_class:
                ds.hard.append((path, "smooth_normal", "blurry"))
            elif style.name == "glyphs" and p["bg"] <= 12 and rng.random() < 0.3:
                # a light glyph on near-black: dark on average, and normal here
                ds.clean = [o for o in ds.clean if o["path"] != path]
                ds.hard.append((path, "dark_normal", "dark"))
            if is_size_edge(style, cls, p):
                ds.hard.append((path, "size_variation", "odd_size;odd_aspect_ratio"))


def add_lookalike_pair(ds, cls, split):
    """Two images alike in class, colours and background, the object moved by a quarter of the image."""
    style, rng = ds.style, ds.rng
    for _ in range(300):
        p = style.lookalike_base(rng, cls)
        q = style.lookalike(p, rng)
        (da, ea), (db, eb) = style.encode(rng, style.render(p), p), style.encode(rng, style.render(q), q)
        a, b = decode(da), decode(db)
        dist, corr = likeness(a, b)
        apart = dist > style.lookalike_min and corr < style.lookalike_corr
        if apart and ds.registry.is_new(a) and ds.registry.is_new(b):
            break
    else:
        raise RuntimeError("no look-alike pair")
    for data, ext, img in ((da, ea, a), (db, eb, b)):
        ds.registry.add(img)
        path = ds.place(data, ds.new_name(ext), cls, split)
        ds.hard.append((path, "look_alike", "near_duplicate;exact_duplicate"))


def add_natural_lookalikes(ds, count):
    """The closest unrelated pairs within a class: alike by nature, still not copies."""
    clean = [o for o in ds.clean]
    hashes = np.array([phash(o["img"]) for o in clean], dtype=np.uint64)
    looks = np.array([appearance(o["img"]) for o in clean])
    dist = np.bitwise_count(hashes[:, None] ^ hashes[None])
    same = np.array([o["label"] for o in clean])[:, None] == np.array([o["label"] for o in clean])[None]
    score = np.where(same & ~np.eye(len(clean), dtype=bool), dist - 4 * (looks @ looks.T), 999)
    taken = set()
    for flat in np.argsort(score, axis=None, kind="stable"):
        i, j = divmod(int(flat), len(clean))
        if i < j and i not in taken and j not in taken:
            taken |= {i, j}
            if len(taken) >= count:
                break
    for i in sorted(taken, reverse=True):
        ds.hard.append((clean[i]["path"], "look_alike", "near_duplicate;exact_duplicate"))
        ds.clean.remove(clean[i])


def is_size_edge(style, cls, p):
    """A normal image at the edge of the natural size spread."""
    w, h = p["w"], p["h"]
    if cls == style.shortcut:
        return False
    if style.name == "glyphs":
        return (w, h) != (28, 28) and max(w, h) / min(w, h) >= 1.1
    return min(w, h) <= 57 or max(w, h) / min(w, h) >= 1.28


# ---------------------------------------------------------------- duplicates, leaks, conflicts
def exact_copy(ds, o):
    """Bytes with the same decoded pixels as original o: the same bytes, a PNG re-saved at another
    compress_level, or a JPEG with a COM segment added or its EXIF segment removed."""
    options = ["bytes"]
    if o["ext"] == ".png":
        options += ["png_resave", "png_resave"]
    else:
        options += ["jpeg_comment", "jpeg_comment"] + (["jpeg_exif"] * 3 if b"Exif\x00\x00" in o["data"][:200] else [])
    variant = str(ds.rng.choice(options))
    if variant == "png_resave":  # originals use level 9
        return png_bytes(o["img"], level=int(ds.rng.choice([1, 3]))), ".png"
    if variant == "jpeg_comment":
        return jpeg_add_comment(o["data"], f"copy {int(ds.rng.integers(1e6))}"), o["ext"]
    if variant == "jpeg_exif":
        return jpeg_strip_exif(o["data"]), str(ds.rng.choice([".jpg", ".jpeg"]))
    return o["data"], o["ext"]


def near_copy(ds, o):
    """Another JPEG quality, a resize by 3-8%, a 5% brightness shift, or light noise."""
    img, rng = o["img"], ds.rng
    variant = str(rng.choice((["requality"] if o["ext"] != ".png" else []) + ["resize", "brightness", "noise"]))
    if variant == "requality":
        return jpeg_bytes(img, rng.integers(45, 62)), o["ext"]
    if variant == "resize":
        f = float(rng.choice([-1, 1]) * rng.uniform(0.03, 0.08) + 1)
        img = img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.LANCZOS)
    elif variant == "brightness":
        img = to_image(np.asarray(img, float) * float(rng.choice([0.95, 1.05])), img.mode)
    else:
        img = to_image(np.asarray(img, float) + rng.normal(0, 3, np.asarray(img).shape), img.mode)
    if o["ext"] == ".png":
        return png_bytes(img), ".png"
    return jpeg_bytes(img, rng.integers(75, 90)), o["ext"]


def copy_name(ds, o, ext, label, split):
    """Mostly a fresh name; sometimes the original's name with " (1)" or "_copy" added."""
    stem = o["path"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    where = f"{split}/{label}/" if ds.layout == "folder" else o["path"].rsplit("/", 1)[0] + "/"
    r = ds.rng.random()
    name = f"{stem} (1){ext}" if r < 0.15 and ds.layout == "folder" else f"{stem}_copy{ext}" if r < 0.3 else None
    return ds.new_name(ext) if name is None or where + name in ds.files else name


def make_group(ds, exact, o, members):
    """Copies of original o at members [(label or None, split or None)], with all their truth rows."""
    style = ds.style
    group = ds.new_group()
    issue = "exact_duplicate" if exact else "near_duplicate"
    placed = [(o["path"], o["label"], o["split"])]
    registered = [o["reg"]]  # near copies join the registry too, so later draws keep clear of them
    for label, split in members:
        for _ in range(50):
            data, ext = exact_copy(ds, o) if exact else near_copy(ds, o)
            if exact:
                break
            copy = decode(data)  # near: close to its original, far from everything else
            dist, corr = likeness(o["img"], copy)
            same = copy.size == o["img"].size and np.array_equal(np.asarray(copy), np.asarray(o["img"]))
            near = dist <= style.near_max and corr >= style.near_corr
            if near and not same and ds.registry.is_new(copy, skip=registered):
                registered.append(ds.registry.add(copy))
                break
        else:
            raise RuntimeError("no near copy")
        label, split = label or o["label"], split or o["split"]
        subdir = o["path"].split("/")[1] if o["path"].count("/") == 2 else ""
        placed.append((ds.place(data, copy_name(ds, o, ext, label, split), label, split, subdir=subdir), label, split))
        if label != o["label"]:  # a copy filed under another class depicts its original's class
            ds.noise.append((placed[-1][0], label, o["label"]))
    first = min(SPLITS.index(s) for _, _, s in placed)
    conflict = len({label for _, label, _ in placed}) > 1
    for path, _, split in placed:
        ds.mark(path, issue, group)
        if SPLITS.index(split) > first:
            ds.mark(path, "split_leak", group)
        if conflict:
            ds.mark(path, "conflicting_labels", group)


def plant_duplicates(ds):
    plan, rng = ds.plan, ds.rng
    miss_cls, miss_split = plan["missing"]
    for exact in (True, False):  # copies in the original's split and class
        for size in [2] * plan["dup_pairs"] + [3] * plan["dup_triples"]:
            make_group(ds, exact, ds.take_original(), [(None, None)] * (size - 1))
    for k in range(plan["leak_pairs"]):  # a copy in another split; half exact, half near
        o = ds.take_original()
        others = [s for s in SPLITS if s != o["split"] and not (o["label"] == miss_cls and s == miss_split)]
        make_group(ds, k % 2 == 0, o, [(None, str(rng.choice(others)))])
    options = [c for c in ds.style.classes if c not in ds.style.minority and c != ds.style.shortcut]
    for k in range(plan["conflict_pairs"]):  # a copy under another class, same split
        o = ds.take_original()
        other = [c for c in options if c != o["label"] and (c, o["split"]) != (miss_cls, miss_split)]
        make_group(ds, k % 2 == 1, o, [(str(rng.choice(other)), None)])


# ---------------------------------------------------------------- per-file plants
CORRUPT = ["trunc_jpeg", "trunc_png", "png_bad_ihdr_crc", "trunc_jpeg", "zero", "random_png", "text_jpg",
           "trunc_png", "bomb", "png_bad_idat", "trunc_jpeg", "trunc_png"]


def plant_corrupt(ds, k):
    cls, split = ds.plant_target()
    rng, style = ds.rng, ds.style
    kind = CORRUPT[k % len(CORRUPT)]
    p = style.params(rng, cls)
    img = style.render(p)
    if kind == "trunc_jpeg":  # cut at several offsets
        full = jpeg_bytes(img, 85)
        data, ext = full[:int(len(full) * [0.3, 0.55, 0.8, 0.95][k % 4])], ".jpg"
    elif kind == "trunc_png":
        full = png_bytes(img)
        data, ext = full[:int(len(full) * [0.25, 0.5, 0.75, 0.9][k % 4])], ".png"
    elif kind == "png_bad_ihdr_crc":
        data, ext = png_bad_crc(png_bytes(img), b"IHDR"), ".png"
    elif kind == "png_bad_idat":
        data, ext = png_bad_crc(png_bytes(img), b"IDAT"), ".png"
    elif kind == "zero":
        data, ext = b"", [".jpg", ".png"][k % 2]
    elif kind == "random_png":
        data, ext = rng.bytes(int(rng.integers(200, 900))), ".png"
    elif kind == "text_jpg":
        data, ext = f"this is not a picture, see ticket #{int(rng.integers(1000, 9999))}\n".encode(), ".jpg"
    else:
        data, ext = png_bomb(k % 9 + 1), ".png"
    assert not decodes(data)[0], f"corrupt plant {kind} decodes"
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "corrupt")


def plant_format_mismatch(ds, k):
    """Decodes fine, but the extension names another format."""
    cls, split = ds.plant_target()
    kind = ["png_as_jpg", "jpeg_as_png", "gif_as_jpg", "bmp_as_png", "png_as_jpeg", "jpeg_as_png"][k % 6]

    def make():
        p = ds.style.params(ds.rng, cls)
        img = ds.style.render(p)
        if kind.startswith("png"):
            return png_bytes(img), "." + kind.rsplit("_", 1)[1], p
        if kind == "jpeg_as_png":
            return jpeg_bytes(img, 85), ".png", p
        if kind == "gif_as_jpg":
            gif = img.convert("P", palette=Image.ADAPTIVE, colors=64) if img.mode == "RGB" else img
            return other_bytes(gif, "GIF"), ".jpg", p
        return other_bytes(img, "BMP"), ".png", p

    data, ext, _, _ = ds.unique(make)
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "format_mismatch")


UNSUPPORTED = [("README.txt", "text"), ("notes.json", "json"), ("photo.heic", "heic"), ("photo.avif", "avif"),
               ("info.txt", "text"), ("meta.json", "json"), ("IMG_0412.heic", "heic"), ("labels.txt", "text"),
               ("IMG_0733.avif", "avif"), ("x.jpg", "dir")]


def plant_unsupported(ds, k):
    """Files we do not read as images, in class folders. Returns the number of truth rows."""
    rng = ds.rng
    name, kind = UNSUPPORTED[k % len(UNSUPPORTED)]
    if ds.layout == "csv" and kind == "dir":  # a directory has no place in a CSV's rows
        name, kind = "dataset_card.json", "json"
    for _ in range(1000):  # a class folder (or CSV subfolder) that has no file of this name yet
        cls, split = ds.plant_target()
        sub = str(rng.choice(["", "batch2", "docs"])) if ds.layout == "csv" else None
        where = f"{split}/{cls}/" if ds.layout == "folder" else f"images/{sub + '/' if sub else ''}"
        if where + name not in ds.files:
            break
    else:
        raise RuntimeError(f"no free place for {name}")
    if kind == "dir":  # a directory named like an image; keep.txt lets git track it
        path = ds.place(None, name, cls, split)
        ds.files[path + "/keep.txt"] = b"keeps this directory, named like an image, in git\n"
        ds.rows.append({"path": path + "/keep.txt", "label": cls, "split": split})
        ds.mark(path, "unsupported_file")
        ds.mark(path + "/keep.txt", "unsupported_file")
        return 2
    data = {"text": lambda: f"{cls} images, batch {int(rng.integers(100))}\n".encode(),
            "json": lambda: json.dumps({"class": cls, "id": int(rng.integers(1e6))}).encode() + b"\n",
            # a real ftyp box header, then a few random bytes: no picture inside
            "heic": lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + rng.bytes(int(rng.integers(8, 40))),
            "avif": lambda: b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1" + rng.bytes(int(rng.integers(8, 40))),
            }[kind]()
    ds.mark(ds.place(data, name, cls, split, subdir=sub), "unsupported_file")
    return 1


def plant_odd_size(ds, k):
    """Far from the size distribution: tiny, or big with flat content (so it stays small on disk)."""
    cls, split = ds.plant_target(only=ds.style.objects)
    style = ds.style
    tiny = k % 2 == 0
    size = style.tiny_sizes[k // 2 % len(style.tiny_sizes)] if tiny else style.big_sizes[k // 2 % len(style.big_sizes)]

    def make():  # big ones are drawn at a quarter size and blown up: flat, blocky, cheap
        w, h = size if tiny else (size[0] // 4, size[1] // 4)
        p = style.params(ds.rng, cls, size=(w, h), fmt="png")
        p["noise"] = 0.0
        if style.name == "shapes":
            p["bg"] = (p["bg"][0], p["bg"][0], 0.0, "flat")
        return png_bytes(style.render(p).resize(size, Image.NEAREST)), ".png", p

    data = make()[0] if tiny else ds.unique(make)[0]
    ds.mark(ds.place(data, ds.new_name(".png"), cls, split), "odd_size")


def plant_odd_aspect(ds, k):
    cls, split = ds.plant_target()
    data, ext, _, _ = ds.unique(ds.normal(cls, size=ds.style.strip_sizes[k % len(ds.style.strip_sizes)]))
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "odd_aspect_ratio")


def plant_quality(ds, k, issue):
    """dark: every pixel scaled to <= ~12% of full scale; light: washed out towards white;
    blurry: a strong Gaussian blur (of an image with enough contrast to stay an image), never in the
    naturally smooth class: a blurred soft gradient is statistically the same as an unblurred one, so
    that plant would contradict the class's smooth_normal hard negatives."""
    cls, split = ds.plant_target(exclude=(ds.style.smooth_class,) if issue == "blurry" else ())
    rng, style = ds.rng, ds.style

    def make():
        p = style.params(rng, cls, fmt="jpeg" if style.mode == "RGB" else None)
        img = style.render(p)
        a = np.asarray(img, float)
        if issue == "dark":
            a = a * (rng.uniform(0.08, 0.12) * 255 / max(1.0, a.max()))
        elif issue == "light":
            a = 255 - (255 - a) * rng.uniform(0.12, 0.2)
        else:
            radius = rng.uniform(3.5, 5.0) if style.mode == "RGB" else rng.uniform(1.8, 2.4)
            blurred = img.filter(ImageFilter.GaussianBlur(radius))
            if np.asarray(blurred.convert("L"), float).std() < 15:  # blurred into a flat field: redraw
                return b"", "", None
            a = np.asarray(blurred, float)
        data, ext = style.encode(rng, to_image(a, img.mode), p)
        return data, ext, p

    def make_valid():
        while True:
            out = make()
            if out[2] is not None:
                return out

    data, ext, _, _ = ds.unique(make_valid)
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), issue)


def plant_low_information(ds, k):
    """One flat mid-tone colour (its own per image), half with a trace of noise."""
    cls, split = ds.plant_target()
    rng, style = ds.rng, ds.style
    w, h = style.natural_size(rng, cls)
    level = 70 + (k * 37) % 110
    if style.mode == "RGB":
        a = np.ones((h, w, 3)) * np.array(hsv_rgb((k * 0.137) % 1, rng.uniform(0, 0.5), level / 255))
    else:
        a = np.full((h, w), float(level))
    if k % 2:
        a = a + rng.normal(0, 1.2, a.shape)
    img = to_image(a, style.mode)
    data, ext = (png_bytes(img), ".png") if k % 3 else (jpeg_bytes(img, 85), ".jpg")
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "low_information")


def plant_odd_mode(ds, k):
    """A mode unlike the set's: grey or colour, CMYK, RGBA with real transparency, 16-bit, palette."""
    cls, split = ds.plant_target()
    style, rng = ds.style, ds.rng
    kind = style.odd_mode_variants()[k % len(style.odd_mode_variants())]

    def make():
        p = style.params(rng, cls)
        img = style.render(p)
        if style.mode == "L":  # a tinted copy of the glyph
            tint = np.array(hsv_rgb(rng.random(), rng.uniform(0.5, 1), 1.0)) / 255
            rgb = to_image(np.asarray(img, float)[..., None] * tint + 20 * (1 - tint), "RGB")
        else:
            rgb = img
        if kind == "L_jpeg":
            return jpeg_bytes(img.convert("L"), 85), ".jpg", p
        if kind == "L_png":
            return png_bytes(img.convert("L")), ".png", p
        if kind == "RGB_png":
            return png_bytes(rgb), ".png", p
        if kind == "RGB_jpeg":
            return jpeg_bytes(rgb, 90), ".jpg", p
        if kind == "CMYK_jpeg":
            return jpeg_bytes(rgb.convert("CMYK"), 85), ".jpg", p
        if kind == "RGBA_png":  # the background fades out
            a = np.asarray(rgb, float)
            alpha = np.clip(np.abs(a - a[0, 0]).sum(-1) * 3, 0, 255)
            return png_bytes(Image.fromarray(np.dstack([a, alpha]).astype(np.uint8))), ".png", p
        if kind == "I;16_png":
            return png_bytes(Image.fromarray(np.asarray(img.convert("L"), dtype=np.uint16) * 257)), ".png", p
        pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)  # palette, one colour transparent
        return png_bytes(pal, transparency=pal.getpixel((0, 0))), ".png", p

    data, ext, _, img = ds.unique(make)
    assert img.mode != style.mode, kind
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "odd_mode")


def plant_outlier(ds, k):
    """Unlike every class: dense noise, a smooth random field, a page of text-like marks."""
    cls, split = ds.plant_target()
    style, rng = ds.style, ds.rng

    def make():
        w, h = style.natural_size(rng, cls)
        img, fmt = style.outlier(rng, ["noise", "field", "page"][k % 3], w, h)
        return ((png_bytes(img), ".png") if fmt == "png" else (jpeg_bytes(img, 70), ".jpg")) + (None,)

    data, ext, _, _ = ds.unique(make)
    ds.mark(ds.place(data, ds.new_name(ext), cls, split), "outlier")


def plant_label_issue(ds, k):
    """A clean, normal image of one class filed under another."""
    true_cls, split = ds.plant_target()
    given = true_cls
    while given == true_cls or (given, split) == tuple(ds.plan["missing"]):
        given = ds.plant_target()[0]
    data, ext, _, _ = ds.unique(ds.normal(true_cls))
    path = ds.place(data, ds.new_name(ext), given, split)
    ds.mark(path, "label_issue")
    ds.noise.append((path, given, true_cls))


def plant_csv_only(ds):
    """missing_file: rows whose file does not exist; orphan_file: images that no row names."""
    for k in range(ds.plan["missing_rows"]):
        cls, split = ds.plant_target()
        path = f"images/{'batch2/' if k % 5 == 0 else ''}{ds.new_name(['.jpg', '.png', '.jpeg'][k % 3])}"
        ds.csv_rows.append((("./" + path) if k % 4 == 0 else path, cls, split))
        ds.rows.append({"path": path, "label": cls, "split": split})
        ds.mark(path, "missing_file")
    for k in range(ds.plan["orphans"]):
        cls = ds.plant_target()[0]
        data, ext, _, _ = ds.unique(ds.normal(cls, fmt="jpeg" if k == 0 else None))
        name = "\u00f1and\u00fa_11.jpg" if k == 0 else ds.new_name(ext)
        ds.mark(ds.place(data, name, cls, "", listed=False, subdir="extra" if k % 3 == 0 else ""), "orphan_file")


def plant_everything(ds):
    plan = ds.plan
    plant_duplicates(ds)
    n = plan["per_type"]
    for k in range(n + 2):
        plant_corrupt(ds, k)
    k = done = 0
    while done < n:
        done += plant_unsupported(ds, k)
        k += 1
    for k in range(n):
        plant_format_mismatch(ds, k)
        plant_odd_size(ds, k)
        plant_odd_aspect(ds, k)
        plant_quality(ds, k, "dark")
        plant_quality(ds, k, "light")
        plant_quality(ds, k, "blurry")
        plant_low_information(ds, k)
        plant_odd_mode(ds, k)
        plant_outlier(ds, k)
    for k in range(plan["label_issues"]):
        plant_label_issue(ds, k)
    if ds.layout == "csv":
        plant_csv_only(ds)


def add_odd_mode_rows(ds):
    """A decodable file whose mode differs from the set's (a GIF is palette) gets its odd_mode row."""
    marked = {(p, i) for p, i, _ in ds.truth}
    for path, data in sorted(ds.files.items()):
        if data is None or (path, "odd_mode") in marked:
            continue
        ok, mode = decodes(data)
        if ok and mode != ds.style.mode:
            ds.mark(path, "odd_mode")


# ---------------------------------------------------------------- facts, output
def summary(ds):
    style = ds.style
    counts = {s: {c: 0 for c in style.classes} for s in SPLITS}
    images = {s: {c: 0 for c in style.classes} for s in SPLITS}
    for row in ds.rows:
        if row["label"]:
            counts[row["split"]][row["label"]] += 1
            data = ds.files.get(row["path"])
            if data is not None and decodes(data)[0]:
                images[row["split"]][row["label"]] += 1
    imbalanced, missing = {}, {}
    for s in SPLITS:
        present = [v for v in counts[s].values() if v > 0]
        median = float(np.median(present))
        imbalanced[s] = sorted(c for c, v in counts[s].items() if 0 < v <= 0.2 * median)
        missing[s] = sorted(c for c, v in counts[s].items() if v == 0)
    assert imbalanced["train"] == sorted(style.minority), imbalanced
    issue_counts = {}
    for _, issue, _ in ds.truth:
        issue_counts[issue] = issue_counts.get(issue, 0) + 1
    hard_counts = {}
    for _, kind, _ in ds.hard:
        hard_counts[kind] = hard_counts.get(kind, 0) + 1
    split_of = {row["path"]: row["split"] for row in ds.rows}
    members = {}
    for path, issue, group in ds.truth:
        if issue in ("exact_duplicate", "near_duplicate"):
            members.setdefault(group, set()).add(split_of[path])
    leak_groups = {}  # duplicate groups spanning splits, by the pair of splits they join
    for splits in members.values():
        for a, b in ((a, b) for i, a in enumerate(SPLITS) for b in SPLITS[i + 1:] if {a, b} <= splits):
            leak_groups[f"{a}-{b}"] = leak_groups.get(f"{a}-{b}", 0) + 1
    return {
        "dataset": ds.name,
        "layout": ds.layout,
        "classes": style.classes,
        "class_counts": counts,
        "class_counts_decodable": images,
        "imbalanced_classes": imbalanced,
        "imbalance_rule": "a present class with count <= 0.2 * the median count of the split's present classes",
        "missing_classes": missing,
        "shortcuts": ["format", "width", "height"],
        "shortcut_detail": ds.plan["shortcut_detail"],
        "issue_counts": dict(sorted(issue_counts.items())),
        "hard_negative_counts": dict(sorted(hard_counts.items())),
        "duplicate_groups": ds.groups,
        "leak_groups": dict(sorted(leak_groups.items())),
    }


def write_dataset(ds, root, truth_dir, truth_name):
    root.mkdir(parents=True)
    for path in sorted(ds.files):
        target = root / path
        if ds.files[path] is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ds.files[path])
    if ds.layout == "csv":
        with open(root / "labels.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["path", "label", "split"])
            w.writerows(ds.csv_rows)
    truth_dir.mkdir(parents=True, exist_ok=True)
    with open(truth_dir / f"{truth_name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "issue", "group"])
        w.writerows(sorted(set(ds.truth)))
    with open(truth_dir / f"hard_negatives_{truth_name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "kind", "must_not_be"])
        w.writerows(sorted(set(ds.hard)))
    with open(truth_dir / f"label_noise_{truth_name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "given", "true"])
        w.writerows(sorted(set(ds.noise)))
    (truth_dir / f"summary_{truth_name}.json").write_text(
        json.dumps(summary(ds), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build(name, style, layout, rng, plan):
    ds = Dataset(name, style, layout, rng, plan)
    build_base(ds)
    if layout == "csv":  # a few names beyond ASCII (and a space), clean images
        special = (("\u00f1and\u00fa_03.png", "circle"), ("\U0001f98a_07.png", "cross"), ("img 0042.jpg", "ring"))
        for name_, cls in special:
            data, _, _, _ = ds.unique(ds.normal(cls, fmt="png" if name_.endswith(".png") else "jpeg"))
            ds.place(data, name_, cls, "train", subdir="")
    if plan.get("natural_lookalikes"):
        add_natural_lookalikes(ds, plan["natural_lookalikes"])
    plant_everything(ds)
    add_odd_mode_rows(ds)
    rng.shuffle(ds.csv_rows)
    return ds


def shapes_plans():
    folder = dict(normal_n=107, minority_n=14, missing=("cross", "test"), sharp_per_class=3, lookalike_pairs=8,
                  dup_pairs=9, dup_triples=3, leak_pairs=22, conflict_pairs=11, per_type=22, label_issues=26,
                  shortcut_detail={"class": "checker", "format": "PNG", "width": [76, 80], "height": [76, 80],
                                   "others": "mostly JPEG (about 85%), width and height 56-74"})
    table = dict(normal_n=40, minority_n=7, missing=("waves", "val"), sharp_per_class=3, lookalike_pairs=6,
                 dup_pairs=5, dup_triples=2, leak_pairs=20, conflict_pairs=10, per_type=20, label_issues=25,
                 missing_rows=22, orphans=22,
                 shortcut_detail={"class": "square", "format": "PNG", "width": [76, 80], "height": [76, 80],
                                  "others": "mostly JPEG (about 85%), width and height 56-74"})
    return folder, table


def glyph_plan():
    return dict(normal_n=62, minority_n=9, missing=("four", "val"), sharp_per_class=3, lookalike_pairs=10,
                natural_lookalikes=24,
                dup_pairs=7, dup_triples=3, leak_pairs=20, conflict_pairs=10, per_type=20, label_issues=25,
                shortcut_detail={"class": "seven", "format": "JPEG", "width": [32, 32], "height": [32, 32],
                                 "others": "mostly PNG (about 90%), 28x28 or 25-30 px a side"})


def tree_bytes(root):
    """Apparent size like du -sb (files plus directory entries), leaving out __pycache__."""
    return root.lstat().st_size + sum(p.lstat().st_size for p in root.rglob("*") if "__pycache__" not in p.parts)


def safe_to_replace(path, allowed):
    if not path.exists():
        return True
    return path.is_dir() and all(child.name in allowed for child in path.iterdir())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--style", choices=["shapes", "glyphs"], default="shapes")
    ap.add_argument("--seed", type=int, default=None, help="default 0 for shapes, 7 for glyphs")
    ap.add_argument("--out", type=Path, default=None,
                    help="shapes: the folder to hold shapes/, shapes_csv/, truth/ (default: sample_data/); "
                         "glyphs: the dataset root itself (required)")
    ap.add_argument("--truth", type=Path, default=None, help="glyphs only: where the truth files go")
    args = ap.parse_args(argv)

    if args.style == "shapes":
        seed = 0 if args.seed is None else args.seed
        out = (args.out or HERE).resolve()
        rng = np.random.default_rng(seed)
        plan_folder, plan_csv = shapes_plans()
        folder = build("shapes", Shapes(shortcut="checker", minority=["letter", "ring"]), "folder", rng, plan_folder)
        table = build("shapes_csv", Shapes(shortcut="square", minority=["triangle"]), "csv", rng, plan_csv)
        for sub in ("shapes", "shapes_csv", "truth"):
            shutil.rmtree(out / sub, ignore_errors=True)
        write_dataset(folder, out / "shapes", out / "truth", "shapes")
        write_dataset(table, out / "shapes_csv", out / "truth", "shapes_csv")
        total = tree_bytes(out)
        print(f"shapes: {len(folder.files)} entries, shapes_csv: {len(table.files)} entries, "
              f"{len(table.csv_rows)} csv rows; total under {out}: {total:,} bytes")
        if total > SIZE_LIMIT:
            sys.exit(f"total {total:,} bytes is over the {SIZE_LIMIT:,} byte budget")
        return 0

    if args.out is None:
        ap.error("--style glyphs needs --out DIR")
    seed = 7 if args.seed is None else args.seed
    out = args.out.resolve()
    truth = (args.truth or out.parent / f"truth_{out.name}").resolve()
    if not safe_to_replace(out, set(SPLITS)):
        ap.error(f"{out} exists and holds more than train/val/test; refusing to replace it")
    shutil.rmtree(out, ignore_errors=True)
    style = Glyphs(shortcut="seven", minority=["eight"])
    ds = build(out.name, style, "folder", np.random.default_rng(seed), glyph_plan())
    write_dataset(ds, out, truth, out.name)
    print(f"{out.name}: {len(ds.files)} entries in {out}, truth in {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
