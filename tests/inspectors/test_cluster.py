"""The scan on a Dask cluster (cluster.py): a real LocalCluster of two worker processes, started once here."""

import dataclasses
import shutil

import pandas as pd
import pytest

pytest.importorskip("distributed")

from inspectors import cluster, features  # noqa: E402
from inspectors.__main__ import main  # noqa: E402
from inspectors.config import ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.scan import scan  # noqa: E402
from tests.inspectors.slow_reader import decode_or_die  # noqa: E402

CONFIG = ScanConfig(workers=1, chunk_size=4, commit_every=4)


@pytest.fixture(scope="module")
def client():
    with cluster.connect("local:2") as client:  # LocalCluster(n_workers=2, processes=True, threads_per_worker=1)
        yield client


def executor(client, work=features.decode_file, batch_size=8):
    """cluster.Executor with another work function (a test's misbehaving one) and small batches."""
    def run(tasks, options, on_results, workers=None, timeout_s=None, chunk_size=None, **kw):
        cluster.scan_files(client, tasks, options, on_results, batch_size, timeout_s=timeout_s,
                           **{**kw, "work": work})
    return run


def without_times(samples: pd.DataFrame) -> pd.DataFrame:
    return samples.drop(columns="mtime_ns")


def test_a_cluster_scan_equals_the_local_scan_and_fills_the_same_cache(client, small_dataset, tmp_path):
    listing = load_dataset(small_dataset)
    local = scan(listing, CONFIG).samples
    result = scan(listing, CONFIG, tmp_path / "ws", executor=cluster.Executor(client, batch_chunks=2))
    pd.testing.assert_frame_equal(without_times(local), without_times(result.samples))
    again = scan(load_dataset(small_dataset), CONFIG, tmp_path / "ws")  # the local pool resumes from its cache
    assert again.decoded == 0 and again.cached == result.decoded
    pd.testing.assert_frame_equal(without_times(local), without_times(again.samples))


def test_a_worker_killed_mid_scan_loses_nothing(client, small_dataset, tmp_path):
    victim = small_dataset / "train" / "dog" / "die-once.png"
    shutil.copy(small_dataset / "train" / "dog" / "dog_0.png", victim)
    listing = load_dataset(small_dataset)
    local = scan(listing, CONFIG).samples
    result = scan(listing, CONFIG, tmp_path / "ws", executor=executor(client, decode_or_die))
    assert (small_dataset / "train" / "dog" / "die-once.png.died").exists()  # a worker did die on it
    pd.testing.assert_frame_equal(without_times(local), without_times(result.samples))


def test_a_file_that_kills_its_workers_becomes_a_row_with_the_reason(client, small_dataset):
    shutil.copy(small_dataset / "val" / "cat" / "cat_0.png", small_dataset / "val" / "cat" / "crash.png")
    listing = load_dataset(small_dataset)
    local = scan(listing, CONFIG).samples.set_index("path")
    rows = scan(listing, CONFIG, executor=executor(client, decode_or_die)).samples.set_index("path")
    crashed = rows.loc["val/cat/crash.png"]
    assert not crashed["ok"]
    assert crashed["error"].startswith("WorkerCrashed: the decoder killed its Dask worker 2 times")
    others = rows.index != "val/cat/crash.png"
    pd.testing.assert_frame_equal(without_times(local[others]), without_times(rows[others]))


def test_a_worker_with_other_library_versions_is_refused(client, small_dataset, monkeypatch):
    ours = cluster.local_versions()
    monkeypatch.setattr(cluster, "local_versions", lambda: {**ours, "Pillow": "0.0.1"})  # what the client compares
    refused = r"Dask worker tcp://\S+ refused: Pillow .* \(the client has 0\.0\.1\)"
    with pytest.raises(cluster.ClusterError, match=refused):
        scan(load_dataset(small_dataset), CONFIG, executor=cluster.Executor(client))


@pytest.mark.parametrize("library", ["Pillow", "libjpeg", "numpy", "inspectors code"])
def test_a_batch_on_a_worker_of_other_versions_raises(library):
    ours = cluster.local_versions()
    with pytest.raises(cluster.WrongVersions, match=f"refused: {library} "):
        cluster.run_batch([], {}, features.decode_file, None, None, {**ours, library: "other"})


