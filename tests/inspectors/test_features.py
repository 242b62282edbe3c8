import io
import math
import struct
import zlib

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageFilter

from inspectors import features, statistics
from tests.conftest import encode, noise_image


def feats(data, **kw):
    return features.bytes_features(data, **kw)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(w=100_000, h=100_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        png_chunk(b"IEND", b"")


def test_healthy_jpeg_has_every_column():
    row, thumb = feats(encode(noise_image(300, 200), "JPEG", quality=90))
    assert row["ok"] and row["error"] is None
    assert (row["format"], row["width"], row["height"], row["mode"], row["frames"]) == ("JPEG", 300, 200, "RGB", 1)
    assert row["exif_orientation"] == 1
    assert len(row["appearance"]) == 256
    assert 0 < row["brightness"] < 1 and row["contrast"] > 0 and row["sharpness"] > 0 and 0 < row["entropy"] <= 8
    assert isinstance(row["phash"], int) and -(2**63) <= row["phash"] < 2**63
    w, h = Image.open(io.BytesIO(thumb)).size
    assert 64 < w <= 128 and abs(w / h - 1.5) < 0.05  # box-reduced, aspect kept


def test_zero_bytes_is_reported():
    row, thumb = feats(b"")
    assert not row["ok"] and row["error"].startswith("EmptyFileError") and thumb is None


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.9, 0.99])
def test_truncated_jpeg_is_reported_corrupt(cut):
    data = encode(noise_image(256, 256), "JPEG", quality=90)
    row, _ = feats(data[: int(len(data) * cut)])
    assert not row["ok"] and row["error"].startswith("OSError")


def test_dct_scaled_decode_fails_like_full_decode_on_truncation():
    data = encode(noise_image(512, 512), "JPEG", quality=90)[:20000]
    with pytest.raises(OSError) as full:
        Image.open(io.BytesIO(data)).load()
    row, _ = feats(data)
    assert row["error"] == f"OSError: {full.value}"


