"""A full disk under the workspace (or --out) is a clear message naming the folder, the space needed and the
space free, with an exit code of its own (4), and the cache stays valid: the same command then resumes. The
baselines say the same when their tensor cache or a run's checkpoint does not fit.
The disk is never filled: SQLite's own page limit (max_page_count) makes it answer SQLITE_FULL, as a full
disk does, and the file writes get ENOSPC injected."""

import errno
import os
import shutil
import sqlite3

import pandas as pd

import inspectors.scan
from baselines import __main__ as baselines_cli
from inspectors import jobs, scan_cache, workspace
from inspectors.__main__ import main
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import read_samples, scan
from tests.hostile.helpers import tiny_images


def test_a_full_disk_under_the_scan_cache_is_a_clear_message_and_the_cache_stays_valid(tmp_path, capsys,
                                                                                      monkeypatch):
    ds, cache = tiny_images(tmp_path / "ds", 60), tmp_path / "cache"
    real_connect = scan_cache.connect

    def nearly_full(ws):
        con = real_connect(ws)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages + 8}")  # room for a few rows (each holds a 1 KB content
        # thumbnail), not for 60
        return con

    monkeypatch.setattr(scan_cache, "connect", nearly_full)
    config = tmp_path / "config.json"
    config.write_text('{"scan": {"commit_every": 8, "chunk_size": 4}}')
    args = ["scan", str(ds), "--cache", str(cache), "--quiet", "--workers", "1", "--config", str(config)]
    assert main(args) == 4  # documented: no space (1 would mean --fail-on matched)
    err = capsys.readouterr().err
    ws = workspace.workspace_dir(ds, None, cache)
    assert err.startswith(f"error: no space left on the device holding {ws}: it needs about ")
    assert " MB more (" in err and " MB is free)" in err and "Traceback" not in err
    con = sqlite3.connect(ws / scan_cache.CACHE_FILE)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    con.close()
    assert 0 < kept < 60  # the batches that fitted are kept

    monkeypatch.setattr(scan_cache, "connect", real_connect)
    assert main(args) == 0
    pd.testing.assert_frame_equal(read_samples(ws), scan(load_dataset(ds), ScanConfig(workers=1)).samples)


def test_a_full_disk_under_out_names_that_folder(tmp_path, capsys, monkeypatch):
    ds, out = tiny_images(tmp_path / "ds", 6), tmp_path / "out"

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workspace.os, "fsync", no_space)  # every atomic write: the reports
    assert main(["scan", str(ds), "--no-cache", "--out", str(out), "--quiet", "--workers", "1"]) == 4
    err = capsys.readouterr().err
    assert f"no space left on the device holding {out}" in err and "Traceback" not in err
    assert list(out.iterdir()) == []  # no half-written report, no temporary file left behind





TINY = ["--input-size", "16", "--width", "4", "--batch-size", "8", "--threads", "1", "--max-steps", "3"]


def scanned(tmp_path, monkeypatch):
    """A small two-class dataset, scanned into its workspace under tmp_path/cache (the baselines reuse it)."""
    monkeypatch.setattr(inspectors.scan, "worker_count", lambda requested: 1)
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    ds = tiny_images(tmp_path / "ds", 16, classes=("a", "b"), side=16)
    assert main(["scan", str(ds), "--quiet", "--workers", "1"]) == 0
    return ds, workspace.workspace_dir(ds, None, tmp_path / "cache")


def test_a_tensor_cache_that_does_not_fit_is_refused_before_it_is_made(tmp_path, capsys, monkeypatch):
    ds, ws = scanned(tmp_path, monkeypatch)
    capsys.readouterr()
    full = shutil._ntuple_diskusage(total=10**9, used=10**9, free=0)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: full)  # a write into the memory map would be SIGBUS
    assert baselines_cli.main(["train", str(ds), *TINY]) == 4
    err = capsys.readouterr().err
    assert err.startswith(f"error: no space left on the device holding {ws / 'tensors'}: it needs about ")
    assert "(0.0 MB is free)" in err and "Traceback" not in err
    assert list((ws / "tensors").iterdir()) == []  # no half-made cache
    [run] = (ws / "runs").iterdir()
    assert jobs.read(run)["state"] == "failed"


def test_a_checkpoint_that_does_not_fit_leaves_no_half_file_and_exits_4(tmp_path, capsys, monkeypatch):
    ds, ws = scanned(tmp_path, monkeypatch)
    capsys.readouterr()
    real_fsync = os.fsync

    def no_room_for_checkpoints(fd):
        if "checkpoint.pt" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(workspace.os, "fsync", no_room_for_checkpoints)
    assert baselines_cli.main(["train", str(ds), *TINY]) == 4
    err = capsys.readouterr().err
    [run] = (ws / "runs").iterdir()
    assert err.startswith(f"error: no space left on the device holding {run}: it needs about ")
    assert "Traceback" not in err
    assert not [p.name for p in run.iterdir() if "checkpoint" in p.name]  # neither half a file nor a temporary
    assert jobs.read(run)["state"] == "failed"
