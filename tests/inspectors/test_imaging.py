"""The reader: files read once (a big non-image never whole), the workspace's pixel limit, reduced decodes,
EXIF orientation 1-8 and one colour rule through both the display path and the network path."""

import io

import numpy as np
import pytest
import xxhash
from PIL import Image, ImageOps, PngImagePlugin

from inspectors import features, imaging
from inspectors.config import ScanConfig
from tests.conftest import encode, noise_image
from tests.inspectors.test_fast_paths import MODES, image_in

LIMIT = ScanConfig().max_pixel_bytes


def views(source) -> tuple[np.ndarray, np.ndarray]:
    """(what a person sees at <= 64 px, what the network sees at 16 px as (16, 16, 3)) of a file's bytes, or of
    an image no file format holds (RGBa, La, I;16N), through the same two functions."""
    if isinstance(source, Image.Image):
        shown, network = imaging.display_view(source, 1, 64)[0], imaging.network_view(source, 1, 16)
    else:
        shown, network = imaging.open_for_display(source, LIMIT, 64)[0], imaging.open_for_network(source, LIMIT, 16)
    return np.asarray(shown), network.transpose(1, 2, 0)


def test_read_file_reads_every_byte(tmp_path):
    for size in (0, 1, 4095, 1 << 20, (1 << 20) + 3):
        path = tmp_path / f"f{size}"
        path.write_bytes(np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes())
        assert imaging.read_file(str(path)) == path.read_bytes()


def test_a_big_file_that_is_no_image_is_never_read_whole_but_still_hashed(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "HEAD_FIRST_BYTES", 1000)
    data = b"not an image, only words " * 200
    (tmp_path / "x.jpg").write_bytes(data)
    with pytest.raises(imaging.NotAnImage) as raised:
        imaging.read_file(str(tmp_path / "x.jpg"))
    assert type(raised.value.cause).__name__ == "UnidentifiedImageError"
    row, thumb = features.file_features(str(tmp_path / "x.jpg"))
    assert row == features.bytes_features(data)[0]  # the row a small file of the same bytes gets
    assert row["file_hash"] == xxhash.xxh3_128_hexdigest(data)
    assert row["error"] == "UnidentifiedImageError: cannot identify image file" and thumb is None


def test_a_big_image_file_is_identified_then_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "HEAD_FIRST_BYTES", 1000)
    data = encode(noise_image(200, 100), "PNG")
    (tmp_path / "x.png").write_bytes(data)
    assert len(data) > 1000 and imaging.read_file(str(tmp_path / "x.png")) == data
    assert features.file_features(str(tmp_path / "x.png")) == features.bytes_features(data)


def test_the_workspace_pixel_limit_is_the_one_applied():
    data = encode(noise_image(100, 100), "PNG")
    for read in (lambda limit: imaging.open_for_display(data, limit, 64),
                 lambda limit: imaging.open_for_network(data, limit, 16)):
        read(100 * 100 * 3)
        with pytest.raises(imaging.TooLargeError, match="100x100 RGB") as refused:
            read(100 * 100 * 3 - 1)
        assert refused.value.limit == ("max_pixel_bytes", 100 * 100 * 3 - 1)  # the scan cache redoes it when loosened


def test_a_view_is_made_from_a_reduced_decode_never_at_full_size():
    jpeg = encode(noise_image(2000, 1000), "JPEG")
    assert imaging.decode(jpeg, LIMIT, long_side=200)[0].size == (250, 125)  # DCT-scaled to 1/8
    assert imaging.decode(jpeg, LIMIT, short_side=250)[0].size == (500, 250)
    shown, _ = imaging.open_for_display(encode(noise_image(1000, 700), "PNG"), LIMIT, 200)
    assert shown.size == (200, 140) and shown.mode == "RGB"


# ---------------------------------------------------------------- EXIF orientation

COLOURS = [(220, 30, 30), (30, 200, 60), (30, 60, 220), (230, 220, 40)]  # top-left, top-right, bottom-left, -right
STORED_AS = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
             7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}  # what a camera writes for each tag


def quadrants(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 2, a.shape[1] // 2
    return np.array([a[:h, :w].mean((0, 1)), a[:h, w:].mean((0, 1)), a[h:, :w].mean((0, 1)), a[h:, w:].mean((0, 1))])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_for_a_person_and_for_the_network(orientation, fmt):
    upright = Image.new("RGB", (64, 32))
    for (x, y), colour in zip([(0, 0), (32, 0), (0, 16), (32, 16)], COLOURS, strict=True):
        upright.paste(colour, (x, y, x + 32, y + 16))
    stored = upright if orientation == 1 else upright.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    shown, network = views(data)
    assert shown.shape == (32, 64, 3)
    assert np.abs(quadrants(shown) - COLOURS).max() < 40
    pillow = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))  # an independent oracle
    assert np.abs(quadrants(shown) - quadrants(pillow)).max() < 2
    assert np.abs(quadrants(network) - COLOURS).max() < 40  # centre-cropped: half of each quadrant


