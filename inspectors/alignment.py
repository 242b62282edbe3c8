"""Alignment of candidate copies (content.py finds them): the second picture of each pair zoomed by 0.85-1.17
about the centre, shifted by up to 6 px and mirrored where the search found it so, first on 16x16 then
refined on 32x32, and compared inside the aligned window by normalised cross-correlation, of the lightly
blurred images (the layout) and of their band-pass (the detail). Normalising makes the comparison blind
to brightness and contrast; grey makes it blind to hue and saturation. Warps are separable linear
interpolations: two matrix products for a whole batch of pairs.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .content import SIDE, WINDOW, Candidates, blur, both_axes, normalised, threads
from .vector_join import one_blas_thread

LOW_BLUR = 0.7  # px: the layout comparison ignores JPEG noise and resampling
BAND_BLUR = 2.5  # px: the detail is the lightly blurred image minus this blur of it
SCALES = (0.87, 0.93, 1.0, 1.075, 1.15)  # coarse steps; refined 5 % either way: zooms of 0.83-1.21
COARSE_SHIFT = 1  # px on the 16x16 image around the search's shift (which is within 1.5 px at 32)
REFINE_SCALE = 1.025  # the refinement tries the coarse scale and one and two of these steps either way
REFINE_FACTORS = tuple(REFINE_SCALE ** k for k in (-2, -1, 0, 1, 2))
REFINE_FROM = 0.8  # coarse layout correlation below this: not a copy, no refinement
PRIOR_MAX = 2  # px of 16: the search's shift is trusted up to 4 px (of 32), the alignment looks 2 px further


@dataclass(frozen=True)
class Alignment:
    zoom: np.ndarray  # how much larger the second image shows the scene than the first (1.1: zoomed in 10 %)
    dx: np.ndarray  # px (of 32) the second image's content sits right of the first's, after the zoom
    dy: np.ndarray  # px it sits lower
    mirrored: np.ndarray  # bool: compared with the second image mirrored
    layout: np.ndarray  # correlation of the lightly blurred windows: the picture's layout agrees
    detail: np.ndarray  # correlation of their band-pass: the fine detail agrees too
    worst: np.ndarray  # RMS difference of the normalised windows in their worst 8x8 block (of 9), in stds:
    # a copy differs evenly (noise, resampling); two pictures sharing only part of the scene do not


def _interpolation(n_in: int, positions: np.ndarray) -> np.ndarray:
    """(..., m, n_in) linear interpolation weights at `positions` (..., m), clamped to the edges: M @ x
    samples x there. Warps are separable, so a warp of many images is two matrix products."""
    pos = np.clip(positions, 0, n_in - 1)
    low = np.minimum(np.floor(pos).astype(np.int64), n_in - 2)
    frac = (pos - low).astype(np.float32)
    m = np.zeros((*pos.shape, n_in), np.float32)
    np.put_along_axis(m, low[..., None], (1 - frac)[..., None], axis=-1)
    np.put_along_axis(m, low[..., None] + 1, frac[..., None], axis=-1)
    return m


def _warp(images: np.ndarray, centre: float, lo: int, hi: int, scale: float, oy: float, ox: float) -> np.ndarray:
    """images (P, H, W) sampled where the first image's pixels lo..hi-1 (each axis) fall after a zoom of
    1/scale about `centre` and a shift (oy, ox), in the images' own pixel coordinates."""
    r = np.arange(lo, hi, dtype=np.float64)
    wy = _interpolation(images.shape[1], (r - centre) / scale + centre + oy)
    wx = _interpolation(images.shape[2], (r - centre) / scale + centre + ox)
    return both_axes(images, wy, wx)  # one warp for all: two plain products, not a stack of small ones


