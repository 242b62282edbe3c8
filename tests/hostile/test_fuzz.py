"""Random damage (fixed seed) to small valid images of every format, through the scan's per-file function
in this process: never an exception, always a complete row, each call within a time bound."""

import io
import os
import random
import time
import warnings

import pytest
from PIL import Image

from inspectors import features
from inspectors.schema import FEATURE_COLUMNS
from tests.hostile.make_corpus import FORMATS, encode, picture, png_garbage_idat

MUTANTS = 240
PER_CALL_S = 20.0  # generous on a loaded machine: a healthy 64 px file takes milliseconds; a hang takes forever


def seeds() -> list[tuple[str, bytes]]:
    out = [(ext, encode(picture(64, 48, seed=30), fmt, **options)) for ext, (fmt, options) in FORMATS.items()]
    out.append(("png", encode(picture(40, 40, seed=31, mode="RGBA"), "PNG")))
    out.append(("gif", encode(picture(24, 24, seed=32), "GIF", save_all=True,
                              append_images=[picture(24, 24, seed=33)], duration=40)))
    out.append(("jpg", encode(picture(64, 48, seed=34), "JPEG", quality=80, progressive=True)))
    out.append(("tif", encode(picture(32, 32, seed=35, mode="CMYK"), "TIFF", compression="tiff_lzw")))
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random edits: bit flips, byte overwrites, header integers set huge, cuts, inserts,
    duplicated or deleted spans, a splice of two halves."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["flip", "overwrite", "huge", "cut", "insert", "duplicate", "delete", "splice"])
        i = rng.randrange(len(out)) if out else 0
        if kind == "flip" and out:
            for _ in range(rng.randint(1, 16)):
                j = rng.randrange(len(out))
                out[j] ^= 1 << rng.randrange(8)
        elif kind == "overwrite" and out:
            out[i:i + 4] = bytes(rng.choice([0x00, 0xFF, rng.randrange(256)]) for _ in range(4))
        elif kind == "huge" and len(out) > 32:
            j = rng.randrange(4, 32)  # where the formats keep their dimensions
            out[j:j + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00", b"\x00\x00"])
        elif kind == "cut":
            out = out[:i]
        elif kind == "insert":
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == "duplicate" and out:
            out[i:i] = out[i:i + rng.randint(1, 256)]
        elif kind == "delete":
            del out[i:i + rng.randint(1, 64)]
        elif kind == "splice" and out:
            out = out[:i] + out[rng.randrange(len(out)):]
    return bytes(out)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_random_damage_never_escapes_the_reader_and_always_gives_a_row(tmp_path):
    rng = random.Random(20261127)
    bases = seeds()
    slowest, decoded, failed = 0.0, 0, 0
    for n in range(MUTANTS):
        ext, base = bases[n % len(bases)]
        data = mutate(base, rng)
        path = tmp_path / f"mutant_{n:03d}.{ext}"
        path.write_bytes(data)
        started = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL warns about corrupt EXIF; the row says what matters
            row, thumb = features.file_features(os.fsencode(path))  # the scan's per-file reading, in-process
        elapsed = time.monotonic() - started
        slowest = max(slowest, elapsed)
        context = f"mutant {n} ({ext}, {len(data)} bytes, saved as {path})"
        assert elapsed < PER_CALL_S, f"{context} took {elapsed:.1f} s"
        # "limit": the limit that refused the file (for the scan cache, never a samples column)
        assert set(row) - {"limit"} == set(FEATURE_COLUMNS) | {"ok"}, context
        assert "limit" not in row or row["error"].startswith("TooLargeError"), context
        assert isinstance(row["ok"], bool), context
        assert row["file_hash"], context
        if row["ok"]:
            decoded += 1
            assert row["width"] > 0 and row["height"] > 0 and row["format"], context
            assert row["error"] is None or row["error"].startswith("decoded, but"), context
        else:
            failed += 1
            assert isinstance(row["error"], str) and ": " in row["error"], context
            assert thumb is None, context
    assert decoded and failed, (decoded, failed)  # the mutations reach both outcomes


@pytest.mark.slow
def test_a_chunk_of_mutants_measures_every_readable_one(tmp_path):
    """The scan reads a chunk with decode_file, then measures the chunk at once (finish): a damaged file
    in the chunk must not cost the others their statistics."""
    rng = random.Random(7)
    bases = seeds()
    paths = []
    for n in range(48):
        ext, base = bases[n % len(bases)]
        path = tmp_path / f"m{n:02d}.{ext}"
        path.write_bytes(mutate(base, rng) if n % 2 else base)
        paths.append(os.fsencode(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = features.finish([features.decode_file(p) for p in paths])
    assert len(rows) == len(paths)
    for n, (row, _) in enumerate(rows):
        if n % 2 == 0:
            assert row["ok"] and row["error"] is None and row["brightness"] is not None, (n, row["error"])
        else:
            assert row["ok"] or row["error"], n


def full_decode_fails(data: bytes):
    """The oracle: PIL's plain full decode of the bytes (no DCT scaling, truncation not tolerated)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data)).load()
        return None
    except Exception as exc:
        return exc


def test_png_with_garbage_pixel_data_is_not_ok():
    data = png_garbage_idat()
    assert full_decode_fails(data) is not None
    row, thumb = features.bytes_features(data)
    assert not row["ok"] and row["error"] and thumb is None


@pytest.mark.slow
def test_a_mutant_the_reader_calls_ok_decodes_fully_and_its_thumbnail_too():
    rng = random.Random(20261127)
    bases = seeds()
    wrong = []
    for n in range(MUTANTS):
        ext, base = bases[n % len(bases)]
        data = mutate(base, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row, thumb = features.bytes_features(data)
        if not row["ok"]:
            continue
        failure = full_decode_fails(data)
        if failure is not None:
            wrong.append(f"mutant {n} ({ext}): ok=True, but a full decode fails: {failure}")
        elif thumb is not None and full_decode_fails(thumb) is not None:
            wrong.append(f"mutant {n} ({ext}): its stored thumbnail does not decode")
    assert not wrong, "\n".join(wrong)
