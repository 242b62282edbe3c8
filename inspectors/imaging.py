"""Reading an image: the one place where a file's bytes become the picture a person sees. The scan
(features.py), the trainer's tensor cache and its what-enters check (baselines) and the app's full-size
views (ui/images.py) all read through here, so they cannot disagree. It owns:

- reading a file (`read_file`): a file over HEAD_FIRST_BYTES is read whole only once Pillow has found an
  image in its header (`NotAnImage`);
- the bomb check against the workspace's max_pixel_bytes, before anything decodes (`check_declared_size`);
- the reduced decode (`decode`): a JPEG at 1/2..1/8 size by DCT scaling; other formats load their pixels once
  and become RGB and smaller a tile at a time (`rgb_reduced`), never as a full-size copy beside them;
- EXIF orientation (`orientation`, `orient`), applied after reduction;
- one colour rule for the scan, a person and the network (`to_rgb`). A person's view may stretch 12-bit values
  stored in 16 bits (`display_view`); its caption then says so.

The per-file timeout is the scan pool's (a worker stuck in a decoder is killed); the trainer and the app reopen
only files the scan decoded within it.

The speed paths (pil_codecs' direct encoders, statistics' LANCZOS port and chunked statistics) sit behind
this module; `plain_*` below are what they must equal (tests/inspectors/test_fast_paths.py).
"""

import io
import math
import os
import stat

import numpy as np
from PIL import Image, ImageFile

from . import pil_codecs

# The declared size is checked against the workspace's limit before decoding (check_declared_size); Pillow's
# own bomb guard would otherwise fire at a different, unconfigurable size.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False  # truncated files must fail, not decode half-grey

HEAD_FIRST_BYTES = 8 << 20  # a bigger file is read whole only once its header shows an image
READ_BLOCK = 1 << 20
TILE_PIXELS = 1 << 20  # bigger images become RGB a tile of about this many pixels at a time
TILE_SIDE = 1024
TWELVE_BIT = 4095  # 16-bit files whose values stay below this are 12-bit data (scientific and medical cameras)
BYTES_PER_BAND = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}
VALUE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")  # one band of numbers, not of 8-bit levels
SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
ORIENTATION_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE], 8: [Image.Transpose.ROTATE_90],
}
# Where Pillow 13's getexif() finds an orientation (Image.getexif, PngImageFile.getexif): info keys, or a TIFF's
# tags. Most files have none, and building the empty Exif object to learn so is not free (docs/benchmarks.md,
# "Orientation").
EXIF_SOURCES = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")


class EmptyFileError(Exception):
    pass


class NotRegularFileError(Exception):
    pass


class TooLargeError(Exception):
    limit = None  # ("max_pixel_bytes", the limit) when refused for the limit: a looser one reads the file again


class NotAnImage(Exception):
    """A file over HEAD_FIRST_BYTES in whose header Pillow found no image: it was not read. `cause` is
    Pillow's own exception, the reason a row gives."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


# ---------------------------------------------------------------- reading files


def _open_regular(fs_path) -> tuple[int, int]:
    """(fd, size) of a regular file. O_NONBLOCK so a FIFO that slipped past the listing cannot hang us."""
    fd = os.open(fs_path, os.O_RDONLY | os.O_NONBLOCK)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFileError("not a regular file")
    return fd, info.st_size


def read_file(fs_path) -> bytes:
    """A regular file's bytes, read once. Over HEAD_FIRST_BYTES, Pillow identifies an image from the header
    first (reading only what it needs), else NotAnImage: a big file of something else is never read whole."""
    fd, size = _open_regular(fs_path)
    try:
        if size > HEAD_FIRST_BYTES:
            with open(fd, "rb", closefd=False) as f:
                try:
                    Image.open(f)
                except Exception as exc:
                    raise NotAnImage(exc) from exc
            os.lseek(fd, 0, os.SEEK_SET)
        # to the end, as f.read() would (one read of the stated size + 1, then until a read returns
        # nothing), without a file object per file
        parts = [os.read(fd, size + 1)]
        while parts[-1]:
            parts.append(os.read(fd, READ_BLOCK))
        return parts[0] if len(parts) == 2 else b"".join(parts)
    finally:
        os.close(fd)


def open_file(fs_path):
    """A regular file as a binary file object (for open_for_display / open_for_network); never blocks on a FIFO."""
    fd, _ = _open_regular(fs_path)
    return open(fd, "rb")


def read_blocks(fs_path):
    """A regular file's bytes in READ_BLOCK pieces (to hash a file that is not read whole)."""
    with open_file(fs_path) as f:
        while block := f.read(READ_BLOCK):
            yield block


# ---------------------------------------------------------------- opening and decoding


