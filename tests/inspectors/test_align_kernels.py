"""The compiled alignment loops against plain numpy statements of what they compute."""

import numpy as np
import pytest

from inspectors import align_kernels as K


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_correlate_is_the_normalised_cross_correlation_at_each_of_the_3x3_shifts(rng):
    size = 24
    a = rng.normal(size=(size, size)).astype(np.float32)
    a = (a - a.mean()) / np.linalg.norm(a - a.mean())
    warped = rng.uniform(0, 255, (size + 2, size + 2)).astype(np.float32)
    out = np.empty(9, np.float32)
    sums, squares, _ = K.scratch(size, size + 2)
    for scratch in (sums, squares):
        scratch[:] = 1e6  # what a former pair left there must not count
    K._correlate(a, warped, size, out, sums, squares)
    for wy in range(3):
        for wx in range(3):
            window = warped[wy:wy + size, wx:wx + size].astype(np.float64)
            centred = window - window.mean()
            expected = (a * centred).sum() / np.linalg.norm(centred)
            assert out[wy * 3 + wx] == pytest.approx(expected, abs=1e-4)


def test_a_window_that_is_the_template_correlates_one_there_and_less_elsewhere(rng):
    size = 12
    warped = rng.uniform(0, 255, (size + 2, size + 2)).astype(np.float32)
    a = warped[2:, 1:1 + size] - warped[2:, 1:1 + size].mean()
    a /= np.linalg.norm(a)
    out = np.empty(9, np.float32)
    K._correlate(np.ascontiguousarray(a), warped, size, out, *K.scratch(size, size + 2)[:2])
    assert out.argmax() == 2 * 3 + 1 and out.max() == pytest.approx(1.0, abs=1e-5) and np.sort(out)[-2] < 0.9


def test_warp_is_bilinear_sampling_at_the_zoom_and_shift(rng):
    image = rng.uniform(0, 255, (34, 34)).astype(np.float32)
    n, lo, centre, scale, offset = 26, 4, 16.5, 1.07, 0.4
    low_y, frac_y = np.empty(n, np.int64), np.empty(n, np.float32)
    K._taps(n, lo, centre, scale, offset, 34, low_y, frac_y)
    out = np.empty((n, n), np.float32)
    K._warp(image, low_y, frac_y, low_y, frac_y, out, K.scratch(24, 34)[2])
    pos = np.clip((np.arange(lo, lo + n) - centre) / scale + centre + offset, 0, 33)
    expected = np.array([[np.interp(x, np.arange(34), np.array([np.interp(y, np.arange(34), image[:, c])
                                                                 for c in range(34)])) for x in pos] for y in pos])
    np.testing.assert_allclose(out, expected, atol=1e-3)


@pytest.mark.parametrize("mirrored", [False, True])
def test_gather_moves_by_whole_pixels_with_the_edges_repeated(rng, mirrored):
    image = rng.uniform(0, 255, (32, 32)).astype(np.float32)
    out = np.empty((34, 34), np.float32)
    K._gather(image, mirrored, 2, -3, 1, out)
    source = image[:, ::-1] if mirrored else image
    padded = np.pad(source, 40, mode="edge")
    np.testing.assert_array_equal(out, padded[40 - 1 + 2:40 - 1 + 2 + 34, 40 - 1 - 3:40 - 1 - 3 + 34])


SCAN_AFTER_SET_UP = """
import numpy as np
from inspectors import align_kernels as K, alignment, content
alignment.compile_kernels()  # what scripts/setup.sh runs
kernels = ("coarse", "refine", "worst_block")
before = {name: list(getattr(K, name).signatures) for name in kernels}
rng = np.random.default_rng(1)
g = content.blur(rng.uniform(0, 255, (40, 36, 36)).astype(np.float32), 1.5)
g = np.concatenate([g[:, 2:-2, 2:-2], g[:, 1:-3, 3:-1], g[:, 2:-2, -3:1:-1]])  # pictures, moved, mirrored
found = content.candidates(content.Search(g), 4, 0.8, 0.9)  # the candidates a scan aligns, as it makes them
aligned = alignment.align(g, found)
assert (aligned.detail > -1).sum() >= 40, "the copies were not refined"
after = {name: list(getattr(K, name).signatures) for name in kernels}
assert all(before.values()) and after == before, (before, after)
"""


def test_set_up_compiles_every_kernel_a_scan_runs():
    # a fresh process: the signatures a dispatcher lists are those compiled or loaded from the cache there; one a
    # scan needed that set-up had not made would cost a user's first scan seconds of compiling
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", SCAN_AFTER_SET_UP], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