def test_truncated_png_is_reported_corrupt():
    data = encode(noise_image(200, 200), "PNG")
    row, _ = feats(data[: len(data) // 2])
    assert not row["ok"]
    assert row["error"].split(":")[0] in ("OSError", "SyntaxError")


def test_png_with_bad_crc_is_reported():
    data = bytearray(encode(noise_image(64, 64), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # damage the compressed data, leave the stored CRC
    row, _ = feats(bytes(data))
    assert not row["ok"] and row["error"]


@pytest.mark.parametrize("data", [bytes(range(256)) * 8, b"this is a text file, not an image\n"])
def test_bytes_that_are_no_image_are_reported(data):
    row, _ = feats(data)
    assert row["error"] == "UnidentifiedImageError: cannot identify image file"  # no in-memory object named
    assert not row["ok"] and row["file_hash"] is not None  # the bytes were still read and hashed


def test_bomb_header_is_refused_without_decoding():
    row, thumb = feats(bomb_png())
    assert not row["ok"] and row["error"].startswith("TooLargeError")
    assert "100000x100000" in row["error"] and (row["width"], row["height"]) == (100_000, 100_000)
    assert thumb is None


def test_pixel_limit_is_configurable():
    data = encode(noise_image(100, 100), "PNG")
    assert feats(data, max_pixel_bytes=100 * 100 * 3)[0]["ok"]
    assert not feats(data, max_pixel_bytes=100 * 100 * 3 - 1)[0]["ok"]


def test_jpeg_content_is_detected_whatever_the_name():
    row, _ = feats(encode(noise_image(), "JPEG"))
    assert row["format"] == "JPEG" and row["ok"]  # the name (e.g. x.png) plays no part here


def test_colour_entropy_counts_the_colours_a_picture_uses():
    flat = Image.new("RGB", (64, 64), (200, 40, 40))
    two = flat.copy()
    two.paste((20, 90, 200), (0, 0, 32, 64))  # half red, half blue: two colours, one bit
    rng = np.random.default_rng(0)
    grey_noise = Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8), "L")
    colour_noise = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    got = [feats(encode(im, "PNG"))[0]["colour_entropy"] for im in (flat, two, grey_noise, colour_noise)]
    assert got[0] == 0.0 and got[1] == pytest.approx(1.0)
    flat_row = feats(encode(flat, "PNG"))[0]  # one colour, one grey level: zero, and not shown as -0.00
    assert math.copysign(1.0, flat_row["colour_entropy"]) == math.copysign(1.0, flat_row["entropy"]) == 1.0
    assert 3.9 < got[2] <= 4.0  # a grey image keeps to one channel's 16 levels
    assert got[3] > 11.0  # 4,096 colour bins, 4,096 pixels: nearly all distinct


def test_cmyk_jpeg_decodes_to_rgb_statistics():
    row, _ = feats(encode(noise_image().convert("CMYK"), "JPEG"))
    assert row["ok"] and row["mode"] == "CMYK" and row["mean_r"] is not None


def test_sixteen_bit_png_is_scaled_not_clipped():
    arr = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    row, _ = feats(encode(Image.fromarray(arr), "PNG"))
    assert row["ok"] and row["mode"].startswith("I")
    assert row["brightness"] == pytest.approx(0.5, abs=0.02)  # clipping at 255 would give ~1.0


def test_palette_with_transparency_is_composited_on_white():
    im = Image.new("P", (32, 32), 0)
    im.putpalette([0, 0, 0] + [255, 0, 0] * 255)
    im.info["transparency"] = 0
    row, _ = feats(encode(im, "PNG", transparency=0))
    assert row["ok"] and row["mode"] == "P" and row["brightness"] == pytest.approx(1.0)


def test_animated_gif_counts_frames_and_reads_the_first():
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    row, _ = feats(buf.getvalue())
    assert row["ok"] and row["frames"] == 3 and row["mean_r"] > 0.9 and row["mean_g"] < 0.1


def test_exif_rotation_is_applied_to_statistics_but_not_to_stored_size():
    im = Image.new("RGB", (80, 40), (0, 0, 0))
    im.paste((255, 255, 255), (0, 0, 40, 40))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(im, "JPEG", exif=exif, quality=95)
    row, thumb = feats(data)
    assert (row["width"], row["height"], row["exif_orientation"]) == (80, 40, 6)
    displayed = Image.open(io.BytesIO(thumb))
    assert displayed.size == (40, 80)  # the thumbnail is what a person sees
    top = np.asarray(displayed.convert("L"))[:40].mean()
    assert top > 200  # the white half is on top after the rotation


def test_phash_and_dhash_equal_imagehash_on_the_same_pixels():
    for seed in range(20):
        grey = noise_image(97, 71, seed=seed).convert("L")
        assert statistics.phash(grey) == statistics.bits_to_int64(imagehash.phash(grey).hash)
        assert statistics.dhash(grey) == statistics.bits_to_int64(imagehash.dhash(grey).hash)
        assert f"{statistics.phash(grey) & (2**64 - 1):016x}" == str(imagehash.phash(grey))


def test_a_chunk_measures_each_image_as_if_it_were_alone():
    works = [noise_image(40 + 13 * i, 90 - 7 * i, seed=i) for i in range(6)]
    works += [Image.new("RGB", (32, 32), (9, 9, 9)), Image.new("RGB", (2, 50), (200, 10, 10))]
    together = statistics.chunk_statistics([statistics.prepare(w) for w in works])
    alone = [statistics.image_statistics(w) for w in works]
    assert together == alone  # exactly: a value never depends on which files share a chunk


def test_statistics_match_plain_numpy_on_the_work_image():
    work = noise_image(120, 80, seed=3)
    got = statistics.image_statistics(work)
    rgb = np.asarray(work, dtype=np.float64) / 255.0
    grey = np.asarray(work.convert("L"))
    assert got["brightness"] == pytest.approx(grey.mean() / 255.0)
    assert got["contrast"] == pytest.approx(grey.std() / 255.0)
    assert [got["mean_r"], got["mean_g"], got["mean_b"]] == pytest.approx(rgb.mean(axis=(0, 1)).tolist())
    assert [got["std_r"], got["std_g"], got["std_b"]] == pytest.approx(rgb.std(axis=(0, 1)).tolist())
    assert got["lum_p05"] == np.searchsorted(np.cumsum(np.bincount(grey.ravel(), minlength=256)) / grey.size,
                                             0.05) / 255.0
    p = np.bincount(grey.ravel()) / grey.size
    assert got["entropy"] == pytest.approx(-(p[p > 0] * np.log2(p[p > 0])).sum())
    g = statistics.sharpness_grid(grey) / 255.0  # the integer Laplacian against the float one
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    assert got["sharpness"] == pytest.approx(lap.var(), rel=1e-12)
    q = np.asarray(work).reshape(-1, 3).astype(np.int64) >> 4
    p = np.unique(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2], return_counts=True)[1] / grey.size
    assert got["colour_entropy"] == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-12)


