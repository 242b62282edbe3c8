"""Several users at once: two scans of one dataset (one waits on the scan lock, the other's work is reused,
the cache stays intact) and two processes writing review marks to one review.sqlite (nothing lost)."""

import fcntl
import json
import subprocess
import time

import pandas as pd
import pytest

from inspectors import review, scan_cache, workspace
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import scan
from tests.hostile.helpers import PY, REPO, env, kill_session, start, tiny_images
from tests.hostile.mark_writer import mark_for
from tests.hostile.test_interrupted import integrity

WAITING = "waiting for another scan of this dataset to finish"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_scans_of_one_dataset_at_once_take_turns_and_share_the_cache(tmp_path):
    ds = tiny_images(tmp_path / "ds", 300, side=16)
    cache = tmp_path / "cache"
    ws = workspace.workspace_dir(ds, None, cache)
    ws.mkdir(parents=True)
    procs = []
    # hold the scan lock ourselves until both scans are waiting on it: "at once", whatever the machine's load
    with open(ws / "scan.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for name in ("a", "b"):
                procs.append(start([PY, "-m", "inspectors", "scan", str(ds), "--workers", "1", "--cache", str(cache),
                                    "--out", str(tmp_path / name), "--json"],
                                   stdout=open(tmp_path / f"{name}.out", "wb"),
                                   stderr=open(tmp_path / f"{name}.err", "wb")))
            deadline = time.monotonic() + 300
            while not all(WAITING in (tmp_path / f"{n}.err").read_text() for n in "ab"):
                assert time.monotonic() < deadline, "the scans never reached the lock"
                assert all(p.poll() is None for p in procs), "a scan ended while another held the lock"
                time.sleep(0.1)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        for p in procs:
            p.wait(timeout=600)
    finally:
        for p in procs:
            if p.poll() is None:
                kill_session(p)
    for name, p in zip("ab", procs, strict=True):
        assert p.returncode == 0, (tmp_path / f"{name}.err").read_text()[-2000:]
    facts = sorted((json.loads((tmp_path / f"{n}.out").read_text())["scan"] for n in "ab"),
                   key=lambda f: f["read_this_scan"])
    # one scanned everything; the other waited for it and then read nothing itself
    assert (facts[0]["read_this_scan"], facts[0]["from_cache"]) == (0, 300)
    assert (facts[1]["read_this_scan"], facts[1]["from_cache"]) == (300, 0)

    assert integrity(ws / scan_cache.CACHE_FILE) == "ok"
    assert scan_cache.cache_info(ws)["files"] == 300
    a, b = (pd.read_parquet(tmp_path / n / "samples.parquet") for n in "ab")
    fresh = scan(load_dataset(ds), ScanConfig(workers=1), None).samples  # no cache at all
    pd.testing.assert_frame_equal(a, fresh)
    pd.testing.assert_frame_equal(b, fresh)
    pd.testing.assert_frame_equal(pd.read_parquet(ws / "samples.parquet"), fresh)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_processes_writing_marks_at_once_lose_nothing(tmp_path):
    ws = tmp_path / "ws"
    count = 300
    writers = [subprocess.Popen([PY, "-m", "tests.hostile.mark_writer", str(ws), prefix, str(count)],
                                cwd=REPO, env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for prefix in ("tab1", "tab2")]
    outputs = [w.communicate(timeout=500) for w in writers]
    for w, (out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0 and not err, err.decode()[-2000:]
        assert out.decode().split() == [str(i) for i in range(count)]
    marks = review.marks(ws).set_index("path")
    assert len(marks) == 2 * count
    for prefix in ("tab1", "tab2"):
        for i in range(count):
            decision, new_label = mark_for(i)
            row = marks.loc[f"{prefix}/{i:06d}.png"]
            assert row["decision"] == decision and row["note"] == f"{prefix} {i}"
    assert integrity(ws / review.REVIEW_FILE) == "ok"
