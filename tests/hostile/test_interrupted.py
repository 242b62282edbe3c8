"""Interrupted work: a scan SIGKILLed at 20 random moments resumes to the table of an uninterrupted scan; a
killed training run leaves a readable folder shown as stopped; a killed mark writer loses no confirmed mark."""

import json
import os
import random
import sqlite3
import subprocess
import time

import pandas as pd
import pytest

from baselines import runs
from inspectors import jobs, review, scan_cache, workspace
from tests.hostile.helpers import PY, kill_session, run_measured, start, tiny_images, workspace_of
from tests.hostile.mark_writer import mark_for
from ui import training

KILLS = 20
FILES = 600


def integrity(db) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def cached_rows(db) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    except sqlite3.OperationalError:  # killed before the table was created
        return 0
    finally:
        con.close()


def scan_args(ds, cache, *extra):
    return [PY, "-m", "inspectors", "scan", str(ds), "--workers", "2", "--cache", str(cache),
            "--set", "scan.commit_every=100", *extra]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_scan_killed_at_20_random_moments_resumes_to_the_uninterrupted_table(tmp_path):
    ds = tiny_images(tmp_path / "ds", FILES, side=16)
    files = sorted(ds.rglob("*.png"))
    reference = run_measured(scan_args(ds, tmp_path / "reference", "--quiet"), timeout=600)
    assert reference.returncode == 0, reference.stderr[-2000:]
    full_run_s = reference.seconds

    rng = random.Random(6)
    cache = tmp_path / "killed"
    db = workspace.workspace_dir(ds, None, cache) / scan_cache.CACHE_FILE
    hits, rows_before, stamp = 0, 0, time.time()
    for k in range(KILLS):
        proc = start(scan_args(ds, cache, "--quiet"), stdout=open(tmp_path / f"out{k}.txt", "wb"),
                     stderr=open(tmp_path / f"err{k}.txt", "wb"))
        moment = rng.uniform(0.1, 0.8) * full_run_s
        deadline = time.monotonic() + moment
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        if proc.poll() is None:
            hits += 1
            kill_session(proc)
        else:
            assert proc.returncode == 0, (tmp_path / f"err{k}.txt").read_text()[-2000:]
            # it finished first: change a random third of the files so the next run has work to be killed in
            stamp += 10
            for f in rng.sample(files, len(files) // 3):
                os.utime(f, (stamp, stamp))
        if db.exists():
            assert integrity(db) == "ok", f"kill {k}: the cache is damaged"
            rows = cached_rows(db)
            assert rows >= rows_before, f"kill {k}: committed rows were lost ({rows_before} -> {rows})"
            rows_before = rows
        samples_file = db.parent / "samples.parquet"
        if samples_file.exists():
            pd.read_parquet(samples_file)  # written atomically: never half a file

    assert hits >= KILLS // 2, f"only {hits} of {KILLS} kills found the scan still running"
    before_final = cached_rows(db)
    final = run_measured(scan_args(ds, cache, "--json"), timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    facts = json.loads(final.stdout)["scan"]
    assert facts["from_cache"] + facts["read_this_scan"] == FILES
    assert facts["from_cache"] <= before_final

    resumed = pd.read_parquet(db.parent / "samples.parquet")
    fresh = pd.read_parquet(workspace_of(tmp_path / "reference") / "samples.parquet")
    columns = [c for c in fresh.columns if c != "mtime_ns"]  # the test touched files between kills
    pd.testing.assert_frame_equal(resumed[columns], fresh[columns])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_killed_training_run_leaves_a_readable_folder_shown_as_stopped(tmp_path):
    ds = tiny_images(tmp_path / "ds", 60, side=16)
    tiny_images(ds, 15, side=16, seed=1, split="val")
    cache = tmp_path / "cache"
    run_dir = workspace.workspace_dir(ds, None, cache) / runs.RUNS / "killed"
    proc = start([PY, "-m", "baselines", "train", str(ds), "--cache", str(cache), "--out", str(run_dir),
                  "--epochs", "100000", "--input-size", "16", "--width", "4", "--batch-size", "8", "--threads", "1"],
                 stdout=open(tmp_path / "out.txt", "wb"), stderr=open(tmp_path / "err.txt", "wb"))
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()[-2000:]
            train, evals = runs.metrics(run_dir) if run_dir.exists() else (pd.DataFrame(), pd.DataFrame())
            if len(train) >= 20 and len(evals) >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("training never got going")
        time.sleep(random.Random(1).uniform(0, 0.5))
    finally:
        kill_session(proc)

    status = jobs.read(run_dir)
    assert status["state"] == "stopped" and status["message"] == "the process is gone"
    assert (status["command"], status["phase"]) == ("train", "train") and status["done"] >= 1
    assert json.loads((run_dir / "config.json").read_text())["kind"] == "train"
    assert json.loads((run_dir / "status.json").read_text())["state"] == "running"  # as the kill left it
    train, evals = runs.metrics(run_dir)
    assert len(train) >= 20 and train["step"].is_monotonic_increasing and train["loss"].notna().all()
    assert len(evals) >= 2
    assert runs.read_jsonl(run_dir / "fixed_predictions.jsonl")
    listed = training.list_trained(run_dir.parent.parent)  # what the Baselines page lists
    assert listed.set_index("run").loc["killed", "state"] == "stopped"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_mark_writer_loses_no_confirmed_mark(tmp_path):
    ws = tmp_path / "ws"
    rng = random.Random(3)
    confirmed = {}
    for k in range(4):
        prefix = f"run{k}"
        proc = start([PY, "-m", "tests.hostile.mark_writer", str(ws), prefix], stdout=subprocess.PIPE,
                     stderr=open(tmp_path / f"err{k}.txt", "wb"))
        lines, target = [], rng.randint(20, 120)
        try:
            while len(lines) < target:
                line = proc.stdout.readline()
                assert line, (tmp_path / f"err{k}.txt").read_text()[-2000:]
                lines.append(line)
            time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next set_mark
        finally:
            kill_session(proc)
        lines += proc.stdout.read().splitlines(keepends=True)  # what it printed before dying
        proc.stdout.close()
        numbers = [int(x) for x in lines if x.endswith(b"\n")]  # a line cut off mid-print was not confirmed
        assert numbers == list(range(len(numbers)))
        confirmed.update({f"{prefix}/{i:06d}.png": mark_for(i) for i in numbers})
        assert integrity(ws / review.REVIEW_FILE) == "ok"

    marks = review.marks(ws).set_index("path")
    lost = [p for p in confirmed if p not in marks.index]
    assert not lost, f"{len(lost)} confirmed marks lost, e.g. {lost[:5]}"
    for path, (decision, new_label) in confirmed.items():
        assert marks.loc[path, "decision"] == decision
        stored = marks.loc[path, "new_label"]
        assert (None if pd.isna(stored) else stored) == new_label

