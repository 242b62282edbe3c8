"""Alignment of candidate copies (content.py finds them): the second picture of each pair zoomed by 0.85-1.17
about the centre, shifted by up to 6 px and mirrored where the search found it so, first on 16x16 then
refined on 32x32, and compared inside the aligned window by normalised cross-correlation, of the lightly
blurred images (the layout) and of their band-pass (the detail). Normalising makes the comparison blind
to brightness and contrast; grey makes it blind to hue and saturation. The warps (linear interpolation)
and correlations of each pair are compiled loops (align_kernels.py); what is shared by many pairs (blurs,
band-pass, normalised windows) stays in numpy.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .content import SIDE, Candidates, blur, threads
from .vector_join import one_blas_thread

LOW_BLUR = 0.7  # px: the layout comparison ignores JPEG noise and resampling
BAND_BLUR = 2.5  # px: the detail is the lightly blurred image minus this blur of it
SCALES = (0.87, 0.93, 1.0, 1.075, 1.15)  # coarse steps; refined 5 % either way: zooms of 0.83-1.21
ANGLES = (-6.0, 6.0)  # degrees the coarse alignment also turns the second picture by: rotations of 3-10 degrees
# come within 3 of one (or of none), which moves a 16 px picture's corners by less than half a pixel
TURN_MARGIN = 0.05  # a turned alignment replaces the unturned one only when its refined score (layout + detail)
# is this much higher: among look-alikes a turn wins by chance (copies32 and digits32: 0.05 keeps every copy
# the unturned alignment found; 0.02 and 0 lose some, to the crowd)
COARSE_SHIFT = 1  # px on the 16x16 image around the search's shift (which is within 1.5 px at 32)
REFINE_SCALE = 1.025  # the refinement tries the coarse scale and one and two of these steps either way
REFINE_FACTORS = tuple(REFINE_SCALE ** k for k in (-2, -1, 0, 1, 2))
REFINE_FROM = 0.8  # coarse layout correlation below this: not a copy, no refinement
QUICK_BELOW = 1.5  # layout + detail at the coarse zoom below this: the refinement stops there (`partial`); a copy
# sums 1.72 or more, and copies.content_pairs finishes whatever its verdicts need (docs/benchmarks.md)
PHASES = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5))  # px of 16 (dy, dx): the coarse grid tried moved by each
PRIOR_MAX = 2  # px of 16: the search's shift is trusted up to 4 px (of 32), the alignment looks 2 px further
BLOCK = 8  # px: the window's 3x3 blocks, for where a pair differs
PICTURE_CHUNK = 4096  # pictures blurred at once: the products stay large, the temporaries small


@dataclass(frozen=True)
class Alignment:
    zoom: np.ndarray  # how much larger the second image shows the scene than the first (1.1: zoomed in 10 %)
    dx: np.ndarray  # px (of 32) the second image's content sits right of the first's, after the zoom
    dy: np.ndarray  # px it sits lower
    mirrored: np.ndarray  # bool: compared with the second image mirrored
    layout: np.ndarray  # correlation of the lightly blurred windows: the picture's layout agrees
    detail: np.ndarray  # correlation of their band-pass: the fine detail agrees too
    rotation: np.ndarray  # degrees (0 or one of ANGLES) the second image is sampled turned by: a copy turned
    # counter-clockwise reads negative
    worst: np.ndarray  # RMS difference of the normalised windows in their worst 8x8 block (of 9), in stds:
    # a copy differs evenly (noise, resampling); two pictures sharing only part of the scene do not
    partial: np.ndarray  # bool: refined at the coarse zoom only (align's `quick_below`)
    start: np.ndarray  # (n, 2, 4) float32: the coarse alignments (dy, dx, scale, angle) the refinement started
    # from, unturned then turned (NaN where not refined): `finish` takes a partial pair on from there


def _halved(images: np.ndarray) -> np.ndarray:
    """Each image's 2x2 means (a strided sum: a reshaped mean is several times slower)."""
    return (images[:, 0::2, 0::2] + images[:, 1::2, 0::2] + images[:, 0::2, 1::2] + images[:, 1::2, 1::2]) * 0.25


