"""inspectors/jobs.py: the status file every long command writes, as a reader sees it."""

import os
import subprocess
import time

import pytest

from inspectors import jobs


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: the pid is gone
    return child.pid


def test_a_status_goes_from_running_through_its_phases_to_its_end(tmp_path):
    status = jobs.Status(tmp_path / "job", "label-issues")
    assert jobs.read(tmp_path / "job")["state"] == "running" and jobs.read(tmp_path / "job")["pid"] == os.getpid()
    status.progress("folds", 2, 5)  # a new phase is written at once
    assert {k: jobs.read(tmp_path / "job")[k] for k in ("phase", "done", "total")} == {"phase": "folds", "done": 2,
                                                                                        "total": 5}
    status.finish("finished", "3 likely label issues", {"found": 3})
    read = jobs.read(tmp_path / "job")
    assert (read["state"], read["message"], read["result"], read["error"]) == ("finished", "3 likely label issues",
                                                                               {"found": 3}, None)
    assert read["command"] == "label-issues" and read["ended"] >= read["started"]


def test_progress_within_a_phase_is_written_at_most_once_a_heartbeat(tmp_path):
    status = jobs.Status(tmp_path, "train", "train", 100)
    status.progress("train", 1, 100, force=True)
    status.progress("train", 2, 100)  # within the same second: kept for the next write
    assert jobs.read(tmp_path)["done"] == 1
    status.progress("train", 100, 100)  # the end of a phase is always written
    assert jobs.read(tmp_path)["done"] == 100


def test_a_command_ends_finished_failed_or_stopped(tmp_path):
    status = jobs.Status(tmp_path, "scan")
    with pytest.raises(ValueError, match="not 'running'"):
        status.finish("running")
    status.finish("failed", error="OSError: disk full")
    assert jobs.read(tmp_path)["error"] == "OSError: disk full" and status.ended


def test_a_status_saying_running_whose_process_is_gone_reads_as_stopped(tmp_path):
    jobs.Status(tmp_path, "train").progress("train", 7, 9, force=True)
    (tmp_path / jobs.FILE).write_text((tmp_path / jobs.FILE).read_text().replace(str(os.getpid()), str(dead_pid())))
    status = jobs.read(tmp_path)
    assert (status["state"], status["done"], status["message"]) == ("stopped", 7, "the process is gone")


def test_ended_states_stay_whatever_the_pid_and_no_file_is_none(tmp_path):
    assert jobs.read(tmp_path) is None
    for state in jobs.ENDED:
        (tmp_path / jobs.FILE).write_text(f'{{"state": "{state}", "pid": {dead_pid()}, "message": "m"}}')
        assert (jobs.read(tmp_path)["state"], jobs.read(tmp_path)["message"]) == (state, "m")
    (tmp_path / jobs.FILE).write_text('{"state": ')  # never half a file from Status, but a reader must not break
    assert jobs.read(tmp_path) is None


def test_a_zombie_process_counts_as_gone():
    child = subprocess.Popen(["true"])
    for _ in range(200):  # until it has exited, not yet reaped
        with open(f"/proc/{child.pid}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":
                break
        time.sleep(0.01)
    try:
        assert not jobs.pid_alive(child.pid)
    finally:
        child.wait()
    assert jobs.pid_alive(os.getpid())


def test_new_folders_are_unique_within_one_second_and_sort_by_time(tmp_path):
    folders = [jobs.new_folder(tmp_path / "jobs", "tolerance") for _ in range(3)]
    assert len({f.name for f in folders}) == 3 and all(f.is_dir() and "tolerance" in f.name for f in folders)
    assert jobs.job_folders(tmp_path, "tolerance") == sorted(folders, reverse=True)
    assert jobs.job_folders(tmp_path, "scan") == []


def test_prune_keeps_the_newest_ended_jobs_and_every_running_one(tmp_path):
    folders = [jobs.new_folder(tmp_path / jobs.JOBS, "scan") for _ in range(4)]
    for folder in folders[:3]:
        jobs.Status(folder, "scan").finish("finished")
    jobs.Status(folders[0], "scan")  # the oldest still runs (this process)
    jobs.prune(tmp_path, "scan", keep=1)
    assert jobs.job_folders(tmp_path, "scan") == [folders[3], folders[2], folders[0]]


def test_stop_requests_are_a_file(tmp_path):
    assert not jobs.stop_requested(tmp_path)
    jobs.request_stop(tmp_path)
    assert jobs.stop_requested(tmp_path)
