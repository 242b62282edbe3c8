"""The content search and the alignment, on crops of a real photo (scikit-learn ships two)."""

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits, load_sample_images

from inspectors import alignment, content


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(load_sample_images().images[0]).convert("L")  # china.jpg, 640x427


def crop(photo, box, mirror=False) -> np.ndarray:
    im = photo.resize((32, 32), Image.Resampling.LANCZOS, box=box)
    return np.asarray(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if mirror else im, np.float32)


def aligned(a: np.ndarray, b: np.ndarray, mirrored=False, dx=0, dy=0) -> alignment.Alignment:
    pairs = content.Candidates(np.array([0]), np.array([1]), np.ones(1, np.float32), np.array([mirrored]),
                               np.array([dx]), np.array([dy]))
    return alignment.align(np.stack([a, b]), pairs)


def test_a_window_moved_by_3_px_aligns_with_that_shift(photo):
    box = (200, 100, 296, 196)  # 96 px -> 32: 3 px of the thumbnail are 9 px of the photo
    moved = (209, 94, 305, 190)  # 3 px right, 2 px up
    result = aligned(crop(photo, box), crop(photo, moved))
    assert result.dx[0] == pytest.approx(-3, abs=0.5) and result.dy[0] == pytest.approx(2, abs=0.5)
    assert result.layout[0] > 0.97 and result.detail[0] > 0.9
    assert result.zoom[0] == pytest.approx(1.0, abs=0.03)


def test_a_crop_keeping_80_percent_aligns_as_a_zoom(photo):
    box = (200, 100, 296, 196)
    cropped = (205, 105, 291, 191)  # 86 of 96 px: 80 % of the area, shown 1.12x larger
    result = aligned(crop(photo, box), crop(photo, cropped))
    assert result.zoom[0] == pytest.approx(96 / 86, abs=0.04)
    assert result.layout[0] > 0.97 and result.detail[0] > 0.85


def test_a_mirror_image_aligns_only_when_compared_mirrored(photo):
    box = (200, 100, 296, 196)
    plain, mirror = crop(photo, box), crop(photo, box, mirror=True)
    assert aligned(plain, mirror, mirrored=True).detail[0] > 0.99
    assert aligned(plain, mirror, mirrored=False).detail[0] < 0.5


def test_brightness_and_contrast_do_not_change_the_agreement(photo):
    a = crop(photo, (200, 100, 296, 196))
    result = aligned(a, np.clip(a * 0.6 + 70, 0, 255))
    assert result.layout[0] > 0.99 and result.detail[0] > 0.98


def test_crops_sharing_less_than_half_their_area_do_not_agree(photo):
    a, b = crop(photo, (200, 100, 296, 196)), crop(photo, (250, 100, 346, 196))  # 46 of 96 px shared
    result = aligned(a, b)
    assert result.detail[0] < 0.5


def test_the_search_pairs_a_shifted_copy_among_other_crops_of_the_photo(photo):
    rng = np.random.default_rng(0)
    boxes = [(x, y, x + 64, y + 64) for x, y in zip(rng.integers(0, 570, 300), rng.integers(0, 360, 300),
                                                     strict=True)]
    g = np.stack([crop(photo, box) for box in boxes] + [crop(photo, (boxes[7][0] + 6, boxes[7][1], boxes[7][2] + 6,
                                                                     boxes[7][3]))])
    found = content.candidates(content.Search(g, mirror=True), k=4, min_similarity=0.8)
    pairs = set(zip(np.minimum(found.i, found.j).tolist(), np.maximum(found.i, found.j).tolist(), strict=True))
    assert (7, 300) in pairs


def test_an_inverted_file_index_finds_what_the_exact_search_finds():
    rng = np.random.default_rng(1)
    vectors = content.normalised(rng.normal(size=(30_000, 64)))
    queries = content.normalised(vectors[:500] + rng.normal(scale=0.05, size=(500, 64)))
    approximate = content.Index(vectors)
    assert approximate.ivf is not None
    _, rows = approximate.nearest(queries, 1)
    assert (rows[:, 0] == np.arange(500)).mean() >= 0.99


