"""The run folder as a reader sees it: the page and the CLI read while the trainer writes."""

import json
import os
import subprocess
import time

from baselines import runs


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: the pid is gone
    return child.pid


def test_a_run_saying_running_whose_process_is_gone_reads_as_stopped(tmp_path):
    runs.write_json(tmp_path, "status.json", {"state": "running", "pid": dead_pid(), "step": 7})
    st = runs.status(tmp_path)
    assert st["state"] == "stopped" and st["step"] == 7
    assert st["message"] == "the training process is gone"


def test_a_running_run_with_a_live_process_stays_running(tmp_path):
    runs.write_json(tmp_path, "status.json", {"state": "running", "pid": os.getpid(), "step": 1})
    assert runs.status(tmp_path)["state"] == "running"


def test_finished_and_failed_runs_keep_their_state_whatever_the_pid(tmp_path):
    for state in ("finished", "failed", "stopped"):
        runs.write_json(tmp_path, "status.json", {"state": state, "pid": dead_pid(), "message": "m"})
        assert runs.status(tmp_path) == {"state": state, "pid": runs.read_json(tmp_path, "status.json")["pid"],
                                         "message": "m"}


def test_a_folder_without_status_is_starting(tmp_path):
    assert runs.status(tmp_path) == {"state": "starting"}


def test_a_zombie_process_counts_as_gone(tmp_path):
    child = subprocess.Popen(["true"])
    for _ in range(200):  # until it has exited, not yet reaped
        with open(f"/proc/{child.pid}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":
                break
        time.sleep(0.01)
    try:
        assert not runs.pid_alive(child.pid)
    finally:
        child.wait()


def test_read_jsonl_ignores_a_half_written_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    runs.append_jsonl(path, [{"step": 1}, {"step": 2}])
    with open(path, "a") as f:
        f.write('{"step": 3, "lo')  # the writer is mid-line
    assert runs.read_jsonl(path) == [{"step": 1}, {"step": 2}]
    with open(path, "a") as f:
        f.write('ss": 0.5}\n')
    assert runs.read_jsonl(path)[-1] == {"step": 3, "loss": 0.5}


def test_read_jsonl_of_a_missing_file_is_empty(tmp_path):
    assert runs.read_jsonl(tmp_path / "nope.jsonl") == []


def test_metrics_split_train_steps_from_evaluations(tmp_path):
    runs.append_jsonl(tmp_path / "metrics.jsonl", [
        {"kind": "eval", "step": 0, "val_loss": 1.1}, {"kind": "train", "step": 1, "loss": 1.0},
        {"kind": "train", "step": 2, "loss": 0.9}, {"kind": "eval", "step": 2, "val_loss": 0.8}])
    train, evals = runs.metrics(tmp_path)
    assert train["step"].tolist() == [1, 2] and evals["val_loss"].tolist() == [1.1, 0.8]


def test_read_json_of_a_missing_or_broken_file_gives_the_default(tmp_path):
    (tmp_path / "broken.json").write_text('{"a": ')
    assert runs.read_json(tmp_path, "broken.json", {}) == {}
    assert runs.read_json(tmp_path, "missing.json") is None


def test_new_run_dirs_are_unique_within_one_second(tmp_path):
    folders = [runs.new_run_dir(tmp_path, "tiny_cnn") for _ in range(3)]
    assert len({f.name for f in folders}) == 3
    assert all(f.is_dir() and f.parent == tmp_path / "runs" and "tiny_cnn" in f.name for f in folders)


def test_stop_requests_are_a_file(tmp_path):
    assert not runs.stop_requested(tmp_path)
    runs.request_stop(tmp_path)
    assert runs.stop_requested(tmp_path)


def test_write_json_is_atomic_and_readable(tmp_path):
    runs.write_json(tmp_path, "x.json", {"path": tmp_path})  # default=str for paths
    assert json.loads((tmp_path / "x.json").read_text()) == {"path": str(tmp_path)}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