def prepared(g: np.ndarray, pool, halved: bool = True) -> tuple[np.ndarray, ...]:
    """(low, band, low halved to 16x16) of every picture, blurred once for all the pairs it is in; (low, band)
    without `halved` (`finish` has no coarse step)."""
    low, band = np.empty_like(g), np.empty_like(g)

    def run(lo):
        part = blur(g[lo:lo + PICTURE_CHUNK], LOW_BLUR)
        low[lo:lo + PICTURE_CHUNK], band[lo:lo + PICTURE_CHUNK] = part, part - blur(part, BAND_BLUR)

    list(pool.map(run, range(0, len(g), PICTURE_CHUNK)))
    return (low, band) + ((np.ascontiguousarray(_halved(low)),) if halved else ())


def align(g: np.ndarray, pairs: Candidates, refine: bool = True, chunk: int = 4096,
          quick_below: float | None = None) -> Alignment:
    """Align image j of each candidate pair onto image i (g: (n, 32, 32) greys), starting from the shift
    the search found, and measure how well they agree. Without `refine`, the coarse 16x16 alignment only
    (its layout correlation; detail -1). With `quick_below`, a pair whose layout + detail at the coarse zoom
    sums below it is not refined further (`partial`): far from a copy, its measures only a little low."""
    return _chunked(g, pairs, None, chunk, refine=refine, quick_below=quick_below)


def finish(g: np.ndarray, pairs: Candidates, start: np.ndarray, chunk: int = 4096) -> Alignment:
    """The full refinement of pairs that `align` left partial, from the coarse alignments it started from
    (its `start` for those pairs): what align without `quick_below` finds, without the coarse search again."""
    return _chunked(g, pairs, start, chunk)