@pytest.mark.parametrize("mirror", [False, True])
def test_the_alignment_redraws_a_shifted_or_mirrored_copy_in_its_originals_frame(photo, mirror):
    box, moved = (200, 100, 392, 292), (218, 88, 410, 280)  # 192 px: the copy moved 3 px (of 32) right, 2 up
    big_a = photo.resize((96, 96), Image.Resampling.LANCZOS, box=box)
    big_b = photo.resize((96, 96), Image.Resampling.LANCZOS, box=moved)
    if mirror:
        big_b = big_b.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    result = aligned(crop(photo, box), crop(photo, moved, mirror=mirror), mirrored=mirror)
    coefficients = alignment.affine_onto(result.zoom[0], result.dx[0], result.dy[0], mirror, (96, 96), (96, 96))
    redrawn = np.asarray(big_b.transform((96, 96), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR),
                         np.float32)[12:84, 12:84]
    original = np.asarray(big_a, np.float32)[12:84, 12:84]
    assert np.corrcoef(redrawn.ravel(), original.ravel())[0, 1] > 0.97


def test_phase_correlation_gives_the_shift_the_alignment_finds(photo):
    box, moved = (200, 100, 296, 196), (209, 94, 305, 190)  # the window 3 px (of 32) right, 2 up
    g = np.stack([crop(photo, box), crop(photo, moved)])
    f = content.spectra(g)
    dx, dy = content.phase_shift(f[:1], f[1:])
    assert (int(dx[0]), int(dy[0])) == (-3, 2)  # the content sits 3 px left, 2 px lower in the moved window


def test_the_spectrum_search_pairs_a_shifted_digit_among_look_alikes():
    digits = load_digits().images  # 8x8, 0-16: upscaled as a 32 px digits dataset would be
    big = [np.asarray(Image.fromarray((d * 15).astype(np.uint8)).resize((32, 32), Image.Resampling.BILINEAR),
                      np.float32) for d in digits[:400]]
    shifted = np.roll(big[5], 2, axis=1)  # 2 px right: the blurred windows of other 5s look as alike
    found = content.Search(np.stack([*big, shifted]), mirror=False).spectrum_partners(k=4)
    pairs = {(min(a, b), max(a, b)): (x, y) for a, b, x, y in zip(found.i, found.j, found.dx, found.dy, strict=True)}
    assert (5, 400) in pairs


def test_a_black_strip_from_a_shift_is_filled_as_a_repeated_edge_and_margins_stay(photo):
    g = crop(photo, (200, 100, 296, 196))
    shifted = np.empty_like(g)
    shifted[:, 3:] = g[:, :-3]
    black, edge = shifted.copy(), shifted.copy()
    black[:, :3] = 0
    edge[:, :3] = g[:, :1]
    filled = content.fill_strips(np.stack([black, edge]))
    assert np.array_equal(filled[0], edge)
    assert np.array_equal(filled[1], edge)
    digit = np.zeros((32, 32), np.float32)
    digit[8:24, 12:20] = 200  # black margins on every side: the picture's own
    assert np.array_equal(content.fill_strips(digit[None])[0], digit)


