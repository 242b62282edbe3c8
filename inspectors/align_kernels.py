"""Compiled inner loops of alignment.py: warping each pair's second picture at a few zooms and correlating it
with the first at 3x3 whole-pixel shifts. In numpy the same work is a dense interpolation matrix product per
warp (a bilinear warp has 4 taps a pixel, the matrix 34) plus copies of sliding windows; here each pair is a
few small loops over pixels. Numba compiles them on first use and caches the machine code beside this file
(or in NUMBA_CACHE_DIR where that is read-only); the scan workers never import this module.

Every function takes a chunk of pairs and releases the GIL: alignment.py runs chunks on its own threads.
"""

import numpy as np
from numba import njit

SHIFTS = 3  # the 3x3 whole-pixel shifts each warp is compared at


@njit(cache=True, nogil=True, fastmath=True)
def _taps(n_out: int, lo: int, centre: float, scale: float, offset: float, n_in: int, low, frac):
    """Linear interpolation taps where output pixels lo..lo+n_out-1 fall after a zoom of 1/scale about `centre`
    and a shift `offset`, clamped to the edges."""
    for k in range(n_out):
        pos = (lo + k - centre) / scale + centre + offset
        pos = min(max(pos, 0.0), n_in - 1.0)
        base = min(int(np.floor(pos)), n_in - 2)
        low[k] = base
        frac[k] = np.float32(pos - base)


@njit(cache=True, nogil=True, fastmath=True)
def _warp(image, low_y, frac_y, low_x, frac_x, out, across):
    """out sampled from image at the taps: first along each line it needs (into the scratch `across`, as many
    lines as the image has), then down (the second pass is plain vector arithmetic)."""
    rows, columns = out.shape
    first = low_y[0]
    for r in range(low_y[rows - 1] + 2 - first):
        line, at = image[first + r], across[r]
        for x in range(columns):
            c = low_x[x]
            at[x] = line[c] + frac_x[x] * (line[c + 1] - line[c])
    for y in range(rows):
        top, bottom, fy, o = across[low_y[y] - first], across[low_y[y] + 1 - first], frac_y[y], out[y]
        for x in range(columns):
            o[x] = top[x] + fy * (bottom[x] - top[x])


@njit(cache=True, nogil=True, fastmath=True)
def _rotated(image, lo: int, centre: float, scale: float, cos: float, sin: float, oy: float, ox: float, out):
    """out sampled from image where its pixels lo.. fall after a rotation (cos, sin) and a zoom of 1/scale
    about `centre`, and a shift (oy, ox); linear interpolation, coordinates clamped to the edges."""
    h, w = image.shape
    for y in range(out.shape[0]):
        v = lo + y - centre
        for x in range(out.shape[1]):
            u = lo + x - centre
            px = min(max((cos * u - sin * v) / scale + centre + ox, 0.0), w - 1.0)
            py = min(max((sin * u + cos * v) / scale + centre + oy, 0.0), h - 1.0)
            c, r = min(int(px), w - 2), min(int(py), h - 2)
            fx, fy = np.float32(px - c), np.float32(py - r)
            top = image[r, c] + fx * (image[r, c + 1] - image[r, c])
            bottom = image[r + 1, c] + fx * (image[r + 1, c + 1] - image[r + 1, c])
            out[y, x] = top + fy * (bottom - top)


@njit(cache=True, nogil=True, fastmath=True)
def _sample(image, lo: int, centre: float, scale: float, cos: float, sin: float, oy: float, ox: float, low_y,
            frac_y, low_x, frac_x, out, across):
    """_rotated, taking the separable way (two passes, the second plain vector arithmetic) when unrotated;
    `across` is the separable way's scratch (image.shape[0] x out.shape[1])."""
    if sin == 0.0:
        _taps(out.shape[0], lo, centre, scale, oy, image.shape[0], low_y, frac_y)
        _taps(out.shape[1], lo, centre, scale, ox, image.shape[1], low_x, frac_x)
        _warp(image, low_y, frac_y, low_x, frac_x, out, across)
    else:
        _rotated(image, lo, centre, scale, cos, sin, oy, ox, out)