def _correlations(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Normalised cross-correlation of each a (P, size*size, zero mean, unit norm) with every size x size
    window of b (P, H, W) -> (P, windows), windows in row-major order of their top-left corner."""
    if size <= 16:  # small windows: copying them out and one batched product is faster
        windows = np.lib.stride_tricks.sliding_window_view(b, (size, size), axis=(1, 2))
        windows = windows.reshape(len(b), -1, size * size)
        sums = windows.sum(axis=2)
        norms = np.sqrt(np.maximum(np.einsum("pwk,pwk->pw", windows, windows) - sums * sums / (size * size), 1e-6))
        return np.matmul(windows, a[:, :, None])[:, :, 0] / norms
    a = a.reshape(len(a), size, size)
    ny, nx = b.shape[1] - size + 1, b.shape[2] - size + 1
    rows = np.stack([b[:, :, x:x + size].sum(axis=2) for x in range(nx)], axis=2)  # (P, H, nx)
    rows2 = np.stack([np.einsum("pij,pij->pi", b[:, :, x:x + size], b[:, :, x:x + size]) for x in range(nx)], axis=2)
    out = np.empty((len(b), ny * nx), np.float32)
    for y in range(ny):
        sums, squares = rows[:, y:y + size].sum(axis=1), rows2[:, y:y + size].sum(axis=1)  # (P, nx)
        for x in range(nx):
            dots = np.einsum("pij,pij->p", b[:, y:y + size, x:x + size], a)
            norms = np.sqrt(np.maximum(squares[:, x] - sums[:, x] * sums[:, x] / (size * size), 1e-6))
            out[:, y * nx + x] = dots / norms
    return out


def _halved(images: np.ndarray) -> np.ndarray:
    """Each image's 2x2 means (a strided sum: a reshaped mean is several times slower)."""
    return (images[:, 0::2, 0::2] + images[:, 1::2, 0::2] + images[:, 0::2, 1::2] + images[:, 1::2, 1::2]) * 0.25


def _moved(images: np.ndarray, dy: np.ndarray, dx: np.ndarray, border: int, side: int) -> np.ndarray:
    """Each image (P, H, W) moved by its own whole-pixel (dy, dx), edges replicated, as (P, side, side) whose
    pixel (border, border) is the image's (dy, dx): one gather, no padded copy."""
    t = np.arange(side) - border
    rows = np.clip(t[None, :] + dy[:, None], 0, images.shape[1] - 1)
    columns = np.clip(t[None, :] + dx[:, None], 0, images.shape[2] - 1)
    return images[np.arange(len(images))[:, None, None], rows[:, :, None], columns[:, None, :]]


def align(g: np.ndarray, pairs: Candidates, refine: bool = True, chunk: int = 2048) -> Alignment:
    """Align image j of each candidate pair onto image i (g: (n, 32, 32) greys), starting from the shift
    the search found, and measure how well they agree. Without `refine`, the coarse 16x16 alignment only
    (its layout correlation; detail -1). Chunks run on threads: numpy's products release the GIL."""
    fields = (pairs.i, pairs.j, pairs.mirrored, pairs.dx, pairs.dy)
    starts = range(0, len(pairs.i), chunk)
    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads()) as pool:
        out = list(pool.map(lambda lo: _align_chunk(g, *(f[lo:lo + chunk] for f in fields), refine=refine), starts))
    if not out:
        empty = np.empty(0, np.float32)
        return Alignment(empty, empty, empty, np.empty(0, bool), empty, empty, empty)
    return Alignment(*(np.concatenate(parts) for parts in zip(*out, strict=True)))


