import os
import time

from inspectors import pool
from tests.conftest import encode, noise_image, write
from tests.inspectors.slow_reader import read_or_misbehave, report_environment


def run(paths, **kw):
    got = {}
    pool.scan_files(list(enumerate(str(p) for p in paths)), {}, lambda rs: got.update({i: r for i, r, _ in rs}),
                    work=read_or_misbehave, **kw)
    return got


def test_a_hung_file_times_out_and_the_scan_goes_on(tmp_path):
    data = encode(noise_image(), "PNG")
    paths = [write(tmp_path / f"{i}.png", data) for i in range(6)]
    paths.insert(2, write(tmp_path / "hang.png", data))
    start = time.monotonic()
    got = run(paths, workers=2, timeout_s=1.0, chunk_size=3)
    assert time.monotonic() - start < 30
    assert sorted(got) == list(range(7))
    assert got[2]["error"].startswith("ScanTimeout") and not got[2]["ok"]
    assert all(got[i]["ok"] for i in got if i != 2)


def assert_the_crash_is_reported_and_the_rest_read(tmp_path):
    """Eleven files, the sixth kills its worker: it alone is reported, the others are read by the next worker."""
    data = encode(noise_image(), "PNG")
    paths = [write(tmp_path / f"{i}.png", data) for i in range(5)] + [write(tmp_path / "crash.png", data)]
    paths += [write(tmp_path / f"z{i}.png", data) for i in range(5)]
    got = run(paths, workers=1, timeout_s=30, chunk_size=4)
    assert sorted(got) == list(range(11))
    assert got[5]["error"].startswith("WorkerCrashed")
    assert "(exit code 3)" in got[5]["error"]  # the worker's own code, not None from a process not yet reaped
    assert sum(r["ok"] for r in got.values()) == 10


def test_a_crashing_decoder_is_reported_and_replaced(tmp_path):
    assert_the_crash_is_reported_and_the_rest_read(tmp_path)


def test_a_worker_that_dies_before_its_next_chunk_is_sent_is_replaced(tmp_path, monkeypatch):
    # the race CI once met: the worker dies on the crash file before the main process, not knowing yet, sends it
    # the next chunk (a broken pipe); forced here by waiting for the worker's death before the third send
    sent, original = [], pool._Worker.send

    def send_after_death(self, chunk):
        sent.append(chunk)
        if len(sent) == 3:
            self.process.join(timeout=20)
        original(self, chunk)

    monkeypatch.setattr(pool._Worker, "send", send_after_death)
    assert_the_crash_is_reported_and_the_rest_read(tmp_path)
    assert len(sent) > 3  # the race was met: a send came after the worker's death


def test_no_tasks_starts_no_worker():
    assert run([], workers=4) == {}


def test_workers_that_cannot_start_stop_the_scan_with_a_reason(tmp_path):
    import pytest

    from tests.inspectors.dies_on_import import work
    data = encode(noise_image(), "PNG")
    paths = [write(tmp_path / f"{i}.png", data) for i in range(4)]
    with pytest.raises(RuntimeError, match="exited before reading a file"):
        pool.scan_files(list(enumerate(map(str, paths))), {}, lambda rs: None, work=work, workers=1)


def run_report(path) -> dict:
    got = {}
    pool.scan_files([(0, str(path))], {}, lambda rs: got.update({i: r for i, r, _ in rs}), work=report_environment)
    return got[0]


def test_workers_run_numpy_on_one_thread_and_the_caller_keeps_its_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    got = run_report(write(tmp_path / "a.png", encode(noise_image(), "PNG")))
    assert {key: got[key] for key in pool.WORKER_ENV} == pool.WORKER_ENV
    if got["threads"] is not None:  # numpy imported, and OpenBLAS started no thread (its threads are unnamed)
        assert got["threads"] == 1, got["names"]
    assert os.environ["OMP_NUM_THREADS"] == "8" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_workers_do_not_run_the_caller_s_main_script(tmp_path, monkeypatch):
    import sys
    import types

    from tests.inspectors import dies_on_import
    # a __main__ whose import ends a worker, as a script that scans at import time would (or, under
    # Streamlit, the app itself, which only costs time and memory)
    script = types.ModuleType("__main__")
    script.__file__ = dies_on_import.__file__
    monkeypatch.setitem(sys.modules, "__main__", script)
    got = run_report(write(tmp_path / "a.png", encode(noise_image(), "PNG")))
    assert got["OPENBLAS_NUM_THREADS"] == "1"
    assert sys.modules["__main__"] is script