@njit(cache=True, nogil=True, fastmath=True)
def _correlate(a, warped, size: int, out, sums, squares):
    """Normalised cross-correlation of a (size x size, zero mean, unit norm) with the 3x3 windows of `warped`
    (size + 2 square), row-major by the window's top-left corner. Each line of `a` is read once and meets the
    three lines of `warped` under it at the three horizontal shifts: nine running dot products a compiler keeps
    in vector registers (an array of partial sums instead went through memory at every step, 3x slower). The
    windows' sums come from running sums down the columns. `sums` and `squares` (size + 3 x size + 2) are
    scratch space (scratch() makes them)."""
    n, area = size + SHIFTS - 1, size * size
    d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = d8 = np.float32(0.0)
    for y in range(size):
        line, r0, r1, r2 = a[y], warped[y], warped[y + 1], warped[y + 2]
        for x in range(size):
            v = line[x]
            d0 += v * r0[x]
            d1 += v * r0[x + 1]
            d2 += v * r0[x + 2]
            d3 += v * r1[x]
            d4 += v * r1[x + 1]
            d5 += v * r1[x + 2]
            d6 += v * r2[x]
            d7 += v * r2[x + 1]
            d8 += v * r2[x + 2]
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8] = d0, d1, d2, d3, d4, d5, d6, d7, d8
    sums[0], squares[0] = 0.0, 0.0
    for r in range(n):
        for x in range(n):
            v = warped[r, x]
            sums[r + 1, x] = sums[r, x] + v
            squares[r + 1, x] = squares[r, x] + v * v
    for wy in range(SHIFTS):
        for wx in range(SHIFTS):
            total, power = np.float32(0.0), np.float32(0.0)
            for x in range(wx, wx + size):
                total += sums[wy + size, x] - sums[wy, x]
                power += squares[wy + size, x] - squares[wy, x]
            out[wy * SHIFTS + wx] /= np.sqrt(max(power - total * total / area, np.float32(1e-6)))


@njit(cache=True, nogil=True)
def scratch(size: int, lines: int):
    """Scratch space for _correlate at `size` and _sample's separable warp from an image of `lines` lines: made
    once a chunk of pairs rather than on every call."""
    n = size + SHIFTS - 1
    return np.empty((n + 1, n), np.float32), np.empty((n + 1, n), np.float32), np.empty((lines, n), np.float32)


@njit(cache=True, nogil=True, fastmath=True)
def _gather(image, mirrored: bool, dy: int, dx: int, border: int, out):
    """The image (mirrored left-right where asked) moved by whole pixels (dy, dx), edges replicated, into out
    (side x side) whose pixel (border, border) is the image's (dy, dx)."""
    h, w = image.shape
    for y in range(out.shape[0]):
        r = min(max(y - border + dy, 0), h - 1)
        for x in range(out.shape[1]):
            c = min(max(x - border + dx, 0), w - 1)
            out[y, x] = image[r, w - 1 - c] if mirrored else image[r, c]


@njit(cache=True, nogil=True, fastmath=True)
def _normalised(image, lo: int, size: int, out):
    """The size x size window of image at (lo, lo), with zero mean and unit norm (content.normalised's rule)."""
    total = np.float32(0.0)
    for y in range(size):
        for x in range(size):
            total += image[lo + y, lo + x]
    mean = total / (size * size)
    squares = np.float32(0.0)
    for y in range(size):
        for x in range(size):
            v = image[lo + y, lo + x] - mean
            out[y, x] = v
            squares += v * v
    norm = max(np.sqrt(squares), np.float32(1e-6))
    for y in range(size):
        for x in range(size):
            out[y, x] /= norm


@njit(cache=True, nogil=True, fastmath=True)
def coarse(low16, i, j, mirrored, start_dy, start_dx, half_dy, half_dx, scales, cosines, sines, best, scale_at,
           angle_at, k_at):
    """Per pair (i[p], j[p]) of halved pictures low16 (n, 16, 16): picture j (mirrored where asked) moved by the
    search's shift (start_dy, start_dx whole pixels, then half_dy, half_dx of a pixel, 0 or 0.5, as it is
    sampled) and warped at each of `scales` about the centre, correlated with the
    central 12x12 window of picture i at 3x3 whole-pixel shifts. Writes the best correlation, its scale and
    its shift index (the first best, scales in order)."""
    size, border = 12, 1
    side = low16.shape[1] + 2 * border
    n_out = size + 2
    a = np.empty((size, size), np.float32)
    b = np.empty((side, side), np.float32)
    low_y, frac_y = np.empty(n_out, np.int64), np.empty(n_out, np.float32)
    low_x, frac_x = np.empty(n_out, np.int64), np.empty(n_out, np.float32)
    warped = np.empty((n_out, n_out), np.float32)
    ncc = np.empty(SHIFTS * SHIFTS, np.float32)
    sums, squares, across = scratch(size, side)
    centre = (low16.shape[1] - 1) / 2 + border
    for p in range(len(i)):
        if p == 0 or i[p] != i[p - 1]:  # pairs come grouped by their first picture: its window is made once
            _normalised(low16[i[p]], 2, size, a)
        _gather(low16[j[p]], mirrored[p], start_dy[p], start_dx[p], border, b)
        best[p] = -2.0
        for t in range(len(cosines)):
            for s in scales:
                _sample(b, 2, centre, s, cosines[t], sines[t], half_dy[p], half_dx[p], low_y, frac_y, low_x, frac_x,
                        warped, across)
                _correlate(a, warped, size, ncc, sums, squares)
                k = np.argmax(ncc)
                if ncc[k] > best[p]:
                    best[p], scale_at[p], angle_at[p], k_at[p] = ncc[k], s, t, k


