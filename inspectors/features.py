"""One file's bytes -> the samples columns of DESIGN.md and a thumbnail. Never raises.

Everything is measured on one small "work image" (longest side <= work_side, EXIF orientation applied,
alpha composited on white): hashes and statistics then mean the same thing for a 32 px PNG and a
4000 px JPEG, and the cost of a file is one decode plus a few operations on a tiny image. JPEGs use
PIL's DCT-scaled decode (`draft`): it still entropy-decodes every block, so truncated or damaged data
raises exactly as a full decode would, at a fraction of the cost.
"""

import io
import math
import os
import re
import stat
import zlib

import numpy as np
import xxhash
from PIL import Image, ImageFile

from . import pil_codecs, statistics
from .config import ScanConfig
from .schema import FEATURE_COLUMNS

# We check the declared size against our own limit before decoding (see _check_declared_size);
# PIL's own bomb guard would otherwise fire at a different, unconfigurable size.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False  # truncated files must fail, not decode half-grey

BYTES_PER_BAND = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}
# What kind of pixels a PIL mode holds: images of one family are measured alike (quality's odd_mode,
# outliers compare within a family)
MODE_FAMILY = {"RGB": "colour", "YCbCr": "colour", "L": "greyscale", "1": "greyscale", "P": "palette",
               "RGBA": "alpha", "LA": "alpha", "PA": "alpha", "RGBa": "alpha", "La": "alpha", "CMYK": "CMYK",
               "I;16": "16-bit", "I;16B": "16-bit", "I;16L": "16-bit", "I;16N": "16-bit", "I": "32-bit",
               "F": "32-bit float", "LAB": "LAB", "HSV": "HSV"}
ORIENTATION_TRANSPOSE = {
    2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE], 8: [Image.Transpose.ROTATE_90],
}
BROWSER_FORMATS = {"JPEG", "PNG"}  # thumbnails kept as the original bytes when already small
READ_BLOCK = 1 << 20


class EmptyFileError(Exception):
    pass


class NotRegularFileError(Exception):
    pass


class TooLargeError(Exception):
    limit = None  # ("max_pixel_bytes", the limit) when refused for the limit: a looser one reads the file again


class ChecksumError(Exception):
    pass


def error_text(exc: BaseException) -> str:
    msg = str(exc).strip() or repr(exc)
    # Pillow names our in-memory copy ("cannot identify image file <_io.BytesIO object at 0x7f..>"): the row
    # already names the file, and the address would make the reason differ from scan to scan
    msg = re.sub(r" ?<_io\.BytesIO object at 0x[0-9a-f]+>", "", msg)
    return f"{type(exc).__name__}: {msg}"[:500]


def empty_row() -> dict:
    return {**dict.fromkeys(FEATURE_COLUMNS), "ok": False}


