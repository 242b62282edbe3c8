"""One file's bytes -> the samples columns of DESIGN.md and a thumbnail. Never raises.

Everything is measured on one small "work image" (imaging.work_image: longest side <= work_side, EXIF
orientation applied, alpha composited on white): hashes and statistics then mean the same thing for a 32 px
PNG and a 4000 px JPEG, and the cost of a file is one decode plus a few operations on a tiny image. Reading,
the bomb check, the reduced decode and the colour rule are imaging.py's; this module adds what only the scan
records (hashes, frames, PNG checksums, the thumbnail) and statistics.py measures the work images.
"""

import re
import zlib

import xxhash
from PIL import Image

from . import imaging, pil_codecs, statistics
from .config import ScanConfig
from .schema import FEATURE_COLUMNS
from .storage import is_url

# What kind of pixels a PIL mode holds: images of one family are measured alike (quality's odd_mode,
# outliers compare within a family)
MODE_FAMILY = {"RGB": "colour", "YCbCr": "colour", "L": "greyscale", "1": "greyscale", "P": "palette",
               "RGBA": "alpha", "LA": "alpha", "PA": "alpha", "RGBa": "alpha", "La": "alpha", "CMYK": "CMYK",
               "I;16": "16-bit", "I;16B": "16-bit", "I;16L": "16-bit", "I;16N": "16-bit", "I": "32-bit",
               "F": "32-bit float", "LAB": "LAB", "HSV": "HSV"}
BROWSER_FORMATS = {"JPEG", "PNG"}  # thumbnails kept as the original bytes when already small


class ChecksumError(Exception):
    pass


def error_text(exc: BaseException) -> str:
    msg = str(exc).strip() or repr(exc)
    # Pillow names our in-memory copy or file object ("cannot identify image file <_io.BytesIO object at
    # 0x7f..>"): the row already names the file, and the address would make the reason differ between scans
    msg = re.sub(r" ?<_io\.\w+ (?:object at 0x[0-9a-f]+|name=[^>]*)>", "", msg)
    return f"{type(exc).__name__}: {msg}"[:500]


def empty_row() -> dict:
    return {**dict.fromkeys(FEATURE_COLUMNS), "ok": False}


def file_features(fs_path, **options) -> tuple[dict, bytes | None]:
    """(row, thumbnail JPEG/PNG bytes or None) for one file. Every failure becomes row["error"]."""
    return finish([decode_file(fs_path, **options)])[0]


def bytes_features(data: bytes, **options) -> tuple[dict, bytes | None]:
    return finish([decode_bytes(data, **options)])[0]


def decode_file(fs_path, work_side=ScanConfig.work_side, thumb_side=ScanConfig.thumb_side,
                thumb_quality=ScanConfig.thumb_quality, max_pixel_bytes=ScanConfig.max_pixel_bytes,
                storage=None, read_timeout_s=None) -> tuple:
    """The per-file half of file_features: (row, thumbnail, `statistics.prepare` output or None). `finish` adds
    the statistics, for a whole chunk of files at once (see statistics.py). With `storage` (fsspec options),
    fs_path is what fetch_objects made of (path or URL, size): a URL's bytes, or why they could not be read."""
    if storage is not None:
        fs_path, fetched = fs_path
        if is_url(fs_path):
            if isinstance(fetched, Exception):  # 403, 404, a timeout after the retries, not an image
                row = empty_row()
                row["error"] = error_text(fetched)
                if getattr(fetched, "limit", None):
                    row["limit"] = fetched.limit  # a longer --timeout reads it again (scan.py)
                return row, None, None
            return decode_bytes(fetched, work_side, thumb_side, thumb_quality, max_pixel_bytes)
    try:
        data = imaging.read_file(fs_path)
    except imaging.NotAnImage as exc:
        return _not_an_image(fs_path, exc.cause), None, None
    except (OSError, imaging.NotRegularFileError) as exc:
        row = empty_row()
        row["error"] = error_text(exc)
        return row, None, None
    return decode_bytes(data, work_side, thumb_side, thumb_quality, max_pixel_bytes)