def _align_chunk(g, i, j, mirrored, prior_dx, prior_dy, refine=True):
    pictures, at = np.unique(np.r_[i, j], return_inverse=True)  # a picture in many pairs is blurred once
    low = blur(g[pictures], LOW_BLUR)
    band = (low - blur(low, BAND_BLUR))[at]
    low = low[at]
    p = len(i)
    a_low, a_band = low[:p], band[:p]
    b_low = np.where(mirrored[:, None, None], low[p:, :, ::-1], low[p:])
    b_band = np.where(mirrored[:, None, None], band[p:, :, ::-1], band[p:])
    # coarse: 16x16, every scale, whole pixels (of 16) within COARSE_SHIFT of the search's shift; the
    # pairs are moved by that shift first, so one warp serves them all at a scale
    a16, b16 = _halved(a_low), _halved(b_low)
    start_dy = np.clip(np.round(prior_dy / 2), -PRIOR_MAX, PRIOR_MAX).astype(np.int64)
    start_dx = np.clip(np.round(prior_dx / 2), -PRIOR_MAX, PRIOR_MAX).astype(np.int64)
    r = COARSE_SHIFT
    b16 = _moved(b16, start_dy, start_dx, r, 16 + 2 * r)  # r px of border: pixel 0 is the original's -r
    lo16, hi16 = 2, 14
    a_win = normalised(a16[:, lo16:hi16, lo16:hi16])
    best = np.full(p, -2.0, np.float32)
    scale_at, dy, dx = np.ones(p, np.float32), np.zeros(p, np.int64), np.zeros(p, np.int64)
    for s in SCALES:
        ncc = _correlations(a_win, _warp(b16, 7.5 + r, lo16, hi16 + 2 * r, s, 0, 0), hi16 - lo16)
        k = np.argmax(ncc, axis=1)
        value = ncc[np.arange(p), k]
        better = value > best
        best[better], scale_at[better] = value[better], s
        dy[better], dx[better] = k[better] // (2 * r + 1) - r, k[better] % (2 * r + 1) - r
    dy, dx = 2 * (start_dy + dy), 2 * (start_dx + dx)
    # refine on 32x32 where the coarse layout could be a copy's: the coarse scale and its neighbours, whole
    # pixels within 1 of the coarse shift (pairs moved by their coarse shift first, so one warp serves a
    # scale), then the peak between pixels from a parabola through its neighbours
    layout, detail = best.copy(), np.full(p, -1.0, np.float32)
    zoom_scale, out_dy, out_dx = scale_at.copy(), dy.astype(np.float32), dx.astype(np.float32)
    todo = np.flatnonzero(best >= REFINE_FROM) if refine else np.empty(0, np.int64)
    if not len(todo):
        return (1 / zoom_scale, np.where(mirrored, -out_dx, out_dx), out_dy, mirrored.astype(bool), layout, detail,
                np.full(p, 2.0, np.float32))
    lo, hi = (SIDE - WINDOW) // 2, (SIDE + WINDOW) // 2
    a_lw, a_bw = normalised(a_low[todo, lo:hi, lo:hi]), normalised(a_band[todo, lo:hi, lo:hi])
    moved = [_moved(b[todo], dy[todo], dx[todo], 1, SIDE + 2)
             for b in (b_low, b_band)]  # 1 px of border: pixel 0 of a moved image is the original's -1
    score = np.full(len(todo), -4.0, np.float32)
    grids = np.zeros((len(todo), 2, 9), np.float32)
    by_factor = np.zeros((len(todo), len(REFINE_FACTORS)), np.float32)  # for the zoom between the steps
    fine_scale = scale_at[todo].copy()
    for s in np.unique(scale_at[todo]):
        members = np.flatnonzero(scale_at[todo] == s)
        for f, factor in enumerate(REFINE_FACTORS):
            pair = np.stack([_correlations(a[members], _warp(b[members], 15.5 + 1, lo, hi + 2, s * factor, 0, 0),
                                           WINDOW) for a, b in ((a_lw, moved[0]), (a_bw, moved[1]))], axis=1)
            value = pair.sum(axis=1).max(axis=1)
            by_factor[members, f] = value
            better = value > score[members]
            at = members[better]
            score[at], fine_scale[at], grids[at] = value[better], s * factor, pair[better]
    steps, _ = _parabola(by_factor[:, None, :], np.zeros(len(todo), np.int64), by_factor.argmax(axis=1), axis=1)
    fine_scale *= REFINE_SCALE ** steps.astype(np.float32)
    both = grids.sum(axis=1).reshape(-1, 3, 3)
    k = both.reshape(len(todo), 9).argmax(axis=1)
    ky, kx = k // 3, k % 3
    peak_y, gain_y = _parabola(both, ky, kx, axis=0)
    peak_x, gain_x = _parabola(both, ky, kx, axis=1)
    for out, g in ((layout, grids[:, 0]), (detail, grids[:, 1])):
        g = g.reshape(-1, 3, 3)
        out[todo] = np.minimum(g[np.arange(len(todo)), ky, kx] + _parabola(g, ky, kx, 0)[1]
                               + _parabola(g, ky, kx, 1)[1], 1.0)
    zoom_scale[todo] = fine_scale
    out_dy[todo] += ky - 1 + peak_y
    out_dx[todo] += kx - 1 + peak_x
    worst = np.full(p, 2.0, np.float32)
    worst[todo] = _worst_block(a_low[todo, lo:hi, lo:hi], moved[0], fine_scale, ky - 1 + peak_y, kx - 1 + peak_x)
    return 1 / zoom_scale, np.where(mirrored, -out_dx, out_dx), out_dy, mirrored.astype(bool), layout, detail, worst


