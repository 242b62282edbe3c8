import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from inspectors import scan_cache
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import scan
from tests.conftest import encode, noise_image, write

REPO = Path(__file__).resolve().parents[2]


def tree_fingerprint(root) -> dict:
    """Names, contents and mtimes of everything under root: what 'unchanged' means."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            digest = hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.isfile(p) else None
            out[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def test_every_file_gets_a_row_and_broken_ones_a_reason(small_dataset, tmp_path):
    result = scan(load_dataset(small_dataset), ScanConfig(workers=2), tmp_path / "ws")
    s = result.samples.set_index("path")
    assert len(s) == 2 * (12 + 4 + 4) + 2  # 40 images + truncated + README
    truncated = s.loc["train/cat/truncated.jpg"]
    assert truncated["error"].startswith("OSError") and not truncated["ok"]
    assert s.loc["train/dog/README.txt", "entry"] == "unsupported"
    assert s["ok"].sum() == 40 and result.decoded == 41
    assert s.loc["train/cat/cat_1.jpg", "format"] == "JPEG" and s.loc["train/cat/cat_0.png", "format"] == "PNG"


def test_rescan_of_an_unchanged_dataset_reads_nothing(small_dataset, tmp_path):
    first = scan(load_dataset(small_dataset), ScanConfig(workers=1), tmp_path / "ws")
    # Proof, not assumption: replace a file's bytes with garbage of the same size and mtime.
    # A scan that read it again would report it corrupt.
    victim = small_dataset / "train" / "dog" / "dog_3.jpg"
    st = victim.stat()
    victim.write_bytes(b"\0" * st.st_size)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = scan(load_dataset(small_dataset), ScanConfig(workers=1), tmp_path / "ws")
    assert second.decoded == 0 and second.cached == 41
    pd.testing.assert_frame_equal(first.samples, second.samples)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # now it changed: read again
    third = scan(load_dataset(small_dataset), ScanConfig(workers=1), tmp_path / "ws")
    assert third.decoded == 1 and not third.samples.set_index("path").loc["train/dog/dog_3.jpg", "ok"]


def test_hashes_stay_exact_beside_a_file_that_failed(small_dataset, tmp_path):
    """A failed file's empty pHash once made pandas hold the column as float64, rounding every 64-bit hash."""
    from inspectors.features import file_features
    for workspace in (None, tmp_path / "ws", tmp_path / "ws"):  # no cache, cold, warm (from the cache)
        s = scan(load_dataset(small_dataset), ScanConfig(workers=1), workspace).samples.set_index("path")
        assert s["phash"].isna().any()
        for path in ["train/cat/cat_1.jpg", "train/dog/dog_2.png", "val/cat/cat_3.jpg"]:
            row, _ = file_features(small_dataset / path)
            assert (s.loc[path, "phash"], s.loc[path, "dhash"]) == (row["phash"], row["dhash"]), path


def test_a_warm_rescan_reads_the_snapshot_only_while_it_is_current(small_dataset, tmp_path):
    ws = tmp_path / "ws"
    first = scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    assert (ws / scan_cache.SNAPSHOT_FILE).exists()
    con = scan_cache.connect(ws)
    try:
        # rows the snapshot holds but SQLite does not (deleted behind the cache's back): the snapshot is read
        con.execute("DELETE FROM files WHERE path LIKE 'val/%'")
        con.commit()
        assert len(scan_cache.read_rows(con, ws)) == 41
        # a write through the cache (as an interrupted scan makes) outdates it: SQLite is read
        row = {**scan_cache.read_rows(con, ws).iloc[0].to_dict(), "brightness": 0.123}
        values = [row[n] for n in scan_cache.CACHE_COLUMNS]
        plain = [None if v is None or v is pd.NA else v.item() if hasattr(v, "item") else v for v in values]
        scan_cache.write_rows(con, [tuple(plain)], [])
        rows = scan_cache.read_rows(con, ws).set_index("path")
        assert len(rows) == 41 - 8 and rows.loc[row["path"], "brightness"] == 0.123
    finally:
        con.close()
    second = scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    assert second.decoded == 8  # the 8 rows gone from SQLite, read again
    pd.testing.assert_frame_equal(first.samples.drop(columns="brightness"), second.samples.drop(columns="brightness"))
    (ws / scan_cache.SNAPSHOT_FILE).write_bytes(b"not parquet")  # damaged, though its stamp is current
    third = scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    assert third.decoded == 0
    pd.testing.assert_frame_equal(second.samples, third.samples)


def test_parallel_and_single_worker_scans_give_the_same_table(small_dataset, tmp_path):
    one = scan(load_dataset(small_dataset), ScanConfig(workers=1, chunk_size=5), None).samples
    two = scan(load_dataset(small_dataset), ScanConfig(workers=2, chunk_size=3), None).samples
    pd.testing.assert_frame_equal(one, two)


def test_the_dataset_is_left_byte_for_byte_unchanged(small_dataset, tmp_path):
    before = tree_fingerprint(small_dataset)
    scan(load_dataset(small_dataset), ScanConfig(workers=2), tmp_path / "ws")
    scan(load_dataset(small_dataset), ScanConfig(workers=2), tmp_path / "ws")
    assert tree_fingerprint(small_dataset) == before


