"""Scanning from a real S3 API on 127.0.0.1 (moto's server, behind a counting proxy: s3_server.py)."""

import json
import os

import pandas as pd
import pytest

from inspectors import storage
from inspectors.__main__ import main
from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.scan import scan
from tests.conftest import folder_dataset, write

from . import s3_server

pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

BUCKET, PREFIX = "source", "ds"
SECRET = "s3cr3t-never-written"
READ_ONLY = {"GET", "HEAD"}


def make_dataset(root):
    folder_dataset(root, {"train": 6, "val": 2}, seed=1)
    write(root / "val" / "dog" / "dog_0_copy.png", (root / "val" / "dog" / "dog_0.png").read_bytes())
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(proxy, local copy of the dataset): moto with the dataset uploaded under s3://source/ds/."""
    proc, port = s3_server.start_moto()
    proxy = s3_server.CountingProxy(port)
    try:
        local = make_dataset(tmp_path_factory.mktemp("s3") / "ds")
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        for folder, _, files in os.walk(local):
            for name in files:
                path = os.path.join(folder, name)
                client.upload_file(path, BUCKET, f"{PREFIX}/{os.path.relpath(path, local)}")
        proxy.client = client
        yield proxy, local
    finally:
        proxy.close()
        s3_server.stop(proc)


@pytest.fixture
def s3(server, monkeypatch, cache_dir):
    """The proxy, reached through the standard environment (the workers inherit it), its log emptied."""
    proxy, local = server
    for key, value in {**s3_server.CREDENTIALS, "AWS_ENDPOINT_URL": proxy.url}.items():
        monkeypatch.setenv(key, value)
    proxy.reset()
    yield proxy, local
    proxy.reset()


def object_gets(proxy) -> list[str]:
    return [path for method, path in proxy.requests if method == "GET" and "list-type=2" not in path]


def test_s3_scan_gives_the_local_samples_and_only_reads(s3, tmp_path):
    proxy, local = s3
    expected = scan(load_dataset(local), ScanConfig(workers=1)).samples
    listing = load_dataset(f"s3://{BUCKET}/{PREFIX}")
    result = scan(listing, ScanConfig(workers=2), tmp_path / "ws")
    pd.testing.assert_frame_equal(expected.drop(columns="mtime_ns"), result.samples.drop(columns="mtime_ns"))
    assert set(proxy.methods()) <= READ_ONLY, proxy.methods()
    images = int((listing.samples["entry"] == "image").sum())
    assert sorted(object_gets(proxy)) == sorted({p for p in object_gets(proxy)})  # each object read once
    assert len(object_gets(proxy)) == images  # one GET a file, no HEAD before it
    proxy.reset()
    again = scan(load_dataset(f"s3://{BUCKET}/{PREFIX}"), ScanConfig(workers=1), tmp_path / "ws")
    assert again.decoded == 0 and again.cached == images and object_gets(proxy) == []


def test_the_listing_pages_through_the_prefix(s3, monkeypatch):
    proxy, _ = s3
    monkeypatch.setattr(storage, "LIST_PAGE", 5)  # our hand-over in pieces; S3's own pages are 1,000 keys
    listing = load_dataset(f"s3://{BUCKET}/{PREFIX}")
    assert len(listing.samples) == 19 and set(listing.samples["split"]) == {"train", "val"}
    lists = [p for m, p in proxy.requests if "list-type=2" in p]
    assert any("delimiter=&" in p for p in lists)  # the whole prefix in one paginated walk, not per folder