def test_one_sided_strips_count_flat_lines_of_one_value_from_an_edge_whose_opposite_has_none():
    g = np.random.default_rng(0).uniform(0, 255, (4, 32, 32)).astype(np.float32)
    g[0, :2] = 0  # top: two black lines
    g[1, :, :4] = 0
    g[1, :, 4] = 20  # flat, but not of the strip's value: the strip is 4 wide
    g[2, :, -12:] = 50  # wider than STRIP_MAX: counted up to it
    g[2, 5, -1] = 80  # a line that is not flat ends the count at once
    g[3, :2] = 0
    g[3, -3:] = 100 + np.arange(32) % 5  # flat within the tolerance (JPEG ripples): margins on both sides
    assert content._one_sided_strips(g).tolist() == [[2, 0, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    g[2, 5, -1] = 50
    assert content._one_sided_strips(g)[2].tolist() == [0, 0, 0, content.STRIP_MAX]


@pytest.mark.parametrize("mirror", [False, True])
def test_a_turned_copy_aligns_turned_and_is_redrawn_in_its_originals_frame(photo, mirror):
    box = (200, 100, 392, 292)
    turned = photo.rotate(7, Image.Resampling.BICUBIC, center=(296, 196))  # 7 degrees counter-clockwise
    big_a = photo.resize((96, 96), Image.Resampling.LANCZOS, box=box)
    big_b = turned.resize((96, 96), Image.Resampling.LANCZOS, box=box)
    if mirror:
        big_b = big_b.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    result = aligned(crop(photo, box), crop(turned, box, mirror=mirror), mirrored=mirror)
    plain = alignment.align(np.stack([crop(photo, box), crop(photo, box)]), content.Candidates(
        np.array([0]), np.array([1]), np.ones(1, np.float32), np.array([False]), np.array([0]), np.array([0])))
    assert result.rotation[0] != 0 and plain.rotation[0] == 0
    assert result.detail[0] >= 0.9 and result.layout[0] >= 0.95
    coefficients = alignment.affine_onto(result.zoom[0], result.dx[0], result.dy[0], mirror, (96, 96), (96, 96),
                                         float(result.rotation[0]))
    redrawn = np.asarray(big_b.transform((96, 96), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR),
                         np.float32)[12:84, 12:84]
    original = np.asarray(big_a, np.float32)[12:84, 12:84]
    assert np.corrcoef(redrawn.ravel(), original.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_finely_textured_copy_moved_an_odd_number_of_px_aligns_from_any_prior_within_a_px(seed):
    from scipy.ndimage import gaussian_filter

    texture = gaussian_filter(np.random.default_rng(seed).normal(size=(40, 40)), 0.8) * 60 + 128
    a, b = texture[4:36, 4:36].astype(np.float32), texture[7:39, 1:33].astype(np.float32)  # b: 3 px up, 3 right
    for dx in (2, 3, 4):  # the search's shift is within about a px of the true one
        for dy in (-4, -3, -2):
            result = aligned(a, b, dx=dx, dy=dy)
            assert result.layout[0] > 0.95 and result.detail[0] > 0.9, (dx, dy)
            assert result.dx[0] == pytest.approx(3, abs=0.5) and result.dy[0] == pytest.approx(-3, abs=0.5)


@pytest.mark.parametrize("picture, corner", [(0, (108, 40)), (0, (204, 280)), (0, (444, 88)), (1, (204, 40)),
                                             (1, (492, 232))])
def test_a_copy_moved_1_px_aligns_at_its_own_zoom_from_a_search_shift_of_0(picture, corner):
    # 1 px of 32 is half a pixel of the coarse grid's 16: between its points, where a wrong zoom correlated best
    # at 16 px and the refinement (5 % either way) could not get back; these five did (zoom 0.91-0.95)
    photo = Image.fromarray(load_sample_images().images[picture]).convert("L")
    x, y = corner
    a = crop(photo, (x, y, x + 96, y + 96))
    b = crop(photo, (x, y + 3, x + 96, y + 99)).copy()  # 3 px of the photo: 1 px of the thumbnail, up
    b[-1:] = 0  # the strip the shift leaves
    result = aligned(*content.fill_strips(np.stack([a, b])))
    assert result.zoom[0] == pytest.approx(1.0, abs=0.03) and result.dy[0] == pytest.approx(-1, abs=0.5)
    assert result.detail[0] > 0.95 and result.layout[0] > 0.97


def test_a_measure_is_read_where_the_alignment_peaks_never_above_what_its_cells_allow():
    # one row of a 3x3 grid: a nearly straight slope, whose parabola's top lies far beyond the middle cell
    grid = np.array([[[0.0, 0.0, 0.0], [0.60, 0.62, 0.639], [0.0, 0.0, 0.0]]])  # its top: 19.5 cells away
    ky, kx = np.array([1]), np.array([1])
    assert alignment._peak(grid, ky, kx, 1)[0] == 0.5  # the peak stays within half a cell...
    rise = alignment._rise(grid, ky, kx, 1, np.array([0.5]))
    assert 0.62 + rise[0] == pytest.approx(0.6296, abs=1e-4)  # ...and is read there, not at the far-off top (0.81)
    # a true top: the rise there is the parabola's gain, -(a - c)^2 / (8 (a - 2b + c))
    top = np.array([[[0.0, 0.0, 0.0], [0.8, 1.0, 0.9], [0.0, 0.0, 0.0]]])
    at = alignment._peak(top, ky, kx, 1)
    assert at[0] == pytest.approx(1 / 6) and alignment._rise(top, ky, kx, 1, at)[0] == pytest.approx(0.01 / 2.4)


def test_a_quick_refinement_stops_only_far_from_a_copy_and_leaves_the_others_exact(photo):
    rng = np.random.default_rng(2)
    boxes = [(x, y, x + 64, y + 64) for x, y in zip(rng.integers(0, 570, 40), rng.integers(0, 360, 40), strict=True)]
    copied = [(x + 3, y - 2, x + 61, y + 60) for x, y, _, _ in boxes[:8]]  # moved and zoomed in 10 %
    g = np.stack([crop(photo, box) for box in boxes + copied])
    i, j = np.triu_indices(len(g), 1)
    pairs = content.Candidates(i, j, np.ones(len(i), np.float32), np.zeros(len(i), bool), np.zeros(len(i), np.int64),
                               np.zeros(len(i), np.int64))
    full = alignment.align(g, pairs)
    quick = alignment.align(g, pairs, quick_below=alignment.QUICK_BELOW)
    assert 0 < quick.partial.sum() < len(i)
    exact = ~quick.partial
    for field in ("zoom", "dx", "dy", "rotation", "layout", "detail", "worst"):
        np.testing.assert_array_equal(getattr(quick, field)[exact], getattr(full, field)[exact])
    assert (full.layout + full.detail)[quick.partial].max() < 1.75  # none was alike: no copy stopped early
    copies_at = [np.flatnonzero((i == k) & (j == len(boxes) + k))[0] for k in range(len(copied))]
    assert not quick.partial[copies_at].any()
    # finished from where the quick refinement started, a partial pair measures as the full alignment does
    done = alignment.finish(g, content.subset(pairs, quick.partial), quick.start[quick.partial])
    assert not done.partial.any()
    for field in ("zoom", "dx", "dy", "rotation", "layout", "detail", "worst"):
        np.testing.assert_array_equal(getattr(done, field), getattr(full, field)[quick.partial])


def test_the_moved_windows_are_the_windows_searched_one_by_one(photo):
    # moved_search_vectors cuts all nine windows from one grid of cells: each must be the window itself
    blurred = content.blur(np.stack([crop(photo, (200, 100, 296, 196)), crop(photo, (50, 40, 146, 136))]), 1.5)
    moved = content.moved_search_vectors(blurred)
    for k, (dy, dx) in enumerate((dy, dx) for dy in content.SEARCH_SHIFTS for dx in content.SEARCH_SHIFTS):
        np.testing.assert_allclose(moved[k], content.search_vectors(blurred, dx, dy), atol=1e-6)
    assert not np.allclose(moved[0], moved[4], atol=1e-2)  # the windows do differ
    np.testing.assert_allclose(content.moved_search_vectors(blurred, (0,))[0], content.search_vectors(blurred),
                               atol=1e-6)
    backwards = content.moved_search_vectors(blurred, content.SEARCH_SHIFTS[::-1])  # in the order asked
    np.testing.assert_array_equal(backwards[0], moved[-1])
    with pytest.raises(ValueError, match="whole cells"):
        content.moved_search_vectors(blurred, (-2, 0, 2))