@pytest.mark.parametrize("spec", ["local:0", "local:x", "http://host:8786", "host:8786"])
def test_a_bad_cluster_is_a_usage_error(spec, small_dataset, cache_dir, capsys):
    assert main(["scan", str(small_dataset), "--cluster", spec, "--quiet"]) == 2
    assert "--cluster" in capsys.readouterr().err


def test_cluster_specs():
    assert cluster.parse("local:3") == ("local", 3)
    assert cluster.parse("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")


def test_a_worker_that_changed_after_the_check_is_refused_by_its_batch(client, small_dataset, monkeypatch):
    ours = cluster.local_versions()
    monkeypatch.setattr(cluster, "check_workers", lambda client, ours: None)  # joined after the check
    monkeypatch.setattr(cluster, "local_versions", lambda: {**ours, "libjpeg": "6b"})
    with pytest.raises(cluster.ClusterError, match=r"refused: libjpeg .* \(the client has 6b\)"):
        scan(load_dataset(small_dataset), CONFIG, executor=cluster.Executor(client))


def test_the_cli_without_cluster_never_imports_dask():
    import subprocess
    import sys
    code = "import sys, inspectors.__main__; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('dask', 'distributed')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_an_object_storage_scan_on_the_cluster_equals_the_local_scan(client, tmp_path):
    pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    from tests.inspectors import s3_server
    from tests.inspectors.test_storage_s3 import make_dataset

    local = make_dataset(tmp_path / "ds")
    proc, port = s3_server.start_moto()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket="source")
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            s3.upload_file(str(path), "source", f"ds/{path.relative_to(local).as_posix()}")
        # the workers started before this test: they get the endpoint and keys with the storage options
        options = {"endpoint_url": endpoint, "key": "testing", "secret": "testing",
                   "client_kwargs": {"region_name": "us-east-1"}}
        listing = load_dataset("s3://source/ds", storage_options=options)
        result = scan(listing, CONFIG, tmp_path / "ws", executor=cluster.Executor(client, batch_chunks=1))
    finally:
        s3_server.stop(proc)
    expected = scan(load_dataset(local), CONFIG).samples
    pd.testing.assert_frame_equal(without_times(expected), without_times(result.samples))


def test_the_near_duplicate_search_in_shards_on_the_cluster_finds_the_one_machine_pairs(client, tmp_path):
    import numpy as np
    from distributed import get_task_stream

    from inspectors import content, sharded_join, vector_join
    rng = np.random.default_rng(0)
    centres = content.normalised(rng.normal(size=(60, 16)))
    vectors = content.normalised(centres[rng.integers(0, 60, 3000)] + rng.normal(scale=0.15, size=(3000, 16)))
    np.save(tmp_path / "rows.npy", vectors)  # the workers read their shard's rows from the file, not from us
    read = sharded_join.ArrayReader(tmp_path / "rows.npy")
    q, r, s = vector_join.Cells(vectors, 40, 40, 100).pairs(vectors, 0.93, probes=6, per_block=10)
    the_plan, _ = sharded_join.plan(read, len(vectors), 40, 40, 100, max_rows=300)
    assert len(the_plan.ranges) >= 10  # forced small: no shard holds more than a tenth of the rows
    with get_task_stream(client) as stream:
        got = sharded_join.partitioned_pairs(read, len(vectors), vectors, 0.93, 6, 10, cells=40, training_rows=40,
                                             exact_rows=100, max_rows=300, client=client)
    one_machine = dict(zip(zip(q.tolist(), r.tolist(), strict=True), s.tolist(), strict=True))
    on_cluster = dict(zip(zip(got[0].tolist(), got[1].tolist(), strict=True), got[2].tolist(), strict=True))
    assert len(got[0]) == len(q) and on_cluster == one_machine  # the same pairs once each, the same products
    shards = [task for task in stream.data if task["key"].startswith("search_shard")]
    assert len(shards) >= 10 and len({task["worker"] for task in shards}) == 2  # side by side, on both workers


