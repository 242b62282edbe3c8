"""ui/launcher.py: the command line, job states read from a job folder, progress from a log, which run a page
re-attaches to, and one real `python -m baselines train` launched in the background and stopped from outside."""

import shutil
import signal
import subprocess
import time

import pytest

from baselines import runs
from inspectors import jobs
from inspectors.workspace import workspace_dir
from tests.ui import lab_runs
from ui import launcher
from ui.state import Dataset

CLASSES = ["circle", "square", "star"]


def test_progress_is_read_from_the_status_every_command_writes():
    assert launcher.progress({"phase": "folds", "done": 3, "total": 5}) == (0.6, "folds: 3 of 5")
    assert launcher.progress({"phase": "train", "done": 1200, "total": 4800}) == (0.25, "step 1,200 of 4,800")
    assert launcher.progress({"phase": "waiting", "done": 0, "total": 0, "message": "waiting for another scan"}) == (
        None, "waiting for another scan")
    assert launcher.readable_log("a\rb\nc") == "b\nc"


def test_command_line_skips_unset_knobs_and_names_the_folder_for_the_status():
    args = launcher.command_line("tolerance", "/data", None, {"epochs": 2, "max_steps": None, "sizes": "16,32"}, "/j")
    assert args[1:] == ["-m", "baselines", "tolerance", "/data", "--epochs", "2", "--sizes", "16,32", "--job", "/j"]
    args = launcher.command_line("train", "/d", "/d/l.csv", {"lr": 0.001}, "/r")
    assert args[4:] == ["/d", "--labels", "/d/l.csv", "--lr", "0.001", "--out", "/r"]


def test_current_run_prefers_the_remembered_then_the_running_then_the_newest(tmp_path):
    val, given = ["v1"], ["circle"]
    old = lab_runs.finished_run(tmp_path, "20260101-000000-tiny_cnn", val, CLASSES, given)
    new = lab_runs.finished_run(tmp_path, "20260101-000200-tiny_cnn", val, CLASSES, given)
    running = lab_runs.finished_run(tmp_path, "20260101-000100-tiny_cnn", val, CLASSES, given)
    assert launcher.current_run(tmp_path) == new
    assert launcher.current_run(tmp_path, remembered=old.name) == old
    status = runs.read_json(running, jobs.FILE)
    runs.write_json(running, jobs.FILE, {**status, "state": "running", "pid": 1})  # pid 1 lives
    assert launcher.job_status(running)["state"] == "running"
    assert launcher.current_run(tmp_path) == running
    assert launcher.current_run(tmp_path / "empty") is None


def test_a_job_that_dies_before_writing_its_status_is_failed_with_its_last_line(tmp_path):
    folder = tmp_path / "jobs" / "x-tolerance"
    folder.mkdir(parents=True)
    (folder / launcher.LOG_FILE).write_text("Traceback (most recent call last):\nImportError: no torch\n")
    runs.write_json(folder, launcher.JOB_FILE, {"command": "tolerance", "pid": dead_pid(), "started": 1})
    status = launcher.job_status(folder)
    assert (status["state"], status["error"], status["command"]) == ("failed", "ImportError: no torch", "tolerance")
    runs.write_json(folder, launcher.JOB_FILE, {"command": "tolerance", "pid": 1, "started": 1})
    assert launcher.job_status(folder)["state"] == "starting"  # launched, nothing written yet


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# ---- the launcher, for real --------------------------------------------------------------------------------------

def wait_for(predicate, timeout_s: float, what: str, folder):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout_s} s; status {launcher.job_status(folder)}; log:\n"
                         f"{launcher.log_text(folder)[-2000:]}")


@pytest.fixture
def dataset(shapes_copy, tmp_path, monkeypatch):
    data, cache = shapes_copy
    source = workspace_dir(data, None, cache)
    shutil.copytree(source, tmp_path / "cache" / source.name, ignore=shutil.ignore_patterns("runs", "jobs"))
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    return Dataset(str(data), None, data, tmp_path / "cache" / source.name)


def test_a_launched_run_trains_in_the_background_and_stops_on_request(dataset):
    folder = launcher.launch(dataset, "train", {"epochs": 200, "seed": 1})
    assert folder.parent == dataset.workspace / "runs" and (folder / launcher.JOB_FILE).exists()
    assert launcher.job_status(folder)["state"] in ("starting", "running")
    assert launcher.current_run(dataset.workspace) == folder  # what a reload re-attaches to
    wait_for(lambda: len(runs.metrics(folder)[0]) >= 3, 180, "no training steps", folder)
    launcher.stop(folder)
    wait_for(lambda: launcher.job_status(folder)["state"] == "stopped", 60, "not stopped", folder)
    status = launcher.job_status(folder)
    assert "stopped on request at step" in status["message"] and status["done"] >= 3 and status["phase"] == "train"
    assert (folder / "fixed_batch.json").exists() and runs.read_jsonl(folder / "fixed_predictions.jsonl")
    assert runs.read_json(folder, launcher.JOB_FILE)["args"][:3] == ["-m", "baselines", "train"]


def test_a_job_stops_on_request_though_the_server_ignores_sigint(dataset):
    # a server started with `cmd &` by a script ignores SIGINT, and its children inherit that
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        folder = launcher.launch(dataset, "tolerance", {"epochs": 500, "sizes": "16,32"})
    finally:
        signal.signal(signal.SIGINT, previous)
    wait_for(lambda: launcher.job_status(folder)["phase"].endswith(" px"), 120, "not training", folder)
    launcher.stop(folder)
    wait_for(lambda: launcher.job_status(folder)["state"] == "stopped", 60, "not stopped", folder)
    assert launcher.job_status(folder)["message"] == "stopped on request"


def test_a_launch_with_a_bad_setting_fails_with_the_clis_message(dataset):
    folder = launcher.launch(dataset, "tolerance", {"lr": -1.0, "sizes": "16"})
    assert folder.parent == dataset.workspace / "jobs"
    wait_for(lambda: launcher.job_status(folder)["state"] == "failed", 60, "not failed", folder)
    assert "must be >= 0" in launcher.job_status(folder)["error"]
    assert launcher.job_folders(dataset.workspace, "tolerance") == [folder]