def test_a_chunk_with_a_broken_file_still_measures_the_others(tmp_path):
    good = tmp_path / "a.png"
    good.write_bytes(encode(noise_image(), "PNG"))
    (tmp_path / "b.png").write_bytes(b"not an image")
    results = features.finish([features.decode_file(str(p)) for p in (good, tmp_path / "b.png", good)])
    assert [row["ok"] for row, _ in results] == [True, False, True]
    assert results[0][0] == results[2][0] and results[0][0]["brightness"] is not None


def test_same_pixels_share_pixel_hash_across_png_compression_levels():
    im = noise_image(50, 50)
    a, _ = feats(encode(im, "PNG", compress_level=1))
    b, _ = feats(encode(im, "PNG", compress_level=9))
    assert a["file_hash"] != b["file_hash"] and a["pixel_hash"] == b["pixel_hash"]


def test_jpeg_with_added_comment_keeps_pixel_hash_but_detail_change_does_not():
    im = noise_image(200, 200)
    data = encode(im, "JPEG", quality=90)
    with_comment = data[:2] + b"\xff\xfe\x00\x07hello" + data[2:]
    a, _ = feats(data)
    b, _ = feats(with_comment)
    assert a["file_hash"] != b["file_hash"] and a["pixel_hash"] == b["pixel_hash"]
    sharper = encode(im.filter(ImageFilter.SHARPEN), "JPEG", quality=90)
    assert feats(sharper)[0]["pixel_hash"] != a["pixel_hash"]


def test_small_png_thumbnail_is_the_file_itself():
    data = encode(noise_image(32, 32), "PNG")
    assert feats(data)[1] == data


def test_fifo_is_not_read(tmp_path):
    import os
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    row, _ = features.file_features(str(fifo))
    assert not row["ok"] and row["error"].startswith("NotRegularFileError")


def test_missing_file_is_a_row_not_an_exception(tmp_path):
    row, _ = features.file_features(str(tmp_path / "gone.jpg"))
    assert not row["ok"] and row["error"].startswith("FileNotFoundError")


def test_colour_entropies_of_a_chunk_equal_each_image_alone():
    # small images (counted in one shared bincount) and big ones (counted one by one), mixed in a chunk
    images = [noise_image(w, h, seed=w).convert("RGB") for w, h in [(32, 32), (97, 61), (8, 8), (64, 64), (128, 90)]]
    images.append(Image.new("RGB", (70, 70), (10, 200, 30)))
    together = [row["colour_entropy"] for row in statistics.chunk_statistics([statistics.prepare(im) for im in images])]
    assert together == [statistics.colour_entropy(np.asarray(im).reshape(-1, 3)) for im in images]
    assert together[-1] == 0.0 and math.copysign(1.0, together[-1]) == 1.0


def test_big_image_measures_what_the_pixel_arrays_give():
    im = noise_image(120, 90, seed=3).convert("RGB")
    rgb = np.asarray(im)
    _, levels, _, (codes, counts) = statistics.big_image(im)
    assert np.array_equal(levels, np.asarray(im.convert("L")))
    assert np.array_equal(codes, statistics.colour_codes(rgb.reshape(-1, 3)))
    flat = rgb.reshape(-1, 3)
    assert np.array_equal(np.reshape(counts, (3, 256)), [np.bincount(flat[:, c], minlength=256) for c in range(3)])


def test_jpeg_without_metadata_drops_only_app_and_com_segments():
    def segment(marker, body):
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body
    jpeg = (b"\xff\xd8" + segment(0xE0, b"JFIF") + segment(0xDB, b"q" * 5) + segment(0xFE, b"note") + b"\xff"
            + segment(0xC0, b"sof") + segment(0xDA, b"sos") + b"coded data\xff\xd9")
    kept = b"".join(bytes(part) for part in features.jpeg_without_metadata(jpeg))
    assert kept == (b"\xff\xd8" + segment(0xDB, b"q" * 5) + segment(0xC0, b"sof") + segment(0xDA, b"sos")
                    + b"coded data\xff\xd9")
    assert len(features.jpeg_without_metadata(jpeg)) == 3  # SOI | DQT | SOF to the end: adjacent ranges merge


