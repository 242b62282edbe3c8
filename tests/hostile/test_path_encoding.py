"""A file's `path` is reversible and collision-free: names that are not UTF-8 are escaped (`\\xHH`), and so is
the backslash itself (`\\\\`), so no two files share a path and every path leads back to its own file, in the
scan, the baselines' data loading and the app's image viewer alike."""

import os

import xxhash
from PIL import Image

from baselines.data import Prepared, tensor_cache
from inspectors.config import ScanConfig
from inspectors.dataset import display_path, load_dataset, source_path
from inspectors.scan import scan
from tests.conftest import encode, noise_image
from ui.images import open_for_display


def put(root, name: bytes, seed: int) -> bytes:
    """A distinct PNG at root/cat/<name> (name as raw bytes); returns its content."""
    folder = os.path.join(os.fsencode(root), b"cat")
    os.makedirs(folder, exist_ok=True)
    data = encode(noise_image(24, 20, seed=seed), "PNG")
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    return data


def test_a_name_with_byte_0xff_and_one_literally_named_backslash_xff_are_two_rows_each_its_own_file(tmp_path):
    contents = {b"\xff.png": put(tmp_path, b"\xff.png", 1), b"\\xff.png": put(tmp_path, b"\\xff.png", 2)}
    samples = scan(load_dataset(tmp_path), ScanConfig(workers=1)).samples.set_index("path")
    assert sorted(samples.index) == ["cat/\\\\xff.png", "cat/\\xff.png"]
    for name, data in contents.items():
        path = "cat/" + display_path(name)
        assert samples.loc[path, "ok"] and samples.loc[path, "file_hash"] == xxhash.xxh3_128_hexdigest(data)
        assert source_path(tmp_path, path).read_bytes() == data


def test_a_non_utf8_name_holding_a_backslash_leads_back_to_its_file_everywhere(tmp_path):
    ds, ws = tmp_path / "ds", tmp_path / "ws"
    data = put(ds, b"a\\b\xfe.png", 3)
    samples = scan(load_dataset(ds), ScanConfig(workers=1), ws).samples
    path = samples["path"].iloc[0]
    assert path == "cat/a\\\\b\\xfe.png" and samples["ok"].iloc[0]
    assert source_path(ds, path).read_bytes() == data
    limit = ScanConfig().max_pixel_bytes
    view = open_for_display(ds, path, limit)  # the app's full-size view
    assert view.error is None and view.image.size == Image.open(source_path(ds, path)).size
    _, ok, failed = tensor_cache(Prepared(ds, ws, samples, {}, limit), samples, 16, workers=1)  # the baselines'
    assert ok.tolist() == [True] and failed == []


def test_the_path_encoding_is_a_bijection_on_names():
    from inspectors.dataset import fs_name  # the one decoding every caller uses (through source_path)
    names = [b"plain.png", b"\xff.png", b"\\xff.png", b"\\\\xff.png", b"a\\b\xfe.png", b"\\", b"\\x41",
             "ñandú 🐱.png".encode(), b"\xed\xa0\x80.png", b"new\nline.png", b"x\\\\\xff\\"]
    paths = [display_path(name) for name in names]
    assert len(set(paths)) == len(names)
    assert [fs_name(path) for path in paths] == names
    assert [display_path(os.fsdecode(name)) for name in names] == paths  # str (surrogate-escaped) or bytes alike
    assert paths[:3] == ["plain.png", "\\xff.png", "\\\\xff.png"]
