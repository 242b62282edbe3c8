"""Hashes and statistics of a chunk of small work images at once.

A worker decodes a chunk of files one by one (features.py) and keeps each work image's pixels
(`prepare`; an image over BATCH_PIXELS instead gets Pillow's grey conversion, 64x64 resize and R/G/B
histogram, which beat numpy there, and its colour codes, and keeps only those), then measures the
whole chunk (`chunk_statistics`): the small images' grey levels, colour counts and channel moments in one
pass over all their pixels, histograms, the 32x32 LANCZOS grey (a numpy port of Pillow's), then moments, percentiles,
entropy, pHash's DCT, dHash, appearance and the Laplacian in a few numpy calls. Per image, those were
~30 calls on arrays of a few KB, each costing more in call overhead than in arithmetic: for 32x32 PNGs,
5x the decode itself. No statistic mixes images, every value equals Pillow's / the per-image code's bit
for bit, and how files are chunked never changes one.
"""

import functools
import math

import numpy as np
from PIL import Image

from . import imaging, pil_codecs
from .schema import APPEARANCE_SIDE

SHARPNESS_SIDE = 64  # the Laplacian is scale-sensitive: measure images on the same grid (smaller ones as they are)
COLOUR_BITS = 4  # colour_entropy bins each channel to 16 levels: JPEG noise and gradients merge, hues do not
HASH_SIDE = 32  # pHash's DCT input, dHash's source and the appearance vector's source: imagehash's 32x32 grey
PERCENTILES = np.array([0.01, 0.05, 0.95, 0.99])
BATCH_PIXELS = 64 * 64  # images up to this size get their grey levels and colour counts with their chunk


def prepare(work: Image.Image, raw: bytes | None = None) -> tuple:
    """The part that stays per image, (pixels, grey levels, Laplacian grid, measured). A small image keeps
    its pixels (h, w, 3) uint8 (from `raw`, its tobytes(), when the caller has them) and nothing else: its grey levels
    and colour counts are computed with the rest of its chunk (`chunk_statistics`). For a bigger one,
    where Pillow's C loops beat numpy's per-call overhead, this measures what grows with its pixel count
    and keeps only that: grey levels and grid, colour codes and the R, G, B histograms (`big_image`)."""
    if work.size[0] * work.size[1] <= BATCH_PIXELS:
        return pixels(work, raw), None, None, None
    return big_image(work if work.mode == "RGB" else work.convert("RGB"))


def pixels(im: Image.Image, raw: bytes | None = None) -> np.ndarray:
    """np.asarray(im) of an L or RGB image (read-only): its bytes (`raw`, when already taken) viewed, which is
    cheaper than asarray's array interface on these small images (docs/benchmarks.md, "Pixels of small images")."""
    shape = (im.size[1], im.size[0]) if im.mode == "L" else (im.size[1], im.size[0], 3)
    return np.frombuffer(pil_codecs.raw_bytes(im) if raw is None else raw, np.uint8).reshape(shape)


def big_image(work: Image.Image) -> tuple:
    """prepare() of an RGB image over BATCH_PIXELS: (None, grey levels, Laplacian grid, (colour codes,
    R/G/B histograms as Pillow's 768 counts)). Its pixels come out once, padded to 4 bytes as Pillow holds
    them (a copy, no repacking), and become the colour codes as 32-bit words, counted with its chunk;
    Pillow's histogram() counts the three bands in one C pass, where three np.bincount calls on strided
    columns cost ~2x."""
    grey = work.convert("L")
    levels = pixels(grey)  # once: getting a PIL image's pixels is a copy
    words = np.frombuffer(pil_codecs.raw_bytes(work, "RGBX"), np.uint32)  # R | G << 8 | B << 16 | pad << 24
    return None, levels, sharpness_grid(levels, grey), (colour_codes_of_words(words), work.histogram())


_MOMENTS = np.stack([np.ones(256), np.arange(256.0), np.arange(256.0) ** 2], axis=1)  # count, sum, sum of squares


def image_statistics(work: Image.Image) -> dict:
    """One image's statistics, as its chunk would measure them (the tests' reference)."""
    return chunk_statistics([prepare(work)])[0]


