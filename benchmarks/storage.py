#!/usr/bin/env python
"""A scan from a local S3 API against the same files on local disk: throughput and requests per file.

    python benchmarks/storage.py [--files 5000] [--runs 1] [--workers 2] [--no-doc]

Generates --files small JPEGs (32 px, 10 class folders) under /tmp (kept between runs), starts moto's server on
127.0.0.1 with the counting proxy of tests/inspectors/s3_server.py in front, uploads the files with boto3
(straight to moto, not counted), then per run and per worker count: a cold scan() of the local folder and a
cold scan() of s3://bench/set through the proxy, each into a fresh workspace, listing included in both. The
proxy's log gives the requests per file by method. Medians over --runs; the table goes to stdout and to the
"## Object storage" section of docs/benchmarks.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "tests" / "inspectors")]

import _doc  # noqa: E402
import numpy as np  # noqa: E402
import s3_server  # noqa: E402
from PIL import Image  # noqa: E402

from inspectors.config import ScanConfig  # noqa: E402
from inspectors.dataset import load_dataset  # noqa: E402
from inspectors.scan import scan  # noqa: E402

HEADING = "Object storage"
DATA = Path(tempfile.gettempdir()) / "inspectors-bench-storage"


def make_files(n: int) -> Path:
    folder = DATA / str(n)
    if (folder / ".done").exists():
        return folder
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        im = Image.fromarray(pixels, "RGB").resize((32, 32), Image.Resampling.BICUBIC)
        target = folder / f"class{i % 10}" / f"{i:06d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        im.save(target, "JPEG", quality=90)
    (folder / ".done").touch()
    return folder


def upload(folder: Path, port: int) -> None:
    import boto3
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="bench")
    files = sorted(p for p in folder.rglob("*.jpg"))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: client.upload_file(str(p), "bench", f"set/{p.relative_to(folder)}"), files))


def timed_scan(dataset, workers: int) -> float:
    with tempfile.TemporaryDirectory() as ws:
        start = time.perf_counter()
        result = scan(load_dataset(dataset), ScanConfig(workers=workers), Path(ws) / "ws")
        seconds = time.perf_counter() - start
    assert int(result.samples["ok"].sum()) == len(result.samples), "every file should decode"
    return seconds


def server_alone(n: int) -> float:
    """Seconds for s3fs to GET every object of the set, 64 at a time, nothing decoded: what the server can serve
    on this machine, the ceiling of any scan from it."""
    import s3fs
    fs = s3fs.S3FileSystem(skip_instance_cache=True, max_concurrency=1)
    keys = [f"bench/set/class{i % 10}/{i:06d}.jpg" for i in range(n)]
    start = time.perf_counter()
    fs.cat(keys, batch_size=64)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    folder = make_files(args.files)
    proc, port = s3_server.start_moto()
    proxy = s3_server.CountingProxy(port)
    try:
        start = time.perf_counter()
        upload(folder, port)
        print(f"uploaded {args.files:,} files in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        os.environ.update({**s3_server.CREDENTIALS, "AWS_ENDPOINT_URL": proxy.url})
        rows = []
        for workers in args.workers:
            local, remote, alone, requests = [], [], [], {}
            for run in range(args.runs):
                local.append(timed_scan(folder, workers))
                proxy.reset()
                remote.append(timed_scan("s3://bench/set", workers))
                requests = proxy.methods()
                alone.append(server_alone(args.files))
                print(f"workers {workers} run {run + 1}: local {local[-1]:.1f} s, s3 {remote[-1]:.1f} s, "
                      f"requests {requests}, server alone {alone[-1]:.1f} s", file=sys.stderr)
            rows.append((workers, statistics.median(local), statistics.median(remote), statistics.median(alone),
                         requests))
    finally:
        proxy.close()
        s3_server.stop(proc)
    n = args.files
    lines = [f"## {HEADING}", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/storage.py --files {n} "
             f"--runs {args.runs} --workers {' '.join(map(str, args.workers))}`"
             f"{', medians' if args.runs > 1 else ', one run'}.",
             f"Machine: {_doc.machine()}. Code: {_doc.commit()}.", "",
             f"{n:,} JPEGs of 32x32 px (10 class folders), a cold `scan()` (listing included, fresh workspace) of the "
             "local folder and of the same files in moto's S3 server on 127.0.0.1, reached through the tests' "
             "counting proxy (tests/inspectors/s3_server.py), which also counts the requests. moto runs on the same "
             "2 cores as the scan: \"server alone\" is s3fs fetching every object of the set (64 requests in "
             "flight, nothing decoded, through the proxy too), the ceiling of any scan from this server here. "
             "Requests per file include the listing's pages.", "",
             "| workers | local files/s | S3 API files/s | S3 ÷ local | server alone files/s | S3 scan ÷ server alone "
             "| requests per file | requests by method |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for workers, local_s, remote_s, alone_s, requests in rows:
        total = sum(requests.values())
        lines.append(f"| {workers} | {n / local_s:,.0f} | {n / remote_s:,.0f} | {local_s / remote_s:.2f} | "
                     f"{n / alone_s:,.0f} | {alone_s / remote_s:.2f} | {total / n:.3f} | "
                     f"{', '.join(f'{k} {v:,}' for k, v in sorted(requests.items()))} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_doc:
        _doc.write_section(HEADING, text)


if __name__ == "__main__":
    main()