def test_a_changed_object_is_read_again_and_a_killed_scan_resumes(s3, tmp_path):
    proxy, local = s3
    url = f"s3://{BUCKET}/{PREFIX}"
    config = ScanConfig(workers=1, chunk_size=4, commit_every=4)

    def stop_after_eight(done, total):
        if done >= 8:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        scan(load_dataset(url), config, tmp_path / "ws", progress=stop_after_eight)
    resumed = scan(load_dataset(url), config, tmp_path / "ws")
    assert resumed.cached >= 8 and resumed.decoded + resumed.cached == 18
    key = f"{PREFIX}/train/cat/cat_0.png"
    data = bytearray((local / "train" / "cat" / "cat_0.png").read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, new ETag: the IDAT checksum now fails
    proxy.client.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))
    try:
        proxy.reset()
        changed = scan(load_dataset(url), config, tmp_path / "ws")
        row = changed.samples.set_index("path").loc["train/cat/cat_0.png"]
        assert changed.decoded == 1 and object_gets(proxy) == [f"/{BUCKET}/{key}"]
        assert not row["ok"] and "ChecksumError" in row["error"]
    finally:
        proxy.client.upload_file(str(local / "train" / "cat" / "cat_0.png"), BUCKET, key)


def test_refused_missing_and_throttled_objects(s3):
    proxy, _ = s3
    listing = load_dataset(f"s3://{BUCKET}/{PREFIX}")
    proxy.faults = {f"/{BUCKET}/{PREFIX}/train/cat/cat_2.png": (403, 99),
                    f"/{BUCKET}/{PREFIX}/train/dog/dog_3.jpg": (404, 99),  # listed, then gone
                    f"/{BUCKET}/{PREFIX}/val/cat/cat_1.jpg": (503, 2)}  # SlowDown twice, then served
    rows = scan(listing, ScanConfig(workers=1)).samples.set_index("path")
    assert rows.loc["train/cat/cat_2.png", "error"].startswith("PermissionError: ")
    assert rows.loc["train/dog/dog_3.jpg", "error"].startswith("FileNotFoundError: ")
    assert rows.loc["val/cat/cat_1.jpg", "ok"]
    assert object_gets(proxy).count(f"/{BUCKET}/{PREFIX}/val/cat/cat_1.jpg") == 3  # backed off, tried again
    assert rows["ok"].sum() == 18 - 1 - 2  # the truncated JPEG, and the two above
    assert set(proxy.methods()) <= READ_ONLY


def test_a_stalled_object_is_cut_off_and_read_again_under_a_longer_timeout(s3, tmp_path):
    proxy, _ = s3
    url, stalled = f"s3://{BUCKET}/{PREFIX}", "val/cat/cat_1.jpg"
    proxy.delays = {f"/{BUCKET}/{PREFIX}/{stalled}": 14}  # a timeout long enough for a busy machine's other reads
    first = scan(load_dataset(url), ScanConfig(workers=1, file_timeout_s=8), tmp_path / "ws").samples.set_index("path")
    assert first.loc[stalled, "error"].startswith("ReadTimeout: no answer within 6.4 s (0.8 of --timeout 8 s)")
    assert first["ok"].sum() == 18 - 1 - 1  # only the truncated JPEG and the stalled object: no one else blamed
    proxy.delays = {}
    again = scan(load_dataset(url), ScanConfig(workers=1, file_timeout_s=10), tmp_path / "ws")
    assert again.decoded == 1 and again.samples.set_index("path").loc[stalled, "ok"]


def test_a_local_manifest_naming_s3_urls(s3, tmp_path):
    proxy, _ = s3
    base = f"s3://{BUCKET}/{PREFIX}"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "labels.csv").write_text(f"path,label\n{base}/train/cat/cat_0.png,cat\n{base}/nope.png,dog\n")
    rows = scan(load_dataset(tmp_path / "m" / "labels.csv"), ScanConfig(workers=1)).samples.set_index("path")
    assert rows.loc[f"{base}/train/cat/cat_0.png", "ok"]
    assert rows.loc[f"{base}/nope.png", "entry"] == "missing"
    assert set(proxy.methods()) <= READ_ONLY