def open_image(source) -> Image.Image:
    """Pillow's lazy image of bytes or a binary file object: format, size and mode known, nothing decoded."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not source:
            raise EmptyFileError("the file is 0 bytes")
        source = io.BytesIO(source)
    return Image.open(source)


def check_declared_size(im: Image.Image, max_pixel_bytes: int) -> None:
    """TooLargeError when the header declares more pixel bytes than the workspace allows (a decompression bomb
    or a huge image): call it before anything decodes (for a PNG even getexif() decodes the pixels)."""
    w, h = im.size
    if w <= 0 or h <= 0:
        raise TooLargeError(f"header declares an empty image ({w}x{h})")
    declared = w * h * len(im.getbands()) * BYTES_PER_BAND.get(im.mode, 1)
    if declared > max_pixel_bytes:
        error = TooLargeError(
            f"header declares {w}x{h} {im.mode} = {declared / 2**20:,.0f} MB of pixels, over the "
            f"{max_pixel_bytes / 2**20:,.0f} MB limit; not decoded (decompression bomb or huge image)")
        error.limit = ("max_pixel_bytes", max_pixel_bytes)
        raise error


def load_reduced(im: Image.Image, long_side: int = 0, short_side: int = 0) -> None:
    """Decode: a JPEG at the smallest DCT scale that keeps its long side >= long_side and its short side >=
    short_side (it still entropy-decodes every block, so damaged data fails as in a full decode); other
    formats at full size, their pixels once."""
    if short_side:
        long_side = max(long_side, math.ceil(short_side * max(im.size) / min(im.size)))
    if long_side:
        pil_codecs.draft_for_work(im, long_side)
    im.load()


def orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) of a loaded image; 1 when there is none or it is invalid."""
    if not hasattr(im, "tag_v2") and not any(key in im.info for key in EXIF_SOURCES):
        return 1
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


def decode(source, max_pixel_bytes: int, long_side: int = 0, short_side: int = 0) -> tuple[Image.Image, int]:
    """(decoded image, EXIF orientation) of bytes or a binary file object, under the workspace's pixel limit
    (see load_reduced for the sides)."""
    im = open_image(source)
    check_declared_size(im, max_pixel_bytes)
    load_reduced(im, long_side, short_side)
    return im, orientation(im)


def orient(im: Image.Image, orientation: int) -> Image.Image:
    for method in ORIENTATION_TRANSPOSE.get(orientation, []):
        im = im.transpose(method)
    return im


# ---------------------------------------------------------------- the colour rule


def value_levels(values: list) -> tuple:
    """(offset, top) that map a value band to 0..255 as (v - offset) * 255 / top: 65535 when every value fits
    0..65535 (16-bit data), else the values' own range. `values`: arrays covering the image (tiles)."""
    # np.max over the tiles' values, not Python's max: a NaN must propagate as it does over the whole array
    if np.max([a.max(initial=0) for a in values]) <= 65535 and np.min([a.min(initial=0) for a in values]) >= 0:
        return 0, 65535.0
    lo, hi = np.min([a.min() for a in values]), np.max([a.max() for a in values])
    top = max(hi - lo, 1)
    return (0 if top == 65535.0 else lo), top


