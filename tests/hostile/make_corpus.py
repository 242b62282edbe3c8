"""A hostile corpus, generated (no committed binaries): every kind of file that has crashed, hung or
exhausted another tool, laid out as a folder dataset so the scan lists every one of them.

    python tests/hostile/make_corpus.py OUT        # writes OUT/train/hostile/... and prints the kinds

`make_corpus(root)` returns one Entry per file it made: the name the samples table will show, the kind
(what the file is), and what the scan must do with it:
  "ok"           decodes (an odd but valid image: 16-bit, CMYK, 1x50000, EXIF-rotated, ...)
  "bad"          a row with ok False and the reason in `error` (zero bytes, bomb headers, bad CRC, ...)
  "unsupported"  an `unsupported_file` row: never opened as an image (FIFO, folder named x.jpg, loops)
  "any"          a row either way; if it does not decode, a reason (random damage may leave a file valid)
  "gone"         deleted between listing and reading (the caller deletes it; see DELETED)
"""

import io
import os
import random
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

CLASS_DIR = ("train", "hostile")
DELETED = "deleted_between_listing_and_reading.png"
FORMATS = {"jpg": ("JPEG", {"quality": 90}), "png": ("PNG", {}), "gif": ("GIF", {}),
           "webp": ("WEBP", {"quality": 80}), "tif": ("TIFF", {}), "bmp": ("BMP", {})}


@dataclass(frozen=True)
class Entry:
    name: bytes  # file name inside the class folder, as bytes (some are not UTF-8)
    kind: str  # what the file is, for messages and for counting the kinds
    expect: str  # ok | bad | unsupported | any | gone

    @property
    def path(self) -> str:
        """The samples table's `path`: POSIX, relative to the dataset root, non-UTF-8 bytes escaped."""
        name = self.name.decode("utf-8", "surrogateescape").encode("utf-8", "surrogateescape")
        return "/".join(CLASS_DIR) + "/" + name.decode("utf-8", "backslashreplace")


def picture(w=48, h=40, seed=0, mode="RGB") -> Image.Image:
    """Smooth random content (photo-like, so JPEG and WebP code it as they would a photo)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    im = Image.fromarray(small, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    return im if mode == "RGB" else im.convert(mode)


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A well-formed PNG header (valid CRCs) declaring width x height RGB, with a tiny IDAT: a bomb header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def png_bomb(side: int = 20_000) -> bytes:
    """A real decompression bomb: side x side greyscale with every row there, as zeros that deflate ~1000:1
    (20,000 px: ~400 KB on disk, 400 MB of pixels once decoded). Built fast: after a full flush deflate
    starts afresh, so the compressed block of 50 zero rows is the same each time and is repeated."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = b"\0" * ((side + 1) * 50)  # 50 rows, each a filter byte and side zero pixels
    deflate = zlib.compressobj(9)
    first = deflate.compress(rows) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(rows) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()[:-4]  # the final empty block; its checksum must cover all the rows, not two
    checksum = 1
    for _ in range(side // 50):
        checksum = zlib.adler32(rows, checksum)
    stream = first + block * (side // 50 - 1) + end + struct.pack(">I", checksum)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", stream) + png_chunk(b"IEND", b"")


def gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose logical screen and frame declare width x height (65535 max), with one tiny code block."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b"\x3b"


def png_with_text_bomb() -> bytes:
    """A valid small PNG with a zTXt chunk that inflates to 64 MB (a text-chunk decompression bomb)."""
    data = encode(picture(16, 16, seed=3), "PNG")
    bomb = png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * (64 * 2**20), 9))
    return data[:33] + bomb + data[33:]


def png_garbage_idat() -> bytes:
    """Pixel data that is not zlib at all, inside chunks whose CRCs are right (damage before packaging)."""
    ihdr = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", bytes(range(200)))
            + png_chunk(b"IEND", b""))


def png_bad_crc() -> bytes:
    data = bytearray(encode(picture(24, 24, seed=4), "PNG"))
    idat = data.find(b"IDAT")
    data[idat + 8] ^= 0xFF  # first byte of the compressed data; the stored CRC no longer matches
    return bytes(data)