def test_the_cli_scans_on_a_local_cluster_it_starts_and_stops(small_dataset, cache_dir, tmp_path):
    assert main(["scan", str(small_dataset), "--cluster", "local:2", "--quiet", "--out", str(tmp_path / "dask"),
                 "--no-cache"]) == 0
    assert main(["scan", str(small_dataset), "--quiet", "--out", str(tmp_path / "pool"), "--no-cache"]) == 0
    dask, pool = (pd.read_parquet(tmp_path / name / "samples.parquet") for name in ("dask", "pool"))
    pd.testing.assert_frame_equal(without_times(pool), without_times(dask))
    assert (tmp_path / "dask" / "findings.csv").read_text() == (tmp_path / "pool" / "findings.csv").read_text()


def test_a_cluster_scan_stopped_half_way_resumes_to_the_same_table(client, small_dataset, tmp_path):
    listing = load_dataset(small_dataset)

    def stop_after_sixteen(done, total):
        if done >= 16:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        scan(listing, CONFIG, tmp_path / "ws", progress=stop_after_sixteen,
             executor=cluster.Executor(client, batch_chunks=2))
    resumed = scan(listing, CONFIG, tmp_path / "ws", executor=cluster.Executor(client, batch_chunks=2))
    assert resumed.cached >= 16 and resumed.decoded + resumed.cached == 41
    pd.testing.assert_frame_equal(without_times(scan(listing, CONFIG).samples), without_times(resumed.samples))


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_a_cluster_without_workers_is_refused(monkeypatch):
    from distributed import Client, LocalCluster
    monkeypatch.setattr(cluster, "WAIT_FOR_WORKERS_S", 0.5)
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as empty, \
            Client(empty, set_as_default=False) as nobody:
        with pytest.raises(cluster.ClusterError, match="no workers"):
            cluster.check_workers(nobody, cluster.local_versions())


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
@pytest.mark.timeout(120)
def test_a_scan_on_a_cluster_that_lost_every_worker_ends_instead_of_waiting(monkeypatch, small_dataset):
    from distributed import Client, LocalCluster
    monkeypatch.setattr(cluster, "WAIT_FOR_WORKERS_S", 1.0)
    monkeypatch.setattr(cluster, "check_workers", lambda client, ours: None)  # they were there when it started
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as empty, \
            Client(empty, set_as_default=False) as nobody:
        with pytest.raises(cluster.ClusterError, match="lost all its workers and none came back within 1 s"):
            scan(load_dataset(small_dataset), CONFIG, executor=cluster.Executor(nobody))


@pytest.mark.timeout(300)  # a safety net below the suite's 600 s: the waits in cluster.py are bounded themselves
def test_a_hung_file_ends_its_workers_and_becomes_a_timeout_row(client, small_dataset):
    shutil.copy(small_dataset / "val" / "cat" / "cat_0.png", small_dataset / "val" / "cat" / "hang.png")
    listing = load_dataset(small_dataset)
    config = dataclasses.replace(CONFIG, file_timeout_s=1.0)
    local = scan(listing, config).samples.set_index("path")
    rows = scan(listing, config, executor=executor(client, decode_or_die)).samples.set_index("path")
    assert rows.loc["val/cat/hang.png", "error"] == "ScanTimeout: reading took longer than 1 s; the worker was replaced"
    others = rows.index != "val/cat/hang.png"
    pd.testing.assert_frame_equal(without_times(local[others]), without_times(rows[others]))


def test_the_cli_scans_on_a_running_scheduler_and_two_workers(small_dataset, cache_dir, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.inspectors.s3_server import free_port
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # the workers import inspectors
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], **quiet)]
    procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], **quiet)
              for _ in range(2)]
    try:
        assert main(["scan", str(small_dataset), "--cluster", f"tcp://127.0.0.1:{port}", "--quiet", "--out",
                     str(tmp_path / "dask"), "--no-cache"]) == 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
    assert main(["scan", str(small_dataset), "--quiet", "--out", str(tmp_path / "pool"), "--no-cache"]) == 0
    dask, pool = (pd.read_parquet(tmp_path / name / "samples.parquet") for name in ("dask", "pool"))
    pd.testing.assert_frame_equal(without_times(pool), without_times(dask))