# ---------------------------------------------------------------- the colour rule

def ramp16(mode: str, top: int) -> Image.Image:
    values = np.tile(np.linspace(0, top, 64).round().astype(np.uint16), (32, 1))
    return Image.frombytes(mode, (64, 32), values.astype(">u2" if mode == "I;16B" else "<u2").tobytes())


@pytest.mark.parametrize("mode, fmt", [("I;16", "PNG"), ("I;16B", "TIFF"), ("I;16N", None)])
def test_sixteen_bit_values_are_scaled_to_8_bits_not_clipped(mode, fmt):
    im = ramp16(mode, 65535)
    shown, network = views(im if fmt is None else encode(im, fmt))
    for seen in (shown, network):
        assert (seen[..., 0] == seen[..., 2]).all() and abs(seen.mean() - 127.5) < 3  # grey, not blank white
        assert (np.diff(seen[0, :, 0].astype(int)) > 0).all()  # a ramp: every column brighter than the last
    assert shown[:, 0].max() <= 4 and shown[:, -1].min() >= 251  # 0..65535 to 0..255 (the network: the middle)


def test_twelve_bit_values_are_stretched_for_a_person_only_and_the_caption_says_so():
    data = encode(ramp16("I;16", 4095), "PNG")
    shown, note = imaging.open_for_display(data, LIMIT, 64)
    assert "12-bit" in note and np.asarray(shown)[:, -1].min() >= 247
    plain, plain_note = imaging.open_for_display(data, LIMIT, 64, stretch=False)
    assert plain_note == "" and np.asarray(plain).max() <= 16  # the rule: divided by 65535
    assert imaging.open_for_network(data, LIMIT, 16).max() <= 16
    assert features.bytes_features(data)[0]["brightness"] < 0.04  # the scan reads it as the network does


@pytest.mark.parametrize("mode", ["RGBA", "LA", "RGBa", "La", "PA", "P"])
def test_transparent_pixels_are_white_for_a_person_and_for_the_network(mode):
    alpha = Image.new("L", (64, 32), 255)
    alpha.paste(0, (0, 0, 32, 32))  # the left half transparent
    if mode in ("P", "PA"):
        im = Image.new("P", (64, 32), 1)
        im.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
        im.paste(0, (0, 0, 32, 32))
        if mode == "PA":
            im = im.convert("PA")
            im.putalpha(alpha)
        source = encode(im, "PNG", transparency=0) if mode == "P" else encode(im, "TIFF")
    else:
        rgba = Image.new("RGBA", (64, 32), (200, 30, 30))
        rgba.putalpha(alpha)
        im = rgba.convert("LA").convert("La") if mode == "La" else rgba.convert(mode)
        source = im if mode in ("RGBa", "La") else encode(im, "PNG")  # no file format holds these two
    colour = (81, 81, 81) if mode in ("LA", "La") else (200, 30, 30)  # LA: red's grey level
    for seen in views(source):
        h, w = seen.shape[:2]
        assert (seen[:, : w // 2 - 2] == 255).all(), mode
        assert np.abs(seen[:, w // 2 + 2:].astype(int) - colour).max() <= 2, mode


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_is_seen_in_its_colours(fmt):
    data = encode(Image.new("RGB", (64, 32), (200, 40, 40)).convert("CMYK"), fmt, **({"quality": 95} if fmt == "JPEG"
                                                                                    else {}))
    for seen in views(data):
        assert np.abs(seen.reshape(-1, 3).mean(0) - (200, 40, 40)).max() < 8


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_gives_rgb_for_a_person_and_for_the_network(mode):
    im = image_in(mode, 64, 40)
    shown, network = views(im)
    assert shown.shape == (40, 64, 3) and shown.dtype == network.dtype == np.uint8 and network.shape == (16, 16, 3)
    assert shown.std() > 0 and network.std() > 0
    assert np.array_equal(shown, np.asarray(imaging.to_rgb(im)))  # the display path is the rule, at this size


# ---------------------------------------------------------------- reading metadata

def _orientation_in_full(im) -> int:
    """What imaging.orientation returns without its shortcut: always through getexif()."""
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_orientation_shortcut_agrees_with_pillow_getexif(fmt):
    im = noise_image(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    variants = [encode(im, fmt), encode(im, fmt, exif=exif)]
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        variants.append(encode(im, fmt, pnginfo=info))
    got = []
    for data in variants:
        opened = Image.open(io.BytesIO(data))
        opened.load()  # as decode_bytes calls it: after the load, which reads a PNG's late chunks
        got.append(imaging.orientation(opened))
        assert got[-1] == _orientation_in_full(opened)
    # the metadata was there to be found; Pillow itself rotates a TIFF as it loads it, and drops the tag
    assert got == ([1, 1] if fmt == "TIFF" else [1, 6, 8][:len(variants)])
