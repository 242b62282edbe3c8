"""Damaged workspace databases. The scan cache is disposable: a garbage or truncated scan_cache.sqlite is set
aside (renamed, never deleted), rebuilt, and said so. Review marks are a person's work: a damaged review.sqlite
is never written to; --fail-on, which reads it, says so with the file's path and exits 3."""

import hashlib
import os
import sqlite3

import pandas as pd

from inspectors import review, workspace
from inspectors.__main__ import main
from inspectors.scan import read_samples
from inspectors.scan_cache import CACHE_FILE
from tests.hostile.helpers import tiny_images


def scanned(tmp_path, capsys, *extra):
    ds, cache = tiny_images(tmp_path / "ds", 60), tmp_path / "cache"
    assert main(["scan", str(ds), "--cache", str(cache), "--quiet", "--workers", "1", *extra]) == 0
    capsys.readouterr()
    return ds, cache, workspace.workspace_dir(ds, None, cache)


def rescan(ds, cache, capsys, *extra):
    code = main(["scan", str(ds), "--cache", str(cache), "--quiet", "--workers", "1", *extra])
    return code, capsys.readouterr().err


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_garbage_scan_cache_is_set_aside_rebuilt_and_reported(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path, capsys)
    first = read_samples(ws)
    (ws / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    code, err = rescan(ds, cache, capsys)
    assert code == 0 and "scan cache" in err and "is damaged" in err and "set aside" in err
    aside = list(ws.glob(CACHE_FILE + ".damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"this is not a database" * 100
    pd.testing.assert_frame_equal(read_samples(ws), first)
    code, err = rescan(ds, cache, capsys)  # the rebuilt cache serves the next scan
    assert code == 0 and err == ""


def test_a_truncated_scan_cache_is_set_aside_and_rebuilt(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path, capsys)
    first = read_samples(ws)
    os.truncate(ws / CACHE_FILE, os.path.getsize(ws / CACHE_FILE) // 2)
    code, err = rescan(ds, cache, capsys)
    assert code == 0 and "set aside" in err
    pd.testing.assert_frame_equal(read_samples(ws), first)
    assert workspace.is_workspace(ws)  # the set-aside file is a workspace's own: `cache clear` removes it


def review_store_with_marks(ws, n=2000):
    for i in range(0, n, 500):
        con = review.connect(ws)
        with con:
            con.executemany("INSERT INTO marks VALUES (?, 'keep', NULL, NULL, 0)",
                            [(f"train/a/{j:05d}.png",) for j in range(i, i + 500)])
        con.close()


def test_fail_on_with_a_garbage_review_store_exits_3_naming_it_and_leaves_it_untouched(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path, capsys)
    db = ws / review.REVIEW_FILE
    db.write_bytes(b"\x00garbage" * 64)
    before = digest(db)
    code, err = rescan(ds, cache, capsys, "--fail-on", "any")
    assert code == 3  # documented: the review store is damaged (1 would mean --fail-on matched)
    assert str(db) in err and "damaged" in err and "Traceback" not in err
    assert digest(db) == before


def test_a_truncated_review_store_is_reported_and_never_written(tmp_path, capsys):
    ds, cache, ws = scanned(tmp_path, capsys)
    review_store_with_marks(ws)
    db = ws / review.REVIEW_FILE
    os.truncate(db, os.path.getsize(db) // 2)
    before = digest(db)
    assert "malformed" in review.damage(ws)  # what the app asks before showing marks
    for write in (lambda: review.set_mark(ws, "train/a/00000.png", "remove"),
                  lambda: review.clear_mark(ws, "train/a/00001.png"), lambda: review.marks(ws)):
        try:
            write()
            raise AssertionError("a damaged review store was used")
        except review.ReviewStoreDamaged as exc:
            assert exc.path == db
    code, err = rescan(ds, cache, capsys, "--fail-on", "corrupt")
    assert code == 3 and str(db) in err
    assert digest(db) == before


def test_a_sound_review_store_is_not_called_damaged(tmp_path):
    ws = tmp_path / "ws"
    assert review.damage(ws) is None  # none yet
    review.set_mark(ws, "a.png", "keep")
    assert review.damage(ws) is None and review.marks(ws)["path"].tolist() == ["a.png"]
    other = sqlite3.connect(ws / "other.sqlite")
    other.execute("CREATE TABLE t (x)")
    other.close()
    os.replace(ws / "other.sqlite", ws / review.REVIEW_FILE)
    for side in ("-wal", "-shm"):
        (ws / (review.REVIEW_FILE + side)).unlink(missing_ok=True)
    assert review.damage(ws) == "it holds no marks table"