BLOCK = 8  # px: the window's 3x3 blocks, for where a pair differs


def _worst_block(a: np.ndarray, moved: np.ndarray, scale: np.ndarray, oy: np.ndarray, ox: np.ndarray) -> np.ndarray:
    """RMS difference, in its worst block, of window a (P, 24, 24) and the moved image b (1 px border) sampled
    at each pair's own scale and sub-pixel shift, both normalised to zero mean and unit variance."""
    lo, hi = (SIDE - WINDOW) // 2, (SIDE + WINDOW) // 2
    r = np.arange(lo, hi, dtype=np.float64)[None, :]
    wy = _interpolation(moved.shape[1], (r - 15.5) / scale[:, None] + 15.5 + 1 + oy[:, None])
    wx = _interpolation(moved.shape[2], (r - 15.5) / scale[:, None] + 15.5 + 1 + ox[:, None])
    b = wy @ moved @ wx.transpose(0, 2, 1)
    diff = (normalised(a) - normalised(b)).reshape(-1, WINDOW, WINDOW) * WINDOW  # unit norm -> unit variance
    blocks = (diff ** 2).reshape(len(a), WINDOW // BLOCK, BLOCK, WINDOW // BLOCK, BLOCK).mean(axis=(2, 4))
    return np.sqrt(blocks.reshape(len(a), -1).max(axis=1))


def _parabola(grid: np.ndarray, ky: np.ndarray, kx: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(offset, gain) of the peak of a parabola through the best cell (ky, kx) of each grid (P, rows, columns)
    and its two neighbours along `axis`; (0, 0) where the best cell is on the grid's edge along it."""
    rows = np.arange(len(grid))
    k, n = (ky, grid.shape[1]) if axis == 0 else (kx, grid.shape[2])
    inside = (k > 0) & (k < n - 1)
    before, after = np.clip(k - 1, 0, n - 1), np.clip(k + 1, 0, n - 1)
    a = grid[rows, before, kx] if axis == 0 else grid[rows, ky, before]
    b = grid[rows, ky, kx]
    c = grid[rows, after, kx] if axis == 0 else grid[rows, ky, after]
    curve = a - 2 * b + c
    ok = inside & (curve < -1e-6)
    offset = np.where(ok, (a - c) / np.where(ok, 2 * curve, 1), 0.0)
    return np.clip(offset, -0.5, 0.5), np.where(ok, -(a - c) * offset / 4, 0.0)


def affine_onto(zoom: float, dx: float, dy: float, mirrored: bool, size_a: tuple, size_b: tuple) -> tuple:
    """PIL AFFINE coefficients that draw picture b in picture a's frame (a's size), given an alignment of b
    onto a: output pixel (x, y) of the a-sized canvas samples b at (c0 x + c1 y + c2, c3 x + c4 y + c5).
    Thumbnails are squeezed to 32x32, so each axis scales by its own side."""
    (wa, ha), (wb, hb) = size_a, size_b
    half = SIDE / 2
    sign = -1.0 if mirrored else 1.0
    ax = sign * zoom * wb / wa
    cx = (half * (1 + zoom) + dx) * wb / SIDE if mirrored else (half * (1 - zoom) + dx) * wb / SIDE
    ay = zoom * hb / ha
    cy = (half * (1 - zoom) + dy) * hb / SIDE
    return (ax, 0.0, cx, 0.0, ay, cy)