def fetch_objects(payloads, storage=None, read_timeout_s=None, **_) -> list:
    """The pool's prefetch for a listing with URLs: [(fs_path, size)] -> [(fs_path, bytes or the exception)], a
    chunk's objects read at once (storage.read_objects); local files are left for decode_file to read."""
    from . import storage as objects  # fsspec is imported by the workers of URL datasets only
    return objects.read_objects(payloads, storage, read_timeout_s)


def _not_an_image(fs_path, reason: BaseException) -> dict:
    """The row of a big file that holds no image: its bytes hashed as they stream past, never held at once."""
    row = empty_row()
    row["error"] = error_text(reason)
    digest = xxhash.xxh3_128()
    try:
        for block in imaging.read_blocks(fs_path):
            digest.update(block)
        row["file_hash"] = digest.hexdigest()
    except (OSError, imaging.NotRegularFileError) as exc:
        row["error"] = error_text(exc)
    return row


def decode_bytes(data: bytes, work_side=ScanConfig.work_side, thumb_side=ScanConfig.thumb_side,
                 thumb_quality=ScanConfig.thumb_quality, max_pixel_bytes=ScanConfig.max_pixel_bytes) -> tuple:
    row = empty_row()
    row["file_hash"] = xxhash.xxh3_128_hexdigest(data)
    try:
        im = imaging.open_image(data)
        row.update(format=im.format, width=im.size[0], height=im.size[1], mode=im.mode)
        imaging.check_declared_size(im, max_pixel_bytes)  # first: for a PNG even getexif() decodes the pixels
        row["frames"] = _frame_count(im)
        if im.format == "PNG":
            verify_png_checksums(data)
        imaging.load_reduced(im, work_side)
        row["exif_orientation"] = imaging.orientation(im)
    except Exception as exc:  # any decoder error is the file's problem, reported as a row
        row["error"] = error_text(exc)
        if getattr(exc, "limit", None):
            row["limit"] = exc.limit  # the scan cache keeps it (scan.py), not the samples table
        return row, None, None
    row["ok"] = True
    try:
        # a big image's pixels are hashed a strip at a time, never copied whole beside the decoded ones
        whole = im.format != "JPEG" and im.size[0] * im.size[1] <= imaging.TILE_PIXELS
        pixels = pil_codecs.raw_bytes(im) if whole else None
        row["pixel_hash"] = _pixel_hash(data, im, row["exif_orientation"], pixels)
        work = imaging.work_image(im, row["exif_orientation"], work_side)
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


def _frame_count(im) -> int:
    try:
        n = int(getattr(im, "n_frames", 1))
        if n > 1:
            im.seek(0)
        return n
    except Exception:
        return 1


def verify_png_checksums(data: bytes) -> None:
    """PIL does not check the CRC of IDAT chunks, so damaged pixel data can decode silently."""
    i, n, view = 8, len(data), memoryview(data)  # chunks checked in place: a big IDAT is not copied
    while i + 12 <= n:
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        end = i + 8 + length
        if end + 4 > n:
            return  # truncated: the decoder reports it in its own words
        if zlib.crc32(view[i + 4:end]) != int.from_bytes(data[end:end + 4], "big"):
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
        if pixels is not None:
            h.update(pixels)
        else:  # the same bytes in strips of whole rows
            rows = max(1, imaging.TILE_PIXELS // im.size[0])
            for top in range(0, im.size[1], rows):
                h.update(pil_codecs.raw_bytes(im.crop((0, top, im.size[0], min(im.size[1], top + rows)))))
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


def _thumbnail(data, im, work, orientation, thumb_side, quality) -> bytes:
    small = im.format in BROWSER_FORMATS and max(im.size) <= thumb_side and orientation == 1
    if small and im.mode in ("RGB", "L") and len(data) <= 64 * 1024:
        return data  # already a small browser-ready image: re-encoding would only lose quality
    thumb = work
    if max(thumb.size) > thumb_side:
        thumb = thumb.copy()
        thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.BILINEAR)
    return pil_codecs.jpeg_bytes(thumb, quality)