def test_workspace_inside_the_dataset_is_refused(small_dataset):
    with pytest.raises(ValueError, match="inside the dataset"):
        scan(load_dataset(small_dataset), ScanConfig(workers=1), small_dataset / "cache")


def test_file_deleted_between_listing_and_reading(small_dataset, tmp_path):
    listing = load_dataset(small_dataset)
    (small_dataset / "val" / "cat" / "cat_1.jpg").unlink()
    s = scan(listing, ScanConfig(workers=1), tmp_path / "ws").samples.set_index("path")
    assert s.loc["val/cat/cat_1.jpg", "error"].startswith("FileNotFoundError")
    assert s["ok"].sum() == 39


def test_files_gone_from_the_dataset_are_pruned_from_the_cache(small_dataset, tmp_path):
    ws = tmp_path / "ws"
    scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    (small_dataset / "test" / "dog" / "dog_0.png").unlink()
    result = scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    assert result.pruned == 1 and result.decoded == 0
    con = sqlite3.connect(ws / scan_cache.CACHE_FILE)
    assert con.execute("SELECT COUNT(*) FROM files WHERE path = 'test/dog/dog_0.png'").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM thumbs WHERE path = 'test/dog/dog_0.png'").fetchone()[0] == 0


def test_thumbnails_are_stored_for_every_decoded_image(small_dataset, tmp_path):
    result = scan(load_dataset(small_dataset), ScanConfig(workers=2), tmp_path / "ws")
    ok_paths = list(result.samples.loc[result.samples["ok"], "path"])
    thumbs = scan_cache.read_thumbnails(tmp_path / "ws", ok_paths)
    assert set(thumbs) == set(ok_paths)


def photo_dataset(root, n):
    for i in range(n):
        write(root / "train" / f"c{i % 3}" / f"{i:04d}.jpg", encode(noise_image(640, 480, seed=i), "JPEG", quality=92))
    return root


def cli(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # A test runner started in the background by a non-interactive shell ignores SIGINT, and a child inherits
    # an ignored signal: Ctrl-C would never reach the CLI. Started as from a terminal (a handler, not SIG_IGN,
    # while it forks: the child then gets the default).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen([sys.executable, "-m", "inspectors", *args], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    finally:
        signal.signal(signal.SIGINT, previous)


def cached_count(db) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def interrupt_when_cached(tmp_path, ds, sig, at_least=40):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"scan": {"commit_every": 8, "chunk_size": 4, "workers": 1}}))
    proc = cli(["scan", str(ds), "--cache", str(tmp_path / "cache"), "--config", str(cfg), "--quiet"])
    db = next_db = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        dbs = list((tmp_path / "cache").glob("*/" + scan_cache.CACHE_FILE))
        next_db = dbs[0] if dbs else None
        if next_db and cached_count(next_db) >= at_least:
            db = next_db
            break
        assert proc.poll() is None, "the scan finished before it could be interrupted"
        time.sleep(0.02)
    assert db is not None
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode(), db


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_an_interrupted_scan_resumes_and_ends_with_the_same_table(tmp_path, sig):
    n = 300
    ds = photo_dataset(tmp_path / "ds", n)
    code, err, db = interrupt_when_cached(tmp_path, ds, sig)
    if sig == signal.SIGINT:
        assert code == 130 and "run the same command again to resume" in err
    kept = cached_count(db)
    assert 40 <= kept < n
    resumed = scan(load_dataset(ds), ScanConfig(workers=2), db.parent)
    assert resumed.cached == kept and resumed.decoded == n - kept
    fresh = scan(load_dataset(ds), ScanConfig(workers=2), None)
    pd.testing.assert_frame_equal(resumed.samples, fresh.samples)


def test_a_cache_from_another_scanner_version_is_replaced(small_dataset, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    con = sqlite3.connect(ws / scan_cache.CACHE_FILE)
    con.execute("CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, version TEXT, x)")
    con.execute("INSERT INTO files VALUES ('train/cat/cat_0.png', 1, 1, '0', 1)")
    con.commit()
    con.close()
    result = scan(load_dataset(small_dataset), ScanConfig(workers=1), ws)
    assert result.decoded == 41 and result.samples["ok"].sum() == 40


def test_pillow_warnings_about_a_file_stay_out_of_the_terminal(tmp_path, capfd):
    """A worker's stderr is the user's terminal: one warning per damaged file would flood it."""
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01\x03\x00"  # five tags announced, one begun
    write(tmp_path / "data" / "a" / "corrupt_exif.jpg", encode(noise_image(40, 30), "JPEG", exif=exif))
    write(tmp_path / "data" / "a" / "fine.png", encode(noise_image(40, 30), "PNG"))
    samples = scan(load_dataset(tmp_path / "data"), ScanConfig(workers=1)).samples
    assert samples["ok"].all()  # it decodes: the damage is in its metadata only
    assert "Corrupt EXIF" not in capfd.readouterr().err
