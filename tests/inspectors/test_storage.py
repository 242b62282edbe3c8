"""inspectors/storage.py and remote.py without a server: URLs, options, stamps, retries, a streamed listing of a
million objects, and file:// (fsspec's local filesystem, a real one) against the local scan."""

import itertools
import json
import posixpath
import tracemalloc
from datetime import UTC, datetime

import pandas as pd
import pytest
from fsspec.spec import AbstractFileSystem

from inspectors import remote, storage, workspace
from inspectors.config import LoadConfig, ScanConfig
from inspectors.dataset import DatasetError, load_dataset
from inspectors.scan import scan

SECRET = "s3cr3t-never-written"


def test_public_url_drops_user_info_query_and_trailing_slash():
    assert storage.public_url(f"s3://AKIA:{SECRET}@bucket/prefix/") == "s3://bucket/prefix"
    assert storage.public_url(f"az://box/data?sv=2024&sig={SECRET}") == "az://box/data"
    assert storage.join_url("s3://bucket/prefix", "train/cat/1.jpg") == "s3://bucket/prefix/train/cat/1.jpg"
    assert storage.join_url("s3://bucket/prefix", "gs://other/x.png") == "gs://other/x.png"
    assert storage.is_url("file:///tmp/x") and not storage.is_url("/tmp/x") and not storage.is_url(None)


def test_workspace_of_a_url_is_keyed_without_its_secrets():
    plain = workspace.dataset_id("s3://bucket/prefix")
    assert workspace.dataset_id(f"s3://AKIA:{SECRET}@bucket/prefix/") == plain
    assert workspace.dataset_id(f"s3://bucket/prefix?token={SECRET}") == plain
    assert plain.startswith("prefix-") and SECRET not in plain
    assert workspace.dataset_id("s3://bucket/other") != plain


def test_storage_options_come_from_the_environment_then_the_flag(monkeypatch):
    monkeypatch.setenv(storage.STORAGE_ENV, json.dumps({"anon": True, "endpoint_url": "http://a"}))
    assert storage.storage_options('{"endpoint_url": "http://b"}') == {"anon": True, "endpoint_url": "http://b"}
    with pytest.raises(ValueError) as error:
        storage.storage_options('{"secret": "' + SECRET)  # broken JSON: the message must not echo it
    assert SECRET not in str(error.value) and "--storage-options" in str(error.value)
    with pytest.raises(ValueError, match="JSON object"):
        storage.storage_options('["anon"]')


def test_object_stamp_follows_the_etag_else_the_modification_time():
    when = datetime(2026, 12, 1, tzinfo=UTC)
    a = storage.object_stat({"size": 10, "ETag": '"aaa"', "LastModified": when})
    b = storage.object_stat({"size": 10, "ETag": '"bbb"', "LastModified": when})
    assert a.st_size == 10 and a.st_mtime_ns == int(when.timestamp() * 1e9)
    assert a.stamp != b.stamp and 0 < a.stamp < 2**63
    assert storage.object_stamp({"mtime": 1.5}) != storage.object_stamp({"mtime": 2.5})


def test_transient_errors_are_retried_with_backoff_and_refusals_are_not():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("read timed out")
        return b"ok"
    assert storage.with_retries(flaky, attempts=3, backoff_s=0.5, sleep=sleeps.append) == b"ok"
    assert sleeps == [0.5, 1.0]

    def refused():
        calls.append(1)
        raise PermissionError("Access Denied")
    calls.clear()
    with pytest.raises(PermissionError):
        storage.with_retries(refused, sleep=sleeps.append)
    assert len(calls) == 1

    def down():
        raise ConnectionError("connection reset")
    with pytest.raises(storage.GaveUp, match="ConnectionError: connection reset .gave up after 2 tries"):
        storage.with_retries(down, attempts=2, sleep=lambda s: None)


class SyntheticFileSystem(AbstractFileSystem):
    """`folders` class folders of `per_folder` objects each, made up as they are listed: nothing is stored."""
    protocol = "synthetic"

    def __init__(self, folders=1000, per_folder=1000, **kwargs):
        super().__init__(**kwargs)
        self.folders, self.per_folder, self.listed = folders, per_folder, 0

    def ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path).rstrip("/")
        if path == "bucket/data":
            return [{"name": f"bucket/data/c{i:04d}", "type": "directory", "size": 0} for i in range(self.folders)]
        self.listed += 1
        return [{"name": f"{path}/{j:06d}.jpg", "type": "file", "size": 1000 + j, "ETag": f'"{j}"'}
                for j in range(self.per_folder)]