def test_cli_secrets_from_storage_options_are_never_written(s3, tmp_path, monkeypatch, capsys):
    proxy, _ = s3
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key)
    options = json.dumps({"key": "AKIAEXAMPLEKEY", "secret": SECRET, "endpoint_url": proxy.url})
    code = main(["scan", f"s3://{BUCKET}/{PREFIX}", "--storage-options", options, "--out", str(tmp_path / "out"),
                 "--cache", str(tmp_path / "cache"), "--workers", "1"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert set(proxy.methods()) <= READ_ONLY and len(object_gets(proxy)) == 18
    written = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] + \
              [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name == "config.json" for p in written) and any(p.name == "scan_cache.sqlite" for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
        assert b"AKIAEXAMPLEKEY" not in path.read_bytes(), path
    assert SECRET not in printed.out + printed.err
    workspace = next((tmp_path / "cache").iterdir())
    assert json.loads((workspace / "workspace.json").read_text())["dataset"] == f"s3://{BUCKET}/{PREFIX}"


def test_the_app_opens_a_url_dataset_and_streams_a_full_view(s3, tmp_path):
    from ui import images, state
    proxy, local = s3
    ds = state.resolve(f"s3://{BUCKET}/{PREFIX}/", None)
    assert ds.path == ds.root == f"s3://{BUCKET}/{PREFIX}" and ds.workspace.parent == tmp_path / "cache"
    view = images.open_for_display(ds.root, "train/cat/cat_0.png", ScanConfig().max_pixel_bytes, 200)
    assert view.error is None and view.image.size == noise_image_size(local / "train" / "cat" / "cat_0.png")
    broken = images.open_for_display(ds.root, "train/cat/truncated.jpg", ScanConfig().max_pixel_bytes, 200)
    assert broken.image is None and broken.error.startswith("OSError")
    assert set(proxy.methods()) <= READ_ONLY


def noise_image_size(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.size


def test_a_bucket_that_cannot_be_listed_is_a_usage_error_naming_it(s3, tmp_path, capsys):
    proxy, _ = s3
    code = main(["scan", "s3://no-such-bucket/set", "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and "s3://no-such-bucket/set: cannot list it (FileNotFoundError" in err, err
    assert set(proxy.methods()) <= READ_ONLY


def test_a_public_bucket_is_read_anonymously_and_a_private_one_refuses(s3, monkeypatch):
    proxy, local = s3
    if "public-set" not in [b["Name"] for b in proxy.client.list_buckets()["Buckets"]]:
        proxy.client.create_bucket(Bucket="public-set", ACL="public-read")
        for folder, _, files in os.walk(local):
            for name in files:
                path = os.path.join(folder, name)
                proxy.client.upload_file(path, "public-set", os.path.relpath(path, local),
                                         ExtraArgs={"ACL": "public-read"})
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    samples = scan(load_dataset("s3://public-set", storage_options={"anon": True}), ScanConfig(workers=1)).samples
    assert int(samples["ok"].sum()) == 18 - 1
    assert proxy.signed and not any(proxy.signed)  # not one request carried credentials
    private = scan(load_dataset(f"s3://{BUCKET}/{PREFIX}", storage_options={"anon": True}), ScanConfig(workers=1))
    images = private.samples[private.samples["entry"] == "image"]  # moto lists a private bucket to anyone
    assert len(images) == 18 and images["error"].str.startswith("PermissionError: Forbidden").all()


def test_a_big_object_that_is_no_image_is_never_downloaded_whole(s3):
    proxy, local = s3
    big = os.urandom(9 << 20)  # over imaging.HEAD_FIRST_BYTES, so its header decides
    proxy.client.put_object(Bucket=BUCKET, Key="big/cls/huge.jpg", Body=big)
    proxy.client.upload_file(str(local / "train" / "cat" / "cat_0.png"), BUCKET, "big/cls/small.png")
    rows = scan(load_dataset(f"s3://{BUCKET}/big"), ScanConfig(workers=1)).samples.set_index("path")
    huge = rows.loc["cls/huge.jpg"]
    assert not huge["ok"] and huge["error"].startswith("NotAnImageObject: UnidentifiedImageError")
    assert f"(first 1,048,576 bytes of {len(big):,} read)" in huge["error"]
    assert rows.loc["cls/small.png", "ok"]
    assert object_gets(proxy).count(f"/{BUCKET}/big/cls/huge.jpg") == 1  # the ranged read of its header only
