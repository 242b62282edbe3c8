"""Every speed path behind inspectors.imaging equals its plain-Pillow reference (imaging.plain_*), bit for bit:
pil_codecs' direct encoders, the tiled RGB reduction and streamed pixel hash of big images, statistics' LANCZOS
port, batched hashes and chunked sums. Speed work proves here that it changes nothing."""

import io
import math

import imagehash
import numpy as np
import pytest
import xxhash
from PIL import Image, ImageFilter

from inspectors import features, imaging, pil_codecs, statistics
from tests.conftest import encode, noise_image


def codec_images():
    rng = np.random.default_rng(3)
    rgb = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
           for w, h in [(1, 1), (3, 700), (106, 80), (128, 128), (513, 257)]]
    return rgb + [im.convert("L") for im in rgb]


def test_raw_bytes_equal_plain_tobytes_for_every_mode():
    assert pil_codecs.raw_works()  # the direct path is the one tested
    for im in codec_images():
        assert pil_codecs.raw_bytes(im) == imaging.plain_raw_bytes(im)
        if im.mode == "RGB":
            assert pil_codecs.raw_bytes(im, "RGBX") == imaging.plain_raw_bytes(im, "RGBX")
    for mode in ("P", "RGBA", "I;16", "1", "CMYK"):  # not ours: Pillow's own call
        im = noise_image(37, 21).convert("RGB").convert(mode)
        assert pil_codecs.raw_bytes(im) == imaging.plain_raw_bytes(im)


@pytest.mark.parametrize("quality", [85, 50, 95])
def test_jpeg_bytes_equal_plain_save(quality):
    assert pil_codecs.jpeg_config(quality) is not None  # the direct path is the one tested
    for im in codec_images():
        assert pil_codecs.jpeg_bytes(im, quality) == imaging.plain_jpeg_bytes(im, quality), (im.mode, im.size)


MODES = ["RGB", "L", "1", "P", "P+transparency", "RGBA", "LA", "PA", "RGBa", "La", "CMYK", "LAB", "I;16", "I;16B",
         "I;16N", "I", "I-negative", "F"]


def image_in(mode: str, w: int = 150, h: int = 90) -> Image.Image:
    """A smooth picture in `mode`, its alpha (where it has one) a gradient, its values (16-bit and up) wide."""
    rgb = noise_image(w, h, seed=w)
    grey = np.asarray(rgb.convert("L"), np.float64)
    if mode in ("I;16", "I;16B", "I;16N"):
        return Image.frombytes(mode, (w, h), (grey * 257).astype(">u2" if mode == "I;16B" else "<u2").tobytes())
    if mode in ("I", "I-negative", "F"):
        values = grey * 257 - (40000 if mode == "I-negative" else 0)
        return Image.fromarray(values.astype(np.float32 if mode == "F" else np.int32), "F" if mode == "F" else "I")
    if mode == "P+transparency":
        im = rgb.convert("P")
        im.info["transparency"] = 3
        return im
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1)))
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = rgb.convert("RGBA")
        rgba.putalpha(alpha)
        return rgba.convert("LA").convert("La") if mode == "La" else rgba.convert(mode)
    return rgb.convert(mode)


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of a few hundred pixels: every image here takes the big-image paths, across many tile borders."""
    monkeypatch.setattr(imaging, "TILE_PIXELS", 700)
    monkeypatch.setattr(imaging, "TILE_SIDE", 37)


@pytest.mark.parametrize("mode", MODES)
def test_tiled_rgb_reduction_equals_plain_for_every_mode(mode, small_tiles):
    for w, h in [(150, 90), (37, 701), (1500, 1)]:
        im = image_in(mode, w, h)
        for factor in (1, 2, 3, 7, 200):
            got = imaging.rgb_reduced(im, factor)
            assert got.tobytes() == imaging.plain_rgb_reduced(im, factor).tobytes(), (w, h, factor)
        levels = (0, 4095.0) if mode.startswith("I;16") else None  # the display's 12-bit stretch, tiled alike
        assert imaging.rgb_reduced(im, 5, levels).tobytes() == imaging.plain_rgb_reduced(im, 5, levels).tobytes()


def plain_scan(data: bytes, work_side=128, thumb_side=128, quality=85) -> tuple[dict, bytes]:
    """What the scan records of a PNG or TIFF, the slow way: whole tobytes, Pillow's reduce and save."""
    im = Image.open(io.BytesIO(data))
    im.load()
    o = int(im.getexif().get(0x0112, 1))
    digest = xxhash.xxh3_128(f"{o}|{im.mode}|{im.size[0]}x{im.size[1]}|".encode() + imaging.plain_raw_bytes(im))
    work = imaging.orient(imaging.plain_rgb_reduced(im, math.ceil(max(im.size) / work_side)), o)
    thumb = work.copy()
    thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.BILINEAR)
    row = {"pixel_hash": digest.hexdigest(), "exif_orientation": o, **statistics.image_statistics(work)}
    return row, imaging.plain_jpeg_bytes(thumb, quality)