def test_a_million_objects_are_listed_a_folder_at_a_time_in_constant_memory():
    fs = SyntheticFileSystem(skip_instance_cache=True)
    rows = remote.folder_rows(fs, "bucket/data", LoadConfig())
    first = next(rows)
    assert first[:4] == ("c0999/000000.jpg", "c0999", "", "image") and first[-1] > 0
    tracemalloc.start()  # over the first 100,000 rows only: tracing every allocation triples the time
    count = 1 + sum(1 for _ in itertools.islice(rows, 99_999))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20  # one folder's listing (1,000 dicts) at a time; all of them would be ~1 GB
    for row in rows:  # and the listing only ever runs one folder ahead of the rows taken
        count, last = count + 1, row
        if count % 250_000 == 0:
            assert count // 1000 <= fs.listed <= count // 1000 + 1
    assert count == 1_000_000 and fs.listed == 1000 and last[0] == "c0000/000999.jpg"


def test_file_url_scans_to_the_same_samples_as_the_local_path(small_dataset, tmp_path):
    (small_dataset / "val" / "cat" / "x.jpg").mkdir()  # a folder named like an image: reported alike
    local = scan(load_dataset(small_dataset), ScanConfig(workers=1)).samples
    listing = load_dataset(f"file://{small_dataset}")
    assert listing.root == f"file://{small_dataset}" and listing.storage == {}
    remote_samples = scan(listing, ScanConfig(workers=1), tmp_path / "ws").samples
    pd.testing.assert_frame_equal(local.drop(columns="mtime_ns"), remote_samples.drop(columns="mtime_ns"))
    truncated = remote_samples.set_index("path").loc["train/cat/truncated.jpg"]
    assert not truncated["ok"] and "OSError" in truncated["error"]


def test_a_url_manifest_and_a_missing_prefix(small_dataset, tmp_path):
    lines = ["path,label", "train/cat/cat_0.png,cat", "train/dog/dog_1.jpg,dog", "train/dog/gone.png,dog"]
    (small_dataset / "labels.csv").write_text("\n".join(lines) + "\n")
    listing = load_dataset(f"file://{small_dataset}/labels.csv")
    rows = listing.samples.set_index("path")
    assert listing.layout == "csv" and listing.root == f"file://{small_dataset}"
    assert rows.loc["train/dog/gone.png", "entry"] == "missing"
    assert rows.loc["train/cat/cat_0.png", "label"] == "cat" and not rows.loc["train/cat/cat_0.png", "orphan"]
    assert rows.loc["val/cat/cat_1.jpg", "orphan"]
    with pytest.raises(DatasetError, match="nothing-here: cannot list it .FileNotFoundError"):
        load_dataset(f"file://{tmp_path}/nothing-here")


def test_a_local_manifest_may_name_objects_by_url(small_dataset, tmp_path):
    url = f"file://{small_dataset}"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "labels.csv").write_text(f"path,label\n{url}/train/cat/cat_0.png,cat\n{url}/nope.png,dog\n")
    listing = load_dataset(tmp_path / "m" / "labels.csv")
    samples = scan(listing, ScanConfig(workers=1)).samples.set_index("path")
    assert samples.loc[f"{url}/train/cat/cat_0.png", "ok"]
    assert samples.loc[f"{url}/nope.png", "entry"] == "missing"
    assert posixpath.basename(str(listing.root)) == "m"


def test_any_fsspec_protocol_lists_through_the_same_interface():
    import fsspec
    fsspec.register_implementation("synthetic", SyntheticFileSystem, clobber=True)
    listing = load_dataset("synthetic://bucket/data", storage_options={"folders": 3, "per_folder": 4})
    assert listing.root == "synthetic://bucket/data" and listing.layout == "folders"
    assert len(listing.samples) == 12 and sorted(set(listing.samples["label"])) == ["c0000", "c0001", "c0002"]
    assert listing.samples["fs_path"].iloc[0] == b"synthetic://bucket/data/c0000/000000.jpg"


def test_a_url_manifest_for_a_local_folder_is_refused_with_the_reason(tmp_path):
    with pytest.raises(DatasetError, match="--labels s3://bucket/labels.csv is a URL: DATASET must then be the URL"):
        load_dataset(tmp_path, "s3://bucket/labels.csv")


def test_a_manifest_row_naming_a_web_address_is_never_fetched(tmp_path, monkeypatch):
    def no_call(*args, **kwargs):
        raise AssertionError("a web address in a manifest reached a filesystem")
    monkeypatch.setattr(remote, "filesystem", no_call)
    (tmp_path / "labels.csv").write_text("path,label\nhttp://127.0.0.1:9/x.png,cat\nhttps://example.com/y.png,dog\n")
    rows = load_dataset(tmp_path / "labels.csv").samples.set_index("path")
    assert len(rows) == 2
    assert all("not read: a web address" in e for e in rows["error"])