def with_exif(im: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", quality=90, exif=exif)


def truncations(data: bytes) -> list[int]:
    """Many cut points: inside the signature, the header, the first data, the middle, the last bytes."""
    n = len(data)
    cuts = {1, 4, 8, 12, 16, 26, 33, 64, n // 8, n // 4, n // 2, 3 * n // 4, n - 16, n - 2, n - 1}
    return sorted(c for c in cuts if 0 < c < n)


def bit_flipped(data: bytes, rng: random.Random, flips: int) -> bytes:
    out = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_shuffled(data: bytes, rng: random.Random, keep_header: int = 16) -> bytes:
    """The signature kept (so the format is still recognised), a span of the rest shuffled."""
    body = bytearray(data[keep_header:])
    start = rng.randrange(len(body) // 2)
    span = body[start:start + max(8, len(body) // 3)]
    rng.shuffle(span)
    body[start:start + len(span)] = span
    return data[:keep_header] + bytes(body)


def valid_images() -> list[tuple[str, str, bytes]]:
    """(file name, kind, bytes) of odd but valid images."""
    base = picture(48, 40, seed=1)
    rng = np.random.default_rng(2)
    sixteen = Image.fromarray(rng.integers(0, 65535, (32, 32), dtype=np.uint16))  # mode I;16
    palette = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(base.size))
    frames = [picture(32, 32, seed=s) for s in range(4)]
    float32 = Image.fromarray(rng.normal(0, 1000, (24, 24)).astype(np.float32))
    int32 = Image.fromarray(rng.integers(-2**20, 2**20, (24, 24)).astype(np.int32))
    out = [
        ("one_by_one.png", "1x1 image", encode(picture(1, 1, seed=5), "PNG")),
        ("one_by_50000.png", "1x50000 image", encode(picture(1, 50_000, seed=6), "PNG")),
        ("50000_by_one.png", "50000x1 image", encode(picture(50_000, 1, seed=7), "PNG")),
        ("sixteen_bit.png", "16-bit greyscale PNG", encode(sixteen, "PNG")),
        ("sixteen_bit.tif", "16-bit greyscale TIFF", encode(sixteen, "TIFF")),
        ("cmyk.jpg", "CMYK JPEG", encode(base.convert("CMYK"), "JPEG", quality=90)),
        ("cmyk.tif", "CMYK TIFF", encode(base.convert("CMYK"), "TIFF")),
        ("lab.tif", "LAB TIFF", encode(base.convert("LAB"), "TIFF")),
        ("float32.tif", "32-bit float TIFF", encode(float32, "TIFF")),
        ("int32.tif", "32-bit integer TIFF", encode(int32, "TIFF")),
        ("palette_transparent.png", "palette + transparency PNG", encode(palette, "PNG")),
        ("palette_transparent.gif", "palette + transparency GIF", encode(palette, "GIF", transparency=0)),
        ("rgba.png", "RGBA PNG", encode(rgba, "PNG")),
        ("rgba.webp", "RGBA WebP", encode(rgba, "WEBP", lossless=True)),
        ("la.png", "greyscale + alpha PNG", encode(rgba.convert("LA"), "PNG")),
        ("bilevel.bmp", "1-bit BMP", encode(base.convert("1"), "BMP")),
        ("progressive.jpg", "progressive JPEG", encode(base, "JPEG", quality=85, progressive=True)),
        ("animated.gif", "multi-frame GIF", encode(frames[0], "GIF", save_all=True, append_images=frames[1:],
                                                   duration=50, loop=0)),
        ("multipage.tif", "multi-frame TIFF", encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])),
        ("animated.webp", "multi-frame WebP", encode(frames[0], "WEBP", save_all=True, append_images=frames[1:],
                                                     duration=50)),
        ("jpeg_named.png", "JPEG content named .png", encode(base, "JPEG", quality=90)),
        ("UPPER.JPG", "upper-case extension", encode(base, "JPEG", quality=90)),
    ]
    out += [(f"exif_orientation_{o}.jpg", "EXIF orientation 1-8", with_exif(picture(40, 24, seed=o), o))
            for o in range(1, 9)]
    return out


def broken_images() -> list[tuple[str, str, bytes]]:
    """(file name, kind, bytes) that must not decode."""
    return [
        ("zero_bytes.jpg", "zero bytes", b""),
        ("zero_bytes.png", "zero bytes", b""),
        ("text_named.png", "text named .png", b"this is not an image\n" * 10),
        ("html_named.jpg", "HTML error page named .jpg", b"<html><body>403 Forbidden</body></html>"),
        ("huge_header.png", "huge declared dimensions (PNG)", png_declaring(100_000, 100_000)),
        ("huge_header_max.png", "huge declared dimensions (PNG)", png_declaring(2**31 - 1, 2**31 - 1)),
        ("huge_header.gif", "huge declared dimensions (GIF)", gif_declaring(65_535, 65_535)),
        ("decompression_bomb.png", "decompression bomb (PNG, 400 MB of zeros)", png_bomb()),
        ("zero_width.png", "zero declared width (PNG)", png_declaring(0, 10)),
        ("text_chunk_bomb.png", "zTXt decompression bomb (PNG)", png_with_text_bomb()),
        ("bad_crc.png", "PNG with a damaged IDAT (CRC mismatch)", png_bad_crc()),
        ("signature_only.png", "PNG signature only", b"\x89PNG\r\n\x1a\n"),
        ("soi_only.jpg", "JPEG start marker only", b"\xff\xd8"),
    ]


def damaged_images(seed: int = 0) -> list[tuple[str, str, bytes, str]]:
    """(file name, kind, bytes, expect): every format truncated at many offsets, bit-flipped, byte-shuffled."""
    rng = random.Random(seed)
    out = []
    for ext, (fmt, options) in FORMATS.items():
        data = encode(picture(64, 48, seed=10), fmt, **options)
        for cut in truncations(data):
            # a cut inside the header or the first data cannot decode; near the end it may (a missing trailer)
            expect = "bad" if cut < min(33, len(data) // 4) else "any"
            out.append((f"truncated_{fmt.lower()}_{cut:05d}.{ext}", f"truncated {fmt}", data[:cut], expect))
        for i in range(3):
            out.append((f"bitflip_{fmt.lower()}_{i}.{ext}", f"bit-flipped {fmt}", bit_flipped(data, rng, 4 + 8 * i),
                        "any"))
            out.append((f"shuffled_{fmt.lower()}_{i}.{ext}", f"byte-shuffled {fmt}", byte_shuffled(data, rng), "any"))
    return out


def make_corpus(root, seed: int = 0) -> list[Entry]:
    """Write the corpus under root/train/hostile/ (plus hidden helpers) and return what it made."""
    root = Path(root)
    folder = root.joinpath(*CLASS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    bfolder = os.fsencode(folder)
    entries = []

    def put(name, kind, data: bytes, expect):
        name = os.fsencode(name) if isinstance(name, str) else name
        with open(os.path.join(bfolder, name), "wb") as f:
            f.write(data)
        entries.append(Entry(name, kind, expect))

    for name, kind, data in valid_images():
        put(name, kind, data, "ok")
    for name, kind, data in broken_images():
        put(name, kind, data, "bad")
    for name, kind, data, expect in damaged_images(seed):
        put(name, kind, data, expect)
    put("garbage_idat_valid_crc.png", "PNG with garbage pixel data and valid CRCs", png_garbage_idat(), "bad")

    good = encode(picture(32, 32, seed=20), "PNG")
    put("new\nline.png", "name with a newline", good, "ok")
    put("emoji_\U0001f431\U0001f436.png", "name with emoji", good, "ok")
    put(b"invalid_utf8_\xff\xfe.png", "name with invalid UTF-8 bytes", good, "ok")
    put("=HYPERLINK(1+1).png", "name a spreadsheet would run", good, "ok")
    put(DELETED, "file deleted between listing and reading", good, "gone")
    put("README.txt", "text file in a class folder", b"notes\n", "unsupported")

    deep = folder.joinpath(*[f"d{i}" for i in range(60)])
    deep.mkdir(parents=True)
    (deep / "deep.png").write_bytes(good)
    entries.append(Entry(os.fsencode(os.path.relpath(deep / "deep.png", folder)), "60 nested folders", "ok"))

    (folder / "x.jpg").mkdir()
    entries.append(Entry(b"x.jpg", "a directory named x.jpg", "unsupported"))
    os.mkfifo(folder / "fifo.jpg")
    entries.append(Entry(b"fifo.jpg", "a FIFO named .jpg", "unsupported"))

    os.symlink("no_such_target.png", folder / "dangling.png")
    entries.append(Entry(b"dangling.png", "dangling symlink", "unsupported"))
    os.symlink("cycle_b.png", folder / "cycle_a.png")
    os.symlink("cycle_a.png", folder / "cycle_b.png")
    entries += [Entry(b"cycle_a.png", "cyclic symlinks", "unsupported"),
                Entry(b"cycle_b.png", "cyclic symlinks", "unsupported")]
    os.symlink("one_by_one.png", folder / "symlink_to_image.png")
    entries.append(Entry(b"symlink_to_image.png", "symlink to an image", "ok"))
    # chains of symlinks in a hidden folder (not listed); only the head of each chain is in the class folder.
    # Linux follows at most 40: a chain of 10 resolves, one of 60 does not (ELOOP)
    chains = folder / ".chains"
    chains.mkdir()
    for length, expect in ((10, "ok"), (60, "unsupported")):
        target = os.path.abspath(folder / "one_by_one.png")
        for i in range(length - 1, 0, -1):
            link = chains / f"chain{length}_{i}"
            os.symlink(target, link)
            target = str(link)
        os.symlink(target, folder / f"symlink_chain_{length}.png")
        entries.append(Entry(os.fsencode(f"symlink_chain_{length}.png"), f"chain of {length} symlinks", expect))
    # folder loops: a link back to an ancestor, and two folders linking to each other (never entered twice)
    os.symlink("..", folder / "loop_to_parent")
    (folder / "ping").mkdir()
    (folder / "pong").mkdir()
    os.symlink("../pong", folder / "ping" / "to_pong")
    os.symlink("../ping", folder / "pong" / "to_ping")
    return entries


def kinds(entries) -> list[str]:
    return sorted({e.kind for e in entries})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/hostile/make_corpus.py OUT_FOLDER")
    made = make_corpus(sys.argv[1])
    print(f"{len(made)} files of {len(kinds(made))} kinds under {Path(sys.argv[1]).joinpath(*CLASS_DIR)}:")
    for kind in kinds(made):
        print(f"  {kind}")
