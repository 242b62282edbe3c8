"""Reading one file costs bounded memory, whatever it declares (README, Guarantees): a PNG just under the
bomb limit costs its pixels once as Pillow holds them, never an RGB copy beside them; a JPEG is decoded
reduced; a 1.5 GB file that is no image is never read whole. Each in the scan worker's reader, the app's
full-size view and the trainer's decode, measured as the rise of VmHWM in a fresh process."""

import json
import struct
import zlib

import pytest
import xxhash
from PIL import Image

from tests.hostile.helpers import PY, env, run_measured

SLACK_MB = 48  # the small images beside the pixels (tiles, the work image, the view) and the allocator's slack
READERS = ["scan", "display", "network"]


def png_of_zeros(path, width: int, height: int, colour_type: int, channels: int) -> None:
    """A valid 8-bit PNG of `width` x `height` black pixels, written a row at a time: ~1,000x smaller than
    its pixels, never held whole here."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    squeeze, row = zlib.compressobj(9), bytes(1 + width * channels)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("big")
    png_of_zeros(base / "rgb.png", 8980, 8980, 2, 3)  # 242 MB of RGB pixels declared, 256 MB allowed
    png_of_zeros(base / "grey.png", 15550, 15550, 0, 1)  # 242 MB of grey pixels
    Image.new("RGB", (8000, 8000), (90, 120, 200)).save(base / "photo.jpg", quality=90)  # 192 MB of pixels
    with open(base / "huge.jpg", "wb") as f:  # 1.5 GB, sparse: costs no disk
        f.write(b"this is not a JPEG, whatever its name says\n")
        f.truncate(1_500_000_000)
    return base


def peak(what: str, path) -> dict:
    done = run_measured([PY, "-m", "tests.hostile.peak_reader", what, str(path)], timeout=300, env=env())
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("what", READERS)
@pytest.mark.parametrize("name, held_mb", [("rgb.png", 8980 * 8980 * 4 / 2**20), ("grey.png", 15550 ** 2 / 2**20)])
def test_a_png_just_under_the_bomb_limit_costs_its_pixels_once(files, name, held_mb, what):
    """held_mb: the declared pixels as Pillow holds them (RGB padded to 4 bytes a pixel). Before: the scan
    worker rose ~620 MB on the RGB one (a whole copy for the pixel hash), the app's view ~780 MB."""
    seen = peak(what, files / name)
    assert seen["ok"], seen["error"]
    assert seen["rise_mb"] < held_mb + SLACK_MB, seen


@pytest.mark.slow
@pytest.mark.parametrize("what", READERS)
def test_a_big_jpeg_is_decoded_reduced(files, what):
    seen = peak(what, files / "photo.jpg")  # 8000 x 8000: 244 MB as Pillow would hold it at full size
    assert seen["ok"], seen["error"]
    assert seen["rise_mb"] < 16 * 1.33 + SLACK_MB, seen  # the app's view: 1/4 scale, 2000 x 2000 (the largest)


@pytest.mark.slow
def test_a_huge_file_that_is_no_image_is_never_read_whole(files):
    seen = peak("scan", files / "huge.jpg")
    assert seen["error"] == "UnidentifiedImageError: cannot identify image file" and not seen["ok"]
    assert seen["rise_mb"] < SLACK_MB, seen  # before: 1,430 MB (the whole file in memory)
    digest = xxhash.xxh3_128()
    with open(files / "huge.jpg", "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    assert seen["file_hash"] == digest.hexdigest()  # still hashed, as it streamed past