def _chunked(g, pairs, start, chunk, **options) -> Alignment:
    """_align_chunk (or _finish_chunk, given the starts) over chunks of the pairs, on threads: the kernels
    release the GIL."""
    if not len(pairs.i):
        empty = np.empty(0, np.float32)
        return Alignment(empty, empty, empty, np.empty(0, bool), empty, empty, empty, empty, np.empty(0, bool),
                         np.empty((0, 2, 4), np.float32))
    from . import align_kernels  # noqa: F401  (imported once here, before the threads ask for it)

    fields = (pairs.i, pairs.j, pairs.mirrored) + ((pairs.dx, pairs.dy) if start is None else (start,))
    run = _align_chunk if start is None else _finish_chunk
    chunk = min(chunk, -(-len(pairs.i) // threads()))  # a few pairs (the finishing step's) still on every thread
    with one_blas_thread(), ThreadPoolExecutor(max_workers=threads()) as pool:
        pictures = prepared(g, pool, halved=start is None)
        out = list(pool.map(lambda lo: run(*pictures, *(f[lo:lo + chunk] for f in fields), **options),
                            range(0, len(pairs.i), chunk)))
    return Alignment(*(np.concatenate(parts) for parts in zip(*out, strict=True)))


def _align_chunk(low, band, low16, i, j, mirrored, prior_dx, prior_dy, refine=True, quick_below=None):
    from . import align_kernels as kernels  # numba: only where pairs are aligned, never in the app's first pages

    i, j, mirrored = np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(mirrored, bool)
    pair = (i, j, mirrored)
    # coarse: 16x16, a grid of whole pixels (of 16) within COARSE_SHIFT of the search's shift (kept to half a pixel
    # of 16: an odd shift of 32 rounded would leave every grid point off); unturned, and turned by each of the
    # ANGLES. The grid's steps are 2 px of 32: a copy 1 px off every point of it correlates low at 16 px where it
    # has fine texture, or best at a wrong zoom the refinement (5 % either way) cannot get back from; so the grid is
    # tried at each half-pixel phase at the unzoomed scale, then at every scale at the phase that won
    start_dy = np.clip(np.asarray(prior_dy, np.float64) / 2, -PRIOR_MAX, PRIOR_MAX)
    start_dx = np.clip(np.asarray(prior_dx, np.float64) / 2, -PRIOR_MAX, PRIOR_MAX)
    phase_dy, phase_dx = np.full(len(i), PHASES[0][0]), np.full(len(i), PHASES[0][1])
    unzoomed = _coarse(kernels, low16, *pair, start_dy + phase_dy, start_dx + phase_dx, (0.0,), (1.0,))
    for phase in PHASES[1:]:
        better = _keep_better(unzoomed, _coarse(kernels, low16, *pair, start_dy + phase[0], start_dx + phase[1],
                                                (0.0,), (1.0,)))
        phase_dy[better], phase_dx[better] = phase
    # the other scales at the phase that won (the unzoomed one is known already), the first best in their order
    won, middle = (start_dy + phase_dy, start_dx + phase_dx), SCALES.index(1.0)
    plain = _coarse(kernels, low16, *pair, *won, (0.0,), SCALES[:middle])
    _keep_better(plain, unzoomed)
    _keep_better(plain, _coarse(kernels, low16, *pair, *won, (0.0,), SCALES[middle + 1:]))
    # turned at the scale and phase the unturned alignment found only: the refinement looks 5 % either way
    turned = {key: np.empty_like(value) for key, value in plain.items()}
    for scale in np.unique(plain["scale"]):
        rows = np.flatnonzero(plain["scale"] == scale)
        found = _coarse(kernels, low16, *(x[rows] for x in pair), start_dy[rows] + phase_dy[rows],
                        start_dx[rows] + phase_dx[rows], ANGLES, (scale,))
        for key in turned:
            turned[key][rows] = found[key]
    use = turned["best"] > plain["best"]
    coarse = {key: np.where(use, turned[key], plain[key]) for key in plain}
    p = len(i)
    out = {"zoom": coarse["scale"], "dy": coarse["dy"].astype(np.float32), "dx": coarse["dx"].astype(np.float32),
           "layout": coarse["best"], "detail": np.full(p, -1.0, np.float32), "angle": coarse["angle"],
           "worst": np.full(p, 2.0, np.float32)}
    # refine on 32x32 where the coarse layout could be a copy's, unturned, and turned too where that aligned
    # better at 16x16 (a small turn can win there by chance: the finer alignment decides)
    todo = np.flatnonzero(coarse["best"] >= REFINE_FROM) if refine else np.empty(0, np.int64)
    start = np.full((p, 2, 4), np.nan, np.float32)
    for k, (found, rows) in enumerate(((plain, todo), (turned, todo[use[todo]]))):
        start[rows, k] = np.stack([found[key][rows] for key in ("dy", "dx", "scale", "angle")], axis=1)
    partial = _from_starts(kernels, low, band, pair, start, todo, out, quick_below)
    return _fields(out, mirrored, partial, start)


def _finish_chunk(low, band, i, j, mirrored, start):
    from . import align_kernels as kernels

    i, j, mirrored = np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(mirrored, bool)
    out = {key: np.empty(len(i), np.float32) for key in ("zoom", "dy", "dx", "layout", "detail", "angle", "worst")}
    _from_starts(kernels, low, band, (i, j, mirrored), start, np.arange(len(i)), out)
    return _fields(out, mirrored, np.zeros(len(i), bool), start)


def _from_starts(kernels, low, band, pair, start, rows, out: dict, quick_below=None) -> np.ndarray:
    """Refine the rows from their unturned start, and from their turned one where it has one; the better (the
    turned by TURN_MARGIN) goes into `out`. Returns where either stopped early (`partial`)."""
    score, partial = np.full(len(start), -np.inf, np.float32), np.zeros(len(start), bool)
    for k, margin in ((0, 0.0), (1, TURN_MARGIN)):
        at = rows[~np.isnan(start[rows, k, 0])]
        if not len(at):
            continue
        dy, dx, scale, angle = (np.ascontiguousarray(start[at, k, c]) for c in range(4))
        found = _refined(kernels, low, band, *(x[at] for x in pair), dy.astype(np.int64), dx.astype(np.int64), scale,
                         angle, quick_below=quick_below)
        better = found["score"] > score[at] + margin
        for key in out:
            out[key][at[better]] = found[key][better]
        score[at[better]] = found["score"][better]
        partial[at] |= found["partial"]
    return partial


def _fields(out: dict, mirrored, partial, start) -> tuple:
    """Alignment's fields, in its order, from the alignment of picture j onto i at scale `zoom`."""
    return (1 / out["zoom"], np.where(mirrored, -out["dx"], out["dx"]), out["dy"], mirrored, out["layout"],
            out["detail"], out["angle"], out["worst"], partial, start)


def _keep_better(into: dict, found: dict) -> np.ndarray:
    """Where `found` (a _coarse result) scores strictly higher, its rows replace those of `into`; returns where."""
    better = found["best"] > into["best"]
    for key in into:
        into[key][better] = found[key][better]
    return better


def _coarse(kernels, low16, i, j, mirrored, start_dy, start_dx, angles, scales) -> dict:
    """The best of the coarse alignments at `angles` (degrees) and `scales` around the start (px of 16, whole or
    half): its correlation, scale, angle and shift (whole px of 32)."""
    p, r = len(i), COARSE_SHIFT
    best, scale, k, turn = np.empty(p, np.float32), np.ones(p, np.float32), np.zeros(p, np.int64), np.zeros(p, np.int64)
    cosines, sines = _turns(angles)
    whole_dy, whole_dx = np.floor(start_dy).astype(np.int64), np.floor(start_dx).astype(np.int64)
    kernels.coarse(low16, i, j, mirrored, whole_dy, whole_dx, (start_dy - whole_dy).astype(np.float32),
                   (start_dx - whole_dx).astype(np.float32), np.array(scales, np.float32), cosines, sines, best,
                   scale, turn, k)
    return {"best": best, "scale": scale, "angle": np.array(angles, np.float32)[turn],
            "dy": np.round(2 * (start_dy + k // (2 * r + 1) - r)).astype(np.int64),
            "dx": np.round(2 * (start_dx + k % (2 * r + 1) - r)).astype(np.int64)}


def _turns(angles) -> tuple[np.ndarray, np.ndarray]:
    """(cosines, sines) of angles in degrees, exactly (1, 0) for 0: the kernels take the separable way there."""
    radians = np.radians(np.asarray(angles, np.float64))
    return np.where(radians == 0, 1.0, np.cos(radians)), np.where(radians == 0, 0.0, np.sin(radians))


def _refined(kernels, low, band, i, j, mirrored, dy, dx, scale, angle, quick_below=None) -> dict:
    """The refined alignment of each pair from its coarse one: the coarse scale and its neighbours, whole pixels
    within 1 of the coarse shift, then the peak between pixels from a parabola through its neighbours (the
    coarse scale alone where its sum is below `quick_below`)."""
    n = len(i)
    cos, sin = _turns(angle)
    factors = np.array(REFINE_FACTORS, np.float32)
    by_factor = np.empty((n, len(factors)), np.float32)  # for the zoom between the steps
    grids, chosen, partial = np.empty((n, 2, 9), np.float32), np.zeros(n, np.int64), np.zeros(n, bool)
    kernels.refine(low, band, i, j, mirrored, dy, dx, scale, cos, sin, factors, REFINE_FACTORS.index(1.0),
                   -np.inf if quick_below is None else quick_below, by_factor, grids, chosen, partial)
    steps = _peak(by_factor[:, None, :], np.zeros(n, np.int64), by_factor.argmax(axis=1), axis=1)
    fine_scale = (scale * factors[chosen] * REFINE_SCALE ** steps).astype(np.float32)
    both = grids.sum(axis=1).reshape(-1, 3, 3)
    k = both.reshape(n, 9).argmax(axis=1)
    ky, kx = k // 3, k % 3
    peak_y, peak_x = _peak(both, ky, kx, axis=0), _peak(both, ky, kx, axis=1)
    # each measure where the alignment puts the peak, not at its own parabola's top (which may lie beyond the
    # cell, far beyond it where the parabola is nearly flat)
    layout, detail = (np.minimum(g[np.arange(n), ky, kx] + _rise(g, ky, kx, 0, peak_y) + _rise(g, ky, kx, 1, peak_x),
                                 1.0).astype(np.float32) for g in (grids[:, 0].reshape(-1, 3, 3),
                                                                   grids[:, 1].reshape(-1, 3, 3)))
    oy, ox = (ky - 1 + peak_y).astype(np.float32), (kx - 1 + peak_x).astype(np.float32)
    worst = np.empty(n, np.float32)
    kernels.worst_block(low, i, j, mirrored, dy, dx, fine_scale, cos, sin, oy, ox, BLOCK, worst)
    return {"score": by_factor.max(axis=1), "zoom": fine_scale, "dy": dy + oy, "dx": dx + ox, "layout": layout,
            "detail": detail, "angle": angle, "worst": worst, "partial": partial}


def _neighbours(grid: np.ndarray, ky: np.ndarray, kx: np.ndarray, axis: int):
    """(before, cell, after, inside): the values either side of the cell (ky, kx) of each grid along `axis`, and
    whether it has both."""
    rows = np.arange(len(grid))
    k, n = (ky, grid.shape[1]) if axis == 0 else (kx, grid.shape[2])
    inside = (k > 0) & (k < n - 1)
    before, after = np.clip(k - 1, 0, n - 1), np.clip(k + 1, 0, n - 1)
    a = grid[rows, before, kx] if axis == 0 else grid[rows, ky, before]
    c = grid[rows, after, kx] if axis == 0 else grid[rows, ky, after]
    return a, grid[rows, ky, kx], c, inside


def _rise(grid: np.ndarray, ky: np.ndarray, kx: np.ndarray, axis: int, offset: np.ndarray) -> np.ndarray:
    """How much the parabola through the cell (ky, kx) and its two neighbours along `axis` rises from the cell
    to `offset` (in cells, within +-0.5); 0 where the cell is on the edge."""
    a, b, c, inside = _neighbours(grid, ky, kx, axis)
    return np.where(inside, (c - a) / 2 * offset + (a - 2 * b + c) / 2 * offset ** 2, 0.0)


def _peak(grid: np.ndarray, ky: np.ndarray, kx: np.ndarray, axis: int) -> np.ndarray:
    """Where the parabola through the best cell (ky, kx) of each grid (P, rows, columns) and its two neighbours
    along `axis` peaks, in cells from it, within +-0.5; 0 where the cell is on the grid's edge along it or the
    parabola is not concave."""
    a, b, c, inside = _neighbours(grid, ky, kx, axis)
    curve = a - 2 * b + c
    ok = inside & (curve < -1e-6)
    return np.clip(np.where(ok, (a - c) / np.where(ok, 2 * curve, 1), 0.0), -0.5, 0.5)


def affine_onto(zoom: float, dx: float, dy: float, mirrored: bool, size_a: tuple, size_b: tuple,
                rotation: float = 0.0) -> tuple:
    """PIL AFFINE coefficients that draw picture b in picture a's frame (a's size), given an alignment of b
    onto a: output pixel (x, y) of the a-sized canvas samples b at (c0 x + c1 y + c2, c3 x + c4 y + c5).
    Thumbnails are squeezed to 32x32, so each axis scales by its own side. In the thumbnails' frame, b's point
    is zoom x (the turn by `rotation` of a's point less the centre) + the centre + (dx, dy), its x mirrored
    about the centre where b was compared mirrored."""
    (wa, ha), (wb, hb) = size_a, size_b
    half = SIDE / 2
    cos, sin = (1.0, 0.0) if not rotation else (float(np.cos(np.radians(rotation))),
                                                float(np.sin(np.radians(rotation))))
    m = -1.0 if mirrored else 1.0
    to_a_x, to_a_y, to_b_x, to_b_y = SIDE / wa, SIDE / ha, wb / SIDE, hb / SIDE
    c0, c1 = to_b_x * m * zoom * cos * to_a_x, -to_b_x * m * zoom * sin * to_a_y
    c2 = to_b_x * (m * zoom * (sin - cos) * half + half + dx)
    c3, c4 = to_b_y * zoom * sin * to_a_x, to_b_y * zoom * cos * to_a_y
    c5 = to_b_y * (-zoom * (sin + cos) * half + half + dy)
    return (c0, c1, c2, c3, c4, c5)


def compile_kernels() -> None:
    """Align made-up copies (shifted, mirrored), so that numba compiles every kernel a scan runs (the coarse step,
    the refinement and the worst block: a pair that aligns coarsely below REFINE_FROM never reaches the last
    two) and caches them now, at set-up, rather than during a user's first scan."""
    rng = np.random.default_rng(0)
    texture = blur(rng.uniform(0, 255, (1, SIDE + 2, SIDE + 2)).astype(np.float32), 1.5)[0]
    g = np.stack([texture[1:-1, 1:-1], texture[:-2, 2:], texture[1:-1, -2:0:-1]])  # it, moved 1 px, mirrored
    pairs = Candidates(np.array([0, 0], np.int64), np.array([1, 2], np.int64), np.ones(2, np.float32),
                       np.array([False, True]), np.zeros(2, np.int64), np.zeros(2, np.int64))
    aligned = align(g, pairs)
    if not (aligned.detail > -1).all():  # the refinement did not run: its kernels would compile at a user's scan
        raise RuntimeError(f"compile_kernels: made-up copies did not reach the refinement ({aligned.layout})")
