"""A cached verdict that a limit caused is not forever: a file refused under --max-pixel-mb or cut off by
--timeout is read again when that limit is loosened, and every failed file on request (--retry-failed);
a scan under the same settings reads nothing again."""

import json

from inspectors import features
from inspectors.__main__ import main
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import scan
from tests.conftest import encode, noise_image, write
from tests.hostile.slow_decode import decode_slowly


def dataset(root, big_side=300):
    """Two small PNGs, one big_side x big_side RGB PNG (~0.26 MB of pixels at 300) and one named slow*."""
    for name, side in (("a.png", 20), ("b.png", 24), ("big.png", big_side), ("slow.png", 22)):
        write(root / "cat" / name, encode(noise_image(side, side, seed=side), "PNG"))
    return root


def test_a_file_refused_under_max_pixel_mb_is_read_again_when_the_limit_is_raised(tmp_path):
    ds, ws = dataset(tmp_path / "ds"), tmp_path / "ws"
    strict, looser = ScanConfig(workers=1, max_pixel_bytes=100_000), ScanConfig(workers=1, max_pixel_bytes=200_000)
    first = scan(load_dataset(ds), strict, ws).samples.set_index("path")
    assert not first.loc["cat/big.png", "ok"] and first.loc["cat/big.png", "error"].startswith("TooLargeError")
    assert scan(load_dataset(ds), strict, ws).decoded == 0  # same settings: the cache answers
    assert scan(load_dataset(ds), looser, ws).decoded == 1  # looser, still too low: read, refused again
    again = scan(load_dataset(ds), ScanConfig(workers=1), ws)  # the default 256 MB
    assert again.decoded == 1 and again.samples.set_index("path").loc["cat/big.png", "ok"]
    assert scan(load_dataset(ds), strict, ws).decoded == 0  # a stricter limit never re-reads a good row


def test_the_cli_reads_a_refused_file_again_under_a_higher_max_pixel_mb(tmp_path, capsys):
    ds, cache = dataset(tmp_path / "ds"), tmp_path / "cache"
    args = ["scan", str(ds), "--cache", str(cache), "--workers", "1", "--json"]
    assert main(args + ["--max-pixel-mb", "0.1"]) == 0
    assert json_of(capsys)["scan"]["failed"] == 1
    assert main(args) == 0
    facts = json_of(capsys)["scan"]
    assert facts["failed"] == 0 and facts["read_this_scan"] == 1


def test_a_timed_out_file_is_read_again_under_a_longer_timeout_or_on_request(tmp_path, monkeypatch):
    monkeypatch.setattr(features, "decode_file", decode_slowly)  # what the scan hands its workers
    ds, ws = dataset(tmp_path / "ds"), tmp_path / "ws"
    short, longer = ScanConfig(workers=1, file_timeout_s=0.5), ScanConfig(workers=1, file_timeout_s=10)
    first = scan(load_dataset(ds), short, ws).samples.set_index("path")
    assert first.loc["cat/slow.png", "error"].startswith("ScanTimeout")
    assert scan(load_dataset(ds), short, ws).decoded == 0  # never on every scan: the warm re-scan stays fast
    assert scan(load_dataset(ds), short, ws, retry_failed=True).decoded == 1  # on request
    again = scan(load_dataset(ds), longer, ws)
    assert again.decoded == 1 and again.samples.set_index("path").loc["cat/slow.png", "ok"]
    assert scan(load_dataset(ds), short, ws).decoded == 0


def test_retry_failed_reads_every_failed_file_and_nothing_else(tmp_path, capsys):
    ds, cache = dataset(tmp_path / "ds"), tmp_path / "cache"
    write(ds / "cat" / "broken.png", b"\x89PNG\r\n\x1a\n garbage")
    args = ["scan", str(ds), "--cache", str(cache), "--workers", "1", "--json"]
    assert main(args) == 0 and json_of(capsys)["scan"]["failed"] == 1
    assert main(args + ["--retry-failed"]) == 0
    facts = json_of(capsys)["scan"]
    assert facts["read_this_scan"] == 1 and facts["failed"] == 1 and facts["from_cache"] == 4


def json_of(capsys) -> dict:
    return json.loads(capsys.readouterr().out)