def chunk_statistics(prepared: list) -> list[dict]:
    """`prepare` outputs of several images -> one statistics dict per image, in order."""
    n = len(prepared)
    rgbs, greys, sharps, measured = [list(column) for column in zip(*prepared, strict=True)]
    sizes = np.array([g.size if rgb is None else rgb.shape[0] * rgb.shape[1]
                      for rgb, g in zip(rgbs, greys, strict=True)])
    batch = [i for i in range(n) if greys[i] is None]
    big = [i for i in range(n) if measured[i] is not None]
    moments = np.empty((n, 4, 3))  # R, G, B and grey of each image: pixel count, sum, sum of squares
    grey_counts = np.empty((n, 256), np.int64)
    colour_counts = np.empty((n, 1 << 3 * COLOUR_BITS), np.int64)
    if batch:  # the small images' per-pixel work in one go: per image it would be mostly call overhead
        flat = np.concatenate([rgbs[i].reshape(-1, 3) for i in batch])
        levels = grey_levels(flat)
        for i, grey in zip(batch, np.split(levels, np.cumsum(sizes[batch])[:-1]), strict=True):
            greys[i] = grey.reshape(rgbs[i].shape[:2])
            sharps[i] = sharpness_grid(greys[i])
        colour_counts[batch] = _batched_counts(colour_codes(flat), sizes[batch], 1 << 3 * COLOUR_BITS)
        moments[batch, :3] = channel_moments(flat, sizes[batch])
        grey_counts[batch] = _batched_counts(levels, sizes[batch], 256)
    if big:  # per image: one bincount over a big image's pixels costs less than offsetting them for a shared one
        rgb_counts = np.empty((len(big), 3, 256), np.int64)
        for k, i in enumerate(big):
            image_codes, counts = measured[i]
            colour_counts[i] = np.bincount(image_codes, minlength=1 << 3 * COLOUR_BITS)
            rgb_counts[k] = np.fromiter(counts, np.int64, 768).reshape(3, 256)
            grey_counts[i] = np.bincount(greys[i].ravel(), minlength=256)
        moments[big, :3] = rgb_counts.astype(np.float64) @ _MOMENTS
    colour = _entropies(colour_counts, sizes)
    counts = grey_counts.astype(np.float64)
    moments[:, 3] = counts @ _MOMENTS
    count, total, squares = moments.reshape(n * 4, 3).T
    means = (total / count).reshape(n, 4)
    stds = np.sqrt(np.maximum(squares / count - (total / count) ** 2, 0.0)).reshape(n, 4) / 255.0
    cdf = np.cumsum(counts, axis=1) / sizes[:, None]
    lum = (cdf[:, :, None] < PERCENTILES).sum(axis=1) / 255.0  # = np.searchsorted(cdf, PERCENTILES) per row
    small = greys_32(greys)
    columns = {
        "phash": phash_of_32(small), "dhash": dhash_of_32(small),
        "brightness": means[:, 3] / 255.0, "contrast": stds[:, 3],
        "lum_p01": lum[:, 0], "lum_p05": lum[:, 1], "lum_p95": lum[:, 2], "lum_p99": lum[:, 3],
        "sharpness": laplacian_variances(sharps), "entropy": _entropies(counts, sizes),
        "colour_entropy": colour,
        "mean_r": means[:, 0] / 255.0, "mean_g": means[:, 1] / 255.0, "mean_b": means[:, 2] / 255.0,
        "std_r": stds[:, 0], "std_g": stds[:, 1], "std_b": stds[:, 2],
    }
    columns = {name: values.tolist() for name, values in columns.items()}  # Python ints and floats
    columns["appearance"] = [a.tobytes() for a in appearance_of_32(small)]
    columns["content"] = [a.tobytes() for a in small]
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def channel_moments(flat: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(P, 3) uint8 pixels of images of `sizes` pixels, one after the other -> (n, 3, 3): per image and channel
    the pixel count, sum and sum of squares, exact integers (as float64, like a histogram's moments)."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    squares = flat.astype(np.uint16)  # 255 ** 2 fits 16 bits
    squares *= squares
    out = np.empty((len(sizes), 3, 3))
    out[:, :, 0] = sizes[:, None]
    out[:, :, 1] = np.add.reduceat(flat, starts, axis=0, dtype=np.int64)
    out[:, :, 2] = np.add.reduceat(squares, starts, axis=0, dtype=np.int64)
    return out


def grey_levels(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) uint8 grey: Pillow's convert("L") (ITU-R 601-2 luma in 16-bit fixed
    point, rounded), bit for bit over all 2**24 colours."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def grey_32(grey: np.ndarray) -> np.ndarray:
    """The 32x32 grey image pHash, dHash and the appearance vector start from (imagehash's LANCZOS)."""
    if grey.shape == (HASH_SIDE, HASH_SIDE):
        return grey
    return lanczos_to_32(grey)


def sharpness_grid(grey: np.ndarray, image: Image.Image | None = None) -> np.ndarray:
    """The grey grid the Laplacian is measured on: SHARPNESS_SIDE square, never upsampled (`image`:
    the same grey levels as a PIL image, when the caller has one)."""
    side = min(SHARPNESS_SIDE, max(grey.shape))  # never upsample a small image to measure its edges
    if grey.shape == (side, side):
        return grey
    image = Image.fromarray(grey) if image is None else image
    return pixels(image.resize((side, side), Image.Resampling.BILINEAR))


def _entropies(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Entropy in bits, -sum(p log2 p), of each histogram row (of `sizes` values) from its non-empty bins.
    bincount adds each row's terms one after the other: the same sum for an image alone or among others."""
    nonzero = np.flatnonzero(counts > 0)  # a bool mask first: nonzero() on int64 takes ~7x longer
    rows = nonzero // counts.shape[1]
    p = counts.ravel()[nonzero] / sizes[rows]
    return 0.0 - np.bincount(rows, weights=p * np.log2(p), minlength=len(counts))  # 0.0, not -0.0, for one colour


def colour_codes(rgb: np.ndarray) -> np.ndarray:
    """(P, 3) uint8 RGB -> P colour codes R4 << 8 | G4 << 4 | B4 (uint32), the top COLOUR_BITS of each channel."""
    q = rgb >> (8 - COLOUR_BITS)  # uint8: G << 4 still fits
    return q[:, 0].astype(np.uint32) << 2 * COLOUR_BITS | (q[:, 1] << COLOUR_BITS | q[:, 2])


def colour_entropy(rgb: np.ndarray) -> float:
    """Entropy in bits of the colour histogram at COLOUR_BITS per channel (0 to 12): how many colours
    the picture really uses. A drawing or a glyph keeps a handful (1-5 bits), a photo, a smooth colour
    field or noise thousands (8+); a grey image stays within one channel's 4 bits."""
    counts = np.bincount(colour_codes(rgb), minlength=1 << 3 * COLOUR_BITS)
    return float(_entropies(counts[None], np.array([len(rgb)]))[0])


def _batched_counts(values: np.ndarray, sizes: np.ndarray, bins: int) -> np.ndarray:
    """Histograms (n, bins) of the values of n images given one after the other (`sizes` values each), in
    one bincount: each image's values offset by its index, where a bincount per small image was mostly call
    overhead."""
    offsets = values.astype(np.intp)
    offsets += np.repeat(np.arange(len(sizes)) * bins, sizes)
    return np.bincount(offsets, minlength=len(sizes) * bins).reshape(len(sizes), bins)


_CODE_MASK = np.uint32(0xF0F0F0)  # the top COLOUR_BITS of R, G and B in an RGBX word
# (R4 << 4 | G4 << 12 | B4 << 20) * (2**24 + 2**12 + 1) mod 2**32 holds R4 << 28 | G4 << 24 | B4 << 20 in its
# bits 20-31 (the other partial products land in bits 0-19, or past bit 31): R4 << 8 | G4 << 4 | B4 after >> 20
_CODE_MULTIPLIER = np.uint32((1 << 24) + (1 << 12) + 1)


def colour_codes_of_words(words: np.ndarray) -> np.ndarray:
    """colour_codes of pixels given as 32-bit RGBX words (R in the low byte, the pad byte ignored), the same
    codes in 3 passes over the words instead of 6 over strided byte columns."""
    codes = words & _CODE_MASK
    codes *= _CODE_MULTIPLIER
    codes >>= 20
    return codes


def laplacian_variances(greys) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian of each grey image, in units of (level / 255)**2: high for sharp
    edges, ~0 when blurred. Images of one shape are computed together, in integers (levels are 0..255, so a
    Laplacian fits int16 and its sums int64): exact, so a value never depends on which images share the
    call, and ~4x cheaper than float64 arrays of the same shape."""
    out = np.zeros(len(greys))
    by_shape = {}
    for i, g in enumerate(greys):
        by_shape.setdefault(g.shape, []).append(i)
    for (h, w), idx in by_shape.items():
        if h < 3 or w < 3:
            continue
        g = np.stack([greys[i] for i in idx]).astype(np.int16)
        lap = g[:, :-2, 1:-1] + g[:, 2:, 1:-1]
        lap += g[:, 1:-1, :-2]
        lap += g[:, 1:-1, 2:]
        lap -= 4 * g[:, 1:-1, 1:-1]
        lap = lap.reshape(len(idx), -1)
        total = lap.sum(axis=1, dtype=np.int64)
        squares = lap.astype(np.int32)  # |lap| <= 1020: a square fits int32, a sum of 16k of them does not
        squares *= squares
        squares = squares.sum(axis=1, dtype=np.int64)
        m = lap.shape[1]
        # (m * sum(l^2) - sum(l)^2) / m^2 is the variance of l, exactly in integers up to the one division
        out[idx] = (m * squares - total * total) / (m * m * 255.0 ** 2)
    return out


def appearance_of_32(small: np.ndarray) -> np.ndarray:
    """(n, 32, 32) -> (n, 16, 16): PIL's Image.reduce(2) (a rounded 2x2 mean), bit for bit. Strided adds in
    uint16: numpy's sum over two axes took ~15x longer on arrays this small."""
    f = HASH_SIDE // APPEARANCE_SIDE
    blocks = small.reshape(len(small), APPEARANCE_SIDE, f, APPEARANCE_SIDE, f).astype(np.uint16)
    sums = sum(blocks[:, :, i, :, j] for i in range(f) for j in range(f))
    sums += f * f // 2
    sums //= f * f
    return sums.astype(np.uint8)


# ---------------------------------------------------------------- perceptual hashes


def _dct_matrix(n: int) -> np.ndarray:
    # Unnormalised DCT-II as scipy.fftpack.dct computes it (what imagehash uses): y_k = 2 sum x_n cos(...)
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_DCT32_LOW = _dct_matrix(HASH_SIDE)[:8]


def bits_to_int64(bits: np.ndarray) -> int:
    """64 booleans, first one most significant, as a signed int64 (parquet has no uint64 everywhere)."""
    return int(_rows_to_int64(np.asarray(bits).reshape(1, 64))[0])


def _rows_to_int64(bits: np.ndarray) -> np.ndarray:
    """(n, 64) booleans -> n signed int64, first bit most significant (two's complement, as bits_to_int64)."""
    return np.packbits(bits.astype(np.uint8), axis=1).view(">i8").ravel().astype(np.int64)


def phash(grey: Image.Image) -> int:
    """imagehash.phash on the same image, bit for bit: 32x32 LANCZOS, DCT, 8x8 low band > median."""
    small = np.asarray(grey.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS))
    return int(phash_of_32(small[None])[0])


def phash_of_32(small: np.ndarray) -> np.ndarray:
    """pHash of each (32, 32) grey image of a stack. matmul runs one 2-D product per image, so the
    value does not depend on which images share the stack."""
    low = (_DCT32_LOW @ small.astype(np.float64) @ _DCT32_LOW.T).reshape(len(small), 64)
    middle = np.sort(low, axis=1)[:, 31:33]  # the median of 64 values, as np.median computes it
    return _rows_to_int64(low > ((middle[:, 0] + middle[:, 1]) / 2)[:, None])


def dhash(grey: Image.Image) -> int:
    """imagehash.dhash on the same image: 9x8 LANCZOS, each pixel brighter than its left neighbour."""
    levels = np.asarray(grey.convert("L").resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
    return bits_to_int64(levels[:, 1:] > levels[:, :-1])


def dhash_of_32(small: np.ndarray) -> np.ndarray:
    """dHash of each (32, 32) grey image of a stack: `dhash` of that image, bit for bit."""
    levels = _lanczos_32_to_9x8(small)
    return _rows_to_int64((levels[:, :, 1:] > levels[:, :, :-1]).reshape(len(small), 64))


# ---------------------------------------------------------------- Pillow's 32x32 -> 9x8 LANCZOS, in numpy
# dHash's resize, ported from libImaging/Resample.c so that a chunk takes two matrix products instead
# of a PIL call per image: coefficients rounded to 22-bit fixed point, then a horizontal pass and a
# vertical one, each rounded and clipped to uint8. Products and sums are integers below 2**53, so the
# float64 products give Pillow's values exactly, whatever the summation order. Only this one size
# pair is ported and tested: Pillow chooses the order of the two passes from the sizes.
_PRECISION_BITS = 32 - 8 - 2


def _sinc(x: float) -> float:
    return 1.0 if x == 0.0 else math.sin(x * math.pi) / (x * math.pi)


def _lanczos_weights(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for LANCZOS, as an (out, in) matrix of integers."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support, inverse = 3.0 * filter_scale, 1.0 / filter_scale  # multiplied, not divided: C's rounding
    matrix = np.zeros((out_size, in_size))
    for out in range(out_size):
        center = (out + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        weights = [(x - center + 0.5) * inverse for x in range(lo, hi)]
        weights = [_sinc(x) * _sinc(x / 3) if -3.0 <= x < 3.0 else 0.0 for x in weights]
        total = 0.0
        for w in weights:  # in order, as C adds them (Python 3.12's sum() compensates rounding)
            total += w
        for x, w in zip(range(lo, hi), weights, strict=True):
            k = (w / total if total != 0.0 else w) * (1 << _PRECISION_BITS)
            matrix[out, x] = int(k - 0.5) if k < 0 else int(k + 0.5)  # C's cast truncates toward zero
    return matrix


_LANCZOS_32_TO_9 = _lanczos_weights(HASH_SIDE, 9)
_LANCZOS_32_TO_8 = _lanczos_weights(HASH_SIDE, 8)


_HALF = float(1 << _PRECISION_BITS - 1)
_SCALE = 1.0 / (1 << _PRECISION_BITS)  # a power of two: multiplying by it is exactly dividing by 2**22


def _round_clip(acc: np.ndarray) -> np.ndarray:
    """C's clip8(acc + half >> PRECISION_BITS), in place on a temporary: np.clip(np.floor((acc + half) / 2**22),
    0, 255) without its three new arrays and np.clip's Python-level dispatch."""
    acc += _HALF
    acc *= _SCALE
    np.floor(acc, out=acc)
    np.minimum(acc, 255.0, out=acc)
    return np.maximum(acc, 0.0, out=acc)


def _lanczos_32_to_9x8(small: np.ndarray) -> np.ndarray:
    """(n, 32, 32) uint8 -> (n, 8, 9): Image.resize((9, 8), LANCZOS) of each, bit for bit."""
    rows = _round_clip(small.astype(np.float64) @ _LANCZOS_32_TO_9.T)  # horizontal pass first, as Pillow here
    return _round_clip(_LANCZOS_32_TO_8 @ rows).astype(np.uint8)


# ---------------------------------------------------------------- Pillow's (w, h) -> 32x32 LANCZOS, in numpy
# The hashes' 32x32 grey image, without a PIL call per image (which recomputes the same coefficients on every
# call: docs/benchmarks.md, "Batched statistics"): the same integer coefficients and per-pass rounding as above, for
# any size. Pillow 13 does the two passes in an order it picks from the sizes; for a 32x32 output and
# inputs up to 128 px a side (the work image's bound) the rule below matches Pillow on every one of the
# 128 x 128 sizes (found by resizing noise both ways; tests pin it). Anything else, or a Pillow that
# disagrees on the probes at import, goes through Pillow itself.
LANCZOS_PORTED_SIDE = 128


@functools.cache
def _lanczos_matrix(in_size: int, out_size: int) -> np.ndarray:
    return _lanczos_weights(in_size, out_size)


def _horizontal_first(w: int, h: int) -> bool:
    return h <= HASH_SIDE or 2 * (w - HASH_SIDE // 2) >= h


def _ported_lanczos_to_32(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    x = grey.astype(np.float64)

    def horizontal(a):
        return a if w == HASH_SIDE else _round_clip(a @ _lanczos_matrix(w, HASH_SIDE).T)

    def vertical(a):
        return a if h == HASH_SIDE else _round_clip(_lanczos_matrix(h, HASH_SIDE) @ a)
    return (vertical(horizontal(x)) if _horizontal_first(w, h) else horizontal(vertical(x))).astype(np.uint8)


def port_agrees_with_pillow() -> bool:
    """Noise at sizes on both sides of the pass-order rule: a Pillow that orders or rounds differently shows here."""
    rng = np.random.default_rng(0)
    for w, h in [(7, 50), (33, 35), (34, 35), (40, 40), (47, 64), (48, 64), (79, 128), (80, 128), (128, 20)]:
        grey = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if not np.array_equal(_ported_lanczos_to_32(grey), imaging.plain_grey_32(grey)):
            return False
    return True


LANCZOS_PORT_OK = port_agrees_with_pillow()


def greys_32(greys: list) -> np.ndarray:
    """grey_32 of each grey image, stacked (n, 32, 32). Where the port applies with both passes, the images'
    first passes are written into one buffer and rounded together, then their second passes: per image, the
    rounding's ten numpy calls cost more than its arithmetic. Each value is still the image's own (integer
    products and sums, exact in any order)."""
    out = np.empty((len(greys), HASH_SIDE, HASH_SIDE), np.uint8)
    both = [i for i, g in enumerate(greys)
            if LANCZOS_PORT_OK and HASH_SIDE not in g.shape and max(g.shape) <= LANCZOS_PORTED_SIDE]
    for i in [i for i in range(len(greys)) if i not in both]:
        out[i] = grey_32(greys[i])
    if not both:
        return out
    firsts = [(h, HASH_SIDE) if _horizontal_first(w, h) else (HASH_SIDE, w) for h, w in (greys[i].shape for i in both)]
    ends = np.cumsum([h * w for h, w in firsts])
    buffer = np.empty(int(ends[-1]))
    passes = []
    for i, (h, w), end in zip(both, firsts, ends.tolist(), strict=True):
        first = buffer[end - h * w:end].reshape(h, w)
        grey = greys[i].astype(np.float64)
        if w == HASH_SIDE:  # horizontal pass first
            np.matmul(grey, _lanczos_matrix(grey.shape[1], HASH_SIDE).T, out=first)
        else:
            np.matmul(_lanczos_matrix(grey.shape[0], HASH_SIDE), grey, out=first)
        passes.append(first)
    _round_clip(buffer)
    second = np.empty((len(both), HASH_SIDE, HASH_SIDE))
    for k, first in enumerate(passes):
        if first.shape[1] == HASH_SIDE:  # the vertical pass second
            np.matmul(_lanczos_matrix(first.shape[0], HASH_SIDE), first, out=second[k])
        else:
            np.matmul(first, _lanczos_matrix(first.shape[1], HASH_SIDE).T, out=second[k])
    out[both] = _round_clip(second).astype(np.uint8)
    return out


def lanczos_to_32(grey: np.ndarray) -> np.ndarray:
    """(h, w) uint8 -> (32, 32) uint8: Image.fromarray(grey).resize((32, 32), LANCZOS), bit for bit."""
    if LANCZOS_PORT_OK and max(grey.shape) <= LANCZOS_PORTED_SIDE:
        return _ported_lanczos_to_32(grey)
    return imaging.plain_grey_32(grey)