@pytest.mark.parametrize("tiles", [False, True])
@pytest.mark.parametrize("mode", ["RGB", "L", "P+transparency", "RGBA", "LA", "I;16", "I;16B", "CMYK", "F"])
def test_the_scan_measures_what_plain_pillow_gives(mode, tiles, request):
    if tiles:
        request.getfixturevalue("small_tiles")
    exif = Image.Exif()
    exif[0x0112] = 6
    im = image_in(mode, 300, 130)
    fmt = "PNG" if mode in ("RGB", "L", "P+transparency", "RGBA", "LA", "I;16") else "TIFF"
    data = encode(im, fmt, exif=exif, **({"transparency": 3} if mode == "P+transparency" else {}))
    row, thumb = features.bytes_features(data)
    expected, expected_thumb = plain_scan(data)
    assert row["ok"], row["error"]
    assert {key: row[key] for key in expected} == expected
    assert thumb == expected_thumb


def small_greys(n=300, seed=0) -> np.ndarray:
    """32x32 grey images: noise, smooth, two-level and flat ones (the flat ones tie at the pHash median)."""
    rng = np.random.default_rng(seed)
    smooth = [np.asarray(noise_image(32, 32, seed=i).convert("L")) for i in range(n // 3)]
    noise = rng.integers(0, 256, (n // 3, 32, 32), dtype=np.uint8)
    binary = np.where(rng.random((n // 3 - 3, 32, 32)) < 0.5, 0, 255).astype(np.uint8)
    flat = np.array([0, 128, 255], dtype=np.uint8)[:, None, None].repeat(32, axis=1).repeat(32, axis=2)
    return np.concatenate([np.stack(smooth), noise, binary, flat])


def test_batched_hashes_equal_imagehash_on_the_same_32px_image():
    stack = small_greys()
    phashes, dhashes = statistics.phash_of_32(stack), statistics.dhash_of_32(stack)
    for grey, p, d in zip(stack[::7], phashes[::7], dhashes[::7], strict=True):
        im = Image.fromarray(grey)
        assert p == statistics.bits_to_int64(imagehash.phash(im).hash)
        assert d == statistics.bits_to_int64(imagehash.dhash(im).hash)


def test_batched_dhash_and_appearance_equal_pillow_resize_and_reduce_bit_for_bit():
    stack = small_greys()
    dhashes, looks = statistics.dhash_of_32(stack), statistics.appearance_of_32(stack)
    for grey, d, look in zip(stack, dhashes, looks, strict=True):
        im = Image.fromarray(grey)
        assert d == statistics.dhash(im)  # Pillow's own 9x8 LANCZOS, against our integer port of it
        assert look.tobytes() == im.reduce(2).tobytes()


def test_ported_lanczos_to_32_equals_plain_pillow_on_every_pass_order():
    assert statistics.LANCZOS_PORT_OK
    rng = np.random.default_rng(7)
    sizes = [(w, h) for w in range(1, 129, 3) for h in range(1, 129, 5)] + [(33, 35), (34, 35), (80, 128), (79, 128)]
    for w, h in sizes:  # both sides of the rule that picks which pass Pillow runs first
        grey = rng.integers(0, 256, (h, w), dtype=np.uint8)
        assert np.array_equal(statistics.lanczos_to_32(grey), imaging.plain_grey_32(grey)), (w, h)


def test_greys_32_of_a_chunk_equal_plain_pillow_image_by_image():
    rng = np.random.default_rng(5)
    # both passes ported, one pass (a side of 32), the 32x32 shortcut, and Pillow's own past the ported sizes
    shapes = [(80, 106), (128, 97), (33, 35), (35, 34), (20, 7), (32, 90), (77, 32), (32, 32), (129, 60), (300, 200)]
    greys = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in shapes]
    together = statistics.greys_32(greys)
    for grey, got in zip(greys, together, strict=True):
        assert np.array_equal(got, imaging.plain_grey_32(grey)), grey.shape


def test_grey_levels_equal_pillow_convert_l_for_every_colour():
    colours = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([colours >> 16, colours >> 8 & 255, colours & 255], axis=1).astype(np.uint8).reshape(4096, 4096, 3)
    assert np.array_equal(statistics.grey_levels(rgb), np.asarray(Image.fromarray(rgb).convert("L")))


def test_colour_codes_from_rgbx_words_equal_the_byte_columns_for_every_colour():
    colours = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([colours >> 16, colours >> 8 & 255, colours & 255], axis=1).astype(np.uint8)
    words = np.frombuffer(Image.fromarray(rgb.reshape(4096, 4096, 3)).tobytes("raw", "RGBX"), np.uint32)
    q = rgb >> 4
    expected = q[:, 0].astype(np.uint32) << 8 | q[:, 1].astype(np.uint32) << 4 | q[:, 2]
    assert np.array_equal(statistics.colour_codes_of_words(words), expected)
    for seed in range(4):  # and the entropy itself, bit for bit, on photo-like and noise images
        im = noise_image(97, 61, seed=seed).convert("RGB").filter(ImageFilter.GaussianBlur(seed))
        words = np.frombuffer(im.tobytes("raw", "RGBX"), np.uint32)
        assert np.array_equal(statistics.colour_codes_of_words(words),
                              statistics.colour_codes(np.asarray(im).reshape(-1, 3)))


def test_channel_moments_of_a_chunk_are_each_image_s_exact_sums():
    images = [np.asarray(noise_image(w, h, seed=w)).reshape(-1, 3) for w, h in [(32, 32), (1, 1), (7, 64), (64, 64)]]
    got = statistics.channel_moments(np.concatenate(images), np.array([len(im) for im in images]))
    for im, moments in zip(images, got, strict=True):
        wide = im.astype(np.int64)
        assert moments.tolist() == [[len(im), wide[:, c].sum(), (wide[:, c] ** 2).sum()] for c in range(3)]