def read_file(fs_path) -> bytes:
    """Read a regular file once. O_NONBLOCK so a FIFO that slipped past the listing cannot hang us."""
    fd = os.open(fs_path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError("not a regular file")
        # to the end, as f.read() would (one read of the stated size + 1, then until a read returns
        # nothing), without a file object per file
        parts = [os.read(fd, info.st_size + 1)]
        while parts[-1]:
            parts.append(os.read(fd, READ_BLOCK))
        return parts[0] if len(parts) == 2 else b"".join(parts)
    finally:
        os.close(fd)


def file_features(fs_path, **options) -> tuple[dict, bytes | None]:
    """(row, thumbnail JPEG/PNG bytes or None) for one file. Every failure becomes row["error"]."""
    return finish([decode_file(fs_path, **options)])[0]


def bytes_features(data: bytes, **options) -> tuple[dict, bytes | None]:
    return finish([decode_bytes(data, **options)])[0]


def decode_file(fs_path, work_side=ScanConfig.work_side, thumb_side=ScanConfig.thumb_side,
                thumb_quality=ScanConfig.thumb_quality, max_pixel_bytes=ScanConfig.max_pixel_bytes) -> tuple:
    """The per-file half of file_features: (row, thumbnail, `statistics.prepare` output or None). `finish` adds
    the statistics, for a whole chunk of files at once (see statistics.py)."""
    try:
        data = read_file(fs_path)
    except (OSError, NotRegularFileError) as exc:
        row = empty_row()
        row["error"] = error_text(exc)
        return row, None, None
    return decode_bytes(data, work_side, thumb_side, thumb_quality, max_pixel_bytes)


def decode_bytes(data: bytes, work_side=ScanConfig.work_side, thumb_side=ScanConfig.thumb_side,
                 thumb_quality=ScanConfig.thumb_quality, max_pixel_bytes=ScanConfig.max_pixel_bytes) -> tuple:
    row = empty_row()
    row["file_hash"] = xxhash.xxh3_128_hexdigest(data)
    try:
        if not data:
            raise EmptyFileError("the file is 0 bytes")
        im = Image.open(io.BytesIO(data))
        row.update(format=im.format, width=im.size[0], height=im.size[1], mode=im.mode)
        _check_declared_size(im, max_pixel_bytes)  # first: for a PNG even getexif() decodes the pixels
        row["frames"] = _frame_count(im)
        if im.format == "PNG":
            verify_png_checksums(data)
        pil_codecs.draft_for_work(im, work_side)
        im.load()
        row["exif_orientation"] = _orientation(im)
    except Exception as exc:  # any decoder error is the file's problem, reported as a row
        row["error"] = error_text(exc)
        if getattr(exc, "limit", None):
            row["limit"] = exc.limit  # the scan cache keeps it (scan.py), not the samples table
        return row, None, None
    row["ok"] = True
    try:
        pixels = None if im.format == "JPEG" else pil_codecs.raw_bytes(im)
        row["pixel_hash"] = _pixel_hash(data, im, row["exif_orientation"], pixels)
        work = work_image(im, row["exif_orientation"], work_side)
        # an RGB image measured as stored: the bytes the pixel hash read are already its pixels
        prepared = statistics.prepare(work, pixels if work is im else None)
        thumb = _thumbnail(data, im, work, row["exif_orientation"], thumb_side, thumb_quality)
    except Exception as exc:  # decoded, but an unusual mode defeated our maths: say so, keep the row
        return _statistics_failed(row, exc), None, None
    return row, thumb, prepared


def finish(decoded: list) -> list[tuple[dict, bytes | None]]:
    """decode_file results of a chunk -> [(row, thumbnail)], the statistics measured for all at once."""
    todo = [i for i, (_, _, prepared) in enumerate(decoded) if prepared is not None]
    rows = [row for row, _, _ in decoded]
    try:
        measured = statistics.chunk_statistics([decoded[i][2] for i in todo]) if todo else []
    except Exception:  # one odd image must not cost the chunk its statistics: measure each alone
        measured = []
        for i in todo:
            try:
                measured.append(statistics.chunk_statistics([decoded[i][2]])[0])
            except Exception as exc:
                measured.append(exc)
    thumbs = [thumb for _, thumb, _ in decoded]
    for i, stats in zip(todo, measured, strict=True):
        if isinstance(stats, Exception):
            rows[i], thumbs[i] = _statistics_failed(rows[i], stats), None
        else:
            rows[i].update(stats)
    return list(zip(rows, thumbs, strict=True))


def _statistics_failed(row: dict, exc: BaseException) -> dict:
    row["error"] = f"decoded, but its statistics failed: {error_text(exc)}"
    return row


# Where Pillow 13's getexif() finds an orientation (Image.getexif, PngImageFile.getexif): info keys, or a TIFF's
# tags. Most files have none, and building the empty Exif object to learn so is not free (docs/benchmarks.md,
# "Orientation").
EXIF_SOURCES = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")


def _orientation(im) -> int:
    if not hasattr(im, "tag_v2") and not any(key in im.info for key in EXIF_SOURCES):
        return 1
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


def _frame_count(im) -> int:
    try:
        n = int(getattr(im, "n_frames", 1))
        if n > 1:
            im.seek(0)
        return n
    except Exception:
        return 1


def _check_declared_size(im, max_pixel_bytes) -> None:
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


def verify_png_checksums(data: bytes) -> None:
    """PIL does not check the CRC of IDAT chunks, so damaged pixel data can decode silently."""
    i, n = 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        end = i + 8 + length
        if end + 4 > n:
            return  # truncated: the decoder reports it in its own words
        if zlib.crc32(data[i + 4:end]) != int.from_bytes(data[end:end + 4], "big"):
            raise ChecksumError(f"PNG chunk {kind.decode('latin-1')} at byte {i}: CRC mismatch (damaged data)")
        if kind == b"IEND":
            return
        i = end + 4


def _pixel_hash(data: bytes, im, orientation: int, pixels: bytes | None = None) -> str:
    """Same pixels -> same value. For JPEG: the coded image data without metadata segments, since
    identical coefficients and tables decode to identical pixels (hashing the DCT-scaled pixels
    would merge images that differ only in fine detail)."""
    h = xxhash.xxh3_128()
    h.update(f"{orientation}|".encode())
    if im.format == "JPEG":
        for part in jpeg_without_metadata(data):
            h.update(part)
    else:
        h.update(f"{im.mode}|{im.size[0]}x{im.size[1]}|".encode())
        h.update(pil_codecs.raw_bytes(im) if pixels is None else pixels)
    return h.hexdigest()


def jpeg_without_metadata(data: bytes) -> list:
    """The JPEG's byte ranges minus APPn and COM segments before the first scan (views, no copies)."""
    view = memoryview(data)
    if data[:2] != b"\xff\xd8":
        return [view]
    parts, i, n = [(0, 2)], 2, len(data)
    while i + 4 <= n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan: everything from here is coded data
            break
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            parts.append((i, i + 2 + length))
        i += 2 + length
    parts.append((i, n))
    # adjacent kept ranges become one view: fewer hash updates, the same bytes in the same order
    merged = [list(parts[0])]
    for start, end in parts[1:]:
        if start == merged[-1][1]:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [view[start:end] for start, end in merged]


def to_rgb(im) -> Image.Image:
    """Any PIL mode -> 8-bit RGB as a person would see it (alpha over white, 16-bit scaled)."""
    mode = im.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) <= 65535 and arr.min(initial=0) >= 0 else max(arr.max() - arr.min(), 1)
        arr = (arr - (0 if top == 65535.0 else arr.min())) * (255.0 / top)
        grey = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    elif mode == "P":
        im = im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
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