def to_rgb(im: Image.Image, levels: tuple | None = None) -> Image.Image:
    """Any PIL mode -> 8-bit RGB as a person sees it: alpha over white, value bands (16-bit, 32-bit, float)
    scaled by `levels` (default: value_levels of the image itself), LAB and HSV by their first band. The scan's
    rows and the tensor cache depend on it: a change bumps scan.SCANNER_VERSION and data.TENSOR_VERSION."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in VALUE_MODES:
        arr = np.asarray(im, dtype=np.float64)
        offset, top = levels or value_levels([arr])
        arr = (arr - offset) * (255.0 / top)
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "La":  # premultiplied: Pillow converts it to LA only
        im = im.convert("LA")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode == "P":
        im = im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa"):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if im.mode == "RGB":
        return im
    try:
        return im.convert("RGB")
    except (ValueError, OSError):  # e.g. LAB, HSV: no direct conversion; the first band is lightness
        return im.getchannel(0).convert("RGB")


def _tiles(size: tuple, factor: int):
    """Boxes covering an image, each side a multiple of factor (but the last): box-reducing each alone averages
    the same pixels as reducing the whole."""
    w, h = size
    tw = max(1, min(w, TILE_SIDE) // factor) * factor
    th = max(1, TILE_PIXELS // tw // factor) * factor
    for top in range(0, h, th):
        for left in range(0, w, tw):
            yield left, top, min(w, left + tw), min(h, top + th)


def rgb_reduced(im: Image.Image, factor: int = 1, levels: tuple | None = None) -> Image.Image:
    """to_rgb(im, levels).reduce(factor), bit for bit (plain_rgb_reduced), without a full-size converted copy:
    an image over TILE_PIXELS becomes RGB and is reduced a tile at a time."""
    w, h = im.size
    if w * h <= TILE_PIXELS or im.mode == "RGB":  # RGB needs no conversion: only the reduced copy is made
        rgb = to_rgb(im, levels)
        return rgb.reduce(factor) if factor > 1 else rgb
    if levels is None and im.mode in VALUE_MODES:  # the whole image's range, found a tile at a time
        levels = value_levels([np.asarray(im.crop(box), np.float64) for box in _tiles(im.size, 1)])
    out = Image.new("RGB", (-(-w // factor), -(-h // factor)))
    for box in _tiles(im.size, factor):
        rgb = to_rgb(im.crop(box), levels)
        out.paste(rgb.reduce(factor) if factor > 1 else rgb, (box[0] // factor, box[1] // factor))
    return out


def work_image(im: Image.Image, orientation: int, work_side: int) -> Image.Image:
    """The scan's RGB image that every statistic is measured on: oriented, longest side <= work_side.

    Shrunk only by integer box reduction (Image.reduce): cheaper than a resampling resize and exact area
    averaging. After a DCT-scaled JPEG decode the long side is work_side..2*work_side, so the work image ends
    up work_side/2..work_side; scale-sensitive statistics (sharpness, hashes) are therefore taken on
    fixed-size grey images, not on this one.
    """
    return orient(rgb_reduced(im, math.ceil(max(im.size) / work_side)), orientation)


# ---------------------------------------------------------------- what a person sees, what the network sees


def display_levels(im: Image.Image) -> tuple[tuple | None, str]:
    """(levels, caption note) for a person's view: 12-bit values in a 16-bit file (all below 4096) are stretched
    to the full range, which the note says; anything else keeps the colour rule (None, "")."""
    if im.mode not in SIXTEEN_BIT:
        return None, ""
    top = max(int(np.asarray(im.crop(box)).max(initial=0)) for box in _tiles(im.size, 1))
    if not 0 < top <= TWELVE_BIT:
        return None, ""
    return (0, float(TWELVE_BIT)), (f"12-bit values in a 16-bit file (up to {top}): contrast-stretched x16 to be "
                                    "seen; the scan and the network divide them by 65535")


def display_view(im: Image.Image, orientation: int, max_side: int, stretch: bool = True) -> tuple[Image.Image, str]:
    """(what a person sees, at most max_side px a side; caption note or ""): the colour rule, oriented, made from
    a reduced decode or a box-reduced copy then Pillow's thumbnail, never a full-size copy."""
    levels, note = display_levels(im) if stretch else (None, "")
    rgb = orient(rgb_reduced(im, max(1, max(im.size) // max_side), levels), orientation)
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side))
    return rgb, note


def network_view(im: Image.Image, orientation: int, size: int) -> np.ndarray:
    """What the network sees, uint8 (3, size, size): the colour rule, oriented, box-reduced while the short side
    stays >= 2 x size, the short side resized to `size` (bilinear), centre-cropped."""
    rgb = orient(rgb_reduced(im, max(1, min(im.size) // (2 * size))), orientation)
    scale = size / min(rgb.size)
    rgb = rgb.resize((max(size, round(rgb.width * scale)), max(size, round(rgb.height * scale))),
                     Image.Resampling.BILINEAR)
    left, top = (rgb.width - size) // 2, (rgb.height - size) // 2
    return np.asarray(rgb.crop((left, top, left + size, top + size)), dtype=np.uint8).transpose(2, 0, 1).copy()


def open_for_display(source, max_pixel_bytes: int, max_side: int, stretch: bool = True) -> tuple[Image.Image, str]:
    """display_view of bytes or a binary file object. Raises on a file that does not decode."""
    return display_view(*decode(source, max_pixel_bytes, long_side=max_side), max_side, stretch)


def open_for_network(source, max_pixel_bytes: int, size: int) -> np.ndarray:
    """network_view of bytes or a binary file object. Raises on a file that does not decode."""
    return network_view(*decode(source, max_pixel_bytes, short_side=2 * size), size)


# ---------------------------------------------------------------- plain Pillow: what the fast paths must equal


def plain_rgb_reduced(im: Image.Image, factor: int = 1, levels: tuple | None = None) -> Image.Image:
    rgb = to_rgb(im, levels)
    return rgb.reduce(factor) if factor > 1 else rgb


def plain_raw_bytes(im: Image.Image, rawmode: str | None = None) -> bytes:
    return im.tobytes("raw", rawmode or im.mode)


def plain_jpeg_bytes(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def plain_grey_32(grey: np.ndarray) -> np.ndarray:
    """The hashes' 32x32 grey image (imagehash's resize) of a uint8 grey array."""
    return np.asarray(Image.fromarray(grey).resize((32, 32), Image.Resampling.LANCZOS))