@njit(cache=True, nogil=True, fastmath=True)
def refine(low, band, i, j, mirrored, dy, dx, scale, cos, sin, factors, first: int, quick_below: float, by_factor,
           grids, chosen, partial):
    """Per pair (i[p], j[p]) of the lightly blurred pictures `low` and their band-pass `band` (n, 32, 32): picture
    j (mirrored where asked) moved by (dy, dx) and warped at scale[p] x the factors about the centre, its low
    and band correlated with picture i's central 24x24 windows at 3x3 whole-pixel shifts. Writes the best sum
    of the two over the shifts per factor (by_factor) and, for the first best factor, its two grids (P, 2, 9)
    and its index (chosen). The factor `first` is tried first; where its sum is below `quick_below` the others
    are not tried (by_factor -4 there, partial[p] True)."""
    size, border = 24, 1
    lo = (low.shape[1] - size) // 2
    side = low.shape[1] + 2 * border
    n_out = size + 2
    a_low, a_band = np.empty((size, size), np.float32), np.empty((size, size), np.float32)
    b_low, b_band = np.empty((side, side), np.float32), np.empty((side, side), np.float32)
    low_y, frac_y = np.empty(n_out, np.int64), np.empty(n_out, np.float32)
    low_x, frac_x = np.empty(n_out, np.int64), np.empty(n_out, np.float32)
    warped = np.empty((n_out, n_out), np.float32)
    pair = np.empty((2, SHIFTS * SHIFTS), np.float32)
    sums, squares, across = scratch(size, side)
    centre = (low.shape[1] - 1) / 2 + border
    for p in range(len(i)):
        if p == 0 or i[p] != i[p - 1]:
            _normalised(low[i[p]], lo, size, a_low)
            _normalised(band[i[p]], lo, size, a_band)
        _gather(low[j[p]], mirrored[p], dy[p], dx[p], border, b_low)
        _gather(band[j[p]], mirrored[p], dy[p], dx[p], border, b_band)
        score = np.float32(-4.0)
        partial[p] = False
        for step in range(len(factors)):
            f = first if step == 0 else (step - 1 if step <= first else step)  # `first`, then the others in order
            s = scale[p] * factors[f]
            _sample(b_low, lo, centre, s, cos[p], sin[p], 0.0, 0.0, low_y, frac_y, low_x, frac_x, warped, across)
            _correlate(a_low, warped, size, pair[0], sums, squares)
            _sample(b_band, lo, centre, s, cos[p], sin[p], 0.0, 0.0, low_y, frac_y, low_x, frac_x, warped, across)
            _correlate(a_band, warped, size, pair[1], sums, squares)
            value = np.float32(-4.0)
            for k in range(SHIFTS * SHIFTS):
                value = max(value, pair[0, k] + pair[1, k])
            by_factor[p, f] = value
            if value > score or (value == score and f < chosen[p]):  # the first best in the factors' order
                score = value
                grids[p] = pair
                chosen[p] = f
            if step == 0 and value < quick_below:
                for other in range(len(factors)):
                    if other != f:
                        by_factor[p, other] = -4.0
                partial[p] = True
                break


@njit(cache=True, nogil=True, fastmath=True)
def worst_block(low, i, j, mirrored, dy, dx, scale, cos, sin, oy, ox, block: int, out):
    """Per pair: RMS difference, in its worst block x block block, of picture i's central 24x24 window and
    picture j (mirrored where asked) moved by whole pixels (dy, dx) then sampled at its own zoom of 1/scale[p]
    and sub-pixel shift (oy[p], ox[p]), both normalised to zero mean and unit variance."""
    size, border = 24, 1
    lo = (low.shape[1] - size) // 2
    side = low.shape[1] + 2 * border
    a, b = np.empty((size, size), np.float32), np.empty((size, size), np.float32)
    moved = np.empty((side, side), np.float32)
    low_y, frac_y = np.empty(size, np.int64), np.empty(size, np.float32)
    low_x, frac_x = np.empty(size, np.int64), np.empty(size, np.float32)
    across = scratch(size, side)[2]
    centre = (low.shape[1] - 1) / 2
    blocks = size // block
    for p in range(len(i)):
        if p == 0 or i[p] != i[p - 1]:
            _normalised(low[i[p]], lo, size, a)
        _gather(low[j[p]], mirrored[p], dy[p], dx[p], border, moved)
        _sample(moved, lo, centre, scale[p], cos[p], sin[p], border + oy[p], border + ox[p], low_y, frac_y, low_x,
                frac_x, b, across)
        _normalised(b, 0, size, b)
        worst = np.float32(0.0)
        for by in range(blocks):
            for bx in range(blocks):
                total = np.float32(0.0)
                for y in range(by * block, (by + 1) * block):
                    for x in range(bx * block, (bx + 1) * block):
                        d = (a[y, x] - b[y, x]) * size  # unit norm -> unit variance
                        total += d * d
                worst = max(worst, total / (block * block))
        out[p] = np.sqrt(worst)