def work_image(im, orientation: int, work_side: int) -> Image.Image:
    """The RGB image every statistic is measured on: oriented, longest side <= work_side.

    Shrunk only by integer box reduction (Image.reduce): 4x cheaper than a resampling resize and
    exact area averaging. After a DCT-scaled JPEG decode the long side is work_side..2*work_side,
    so the work image ends up work_side/2..work_side; scale-sensitive statistics (sharpness, hashes)
    are therefore taken on fixed-size grey images, not on this one.
    """
    rgb = to_rgb(im)
    factor = math.ceil(max(rgb.size) / work_side)
    if factor > 1:
        rgb = rgb.reduce(factor)
    for method in ORIENTATION_TRANSPOSE.get(orientation, []):
        rgb = rgb.transpose(method)
    return rgb


def _thumbnail(data, im, work, orientation, thumb_side, quality) -> bytes:
    small = im.format in BROWSER_FORMATS and max(im.size) <= thumb_side and orientation == 1
    if small and im.mode in ("RGB", "L") and len(data) <= 64 * 1024:
        return data  # already a small browser-ready image: re-encoding would only lose quality
    thumb = work
    if max(thumb.size) > thumb_side:
        thumb = thumb.copy()
        thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.BILINEAR)
    return pil_codecs.jpeg_bytes(thumb, quality)
