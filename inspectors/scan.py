"""The scan: a listing -> the samples table, reading each new or changed file exactly once.

Files whose (path, size, mtime) match a cached row of the same scanner version are not read again;
the rest go to a pool of worker processes (pool.py). Results are committed to the cache in batches
as they arrive, so a scan killed half-way resumes from its last batch.
"""

import io
import multiprocessing
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import features, pool, scan_cache
from .config import ScanConfig
from .dataset import Listing
from .schema import BINARY_COLUMNS, ENTRY_IMAGE, FEATURE_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, SAMPLE_COLUMNS
from .workspace import (
    NoSpaceError,
    atomic_write_bytes,
    ensure_outside,
    folder_size,
    is_damaged,
    is_disk_full,
    mark_workspace,
)

# Bump when features.py changes what it computes: cached rows of another version are read again.
SCANNER_VERSION = "8"


@dataclass
class ScanResult:
    samples: pd.DataFrame
    workspace: Path | None
    seconds: float
    decoded: int  # files read by the workers in this scan
    cached: int  # files whose rows came from the cache
    pruned: int  # cache rows dropped because their file is gone


def worker_count(requested: int) -> int:
    if requested and requested > 0:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def scan(listing: Listing, config: ScanConfig = ScanConfig(), workspace: Path | None = None,
         progress=None, on_wait=None, retry_failed: bool = False, executor=None) -> ScanResult:
    """Scan every image of the listing; `progress(done, total)` is called as files finish. With
    retry_failed, files whose cached row says they failed are read again (a timeout on a busy machine).
    `executor` runs the files (pool.scan_files' signature): the local pool by default, cluster.Executor on Dask."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a spawned worker is re-running the caller's script: without this it would wait on the lock forever
        raise RuntimeError("scan() ran while a worker process was starting: put the calling script's code "
                           "under `if __name__ == '__main__':`")
    start = time.perf_counter()
    if workspace is None:
        rows, decoded, cached, pruned = _scan_images(listing, config, None, None, progress, retry_failed, executor)
    else:
        workspace = Path(workspace)
        ensure_outside(workspace, listing.root)
        with scan_cache.scan_lock(workspace, on_wait):
            try:
                mark_workspace(workspace, listing.root, listing.labels_csv)
                rows, decoded, cached, pruned = _scan_cached(listing, config, workspace, progress, retry_failed,
                                                              executor)
            except (NoSpaceError, sqlite3.OperationalError) as exc:
                if not isinstance(exc, NoSpaceError) and not is_disk_full(exc):
                    raise
                images = int((listing.samples["entry"] == ENTRY_IMAGE).sum())
                raise NoSpaceError(workspace, space_needed(images, config) - folder_size(workspace)) from exc
    samples = _assemble(listing.samples, rows)
    return ScanResult(samples, workspace, time.perf_counter() - start, decoded, cached, pruned)


def _scan_cached(listing, config, workspace, progress, retry_failed, executor=None):
    """_scan_images with the workspace's cache. The cache is disposable: a damaged one is set aside (renamed,
    never deleted) and the scan starts again on a new one."""
    for attempt in (1, 2):
        try:
            con = scan_cache.connect(workspace)
            try:
                return _scan_images(listing, config, con, workspace, progress, retry_failed, executor)
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            if attempt == 2 or not is_damaged(exc):
                raise
            scan_cache.set_aside(workspace, exc)


def space_needed(images: int, config: ScanConfig) -> int:
    """About what a workspace holds for so many images: a JPEG thumbnail (~1/10 of its raw RGB pixels), the
    cache row, and the row again in the cache's snapshot and in samples.parquet."""
    return images * (config.thumb_side ** 2 * 3 // 10 + 1536)


def _scan_images(listing, config, con, workspace, progress, retry_failed=False, executor=None):
    images = listing.samples[listing.samples["entry"] == ENTRY_IMAGE]
    total = len(images)
    all_cached = scan_cache.read_rows(con, workspace) if con is not None else None
    cached_rows = _cache_hits(images, all_cached, config, retry_failed) if con is not None else None
    # plain Python sets: pandas 3's Arrow-string isin builds a scalar per value (docs/benchmarks.md, "Warm re-scan")
    cached_paths = set(cached_rows["path"].tolist()) if cached_rows is not None else set()
    hit = pd.Series([p in cached_paths for p in images["path"].tolist()], index=images.index, dtype=bool)
    todo = images[~hit]
    keys = list(zip(todo["path"].tolist(), todo["bytes"].tolist(), version_key(todo).tolist(), strict=True))
    new_rows, batch, thumbs = [], [], []
    done_before = int(hit.sum())
    done = [done_before]
    if progress:
        progress(done[0], total)

    def flush():
        if con is not None and batch:
            scan_cache.write_rows(con, batch, thumbs)
        batch.clear()
        thumbs.clear()

    def on_results(results):
        for index, row, thumb in results:
            path, size, mtime_ns = keys[index]
            # one tuple per file, in the cache's column order: the SQLite batch, then the frame, take it as is
            record = (path, size, mtime_ns, SCANNER_VERSION, *map(row.get, FEATURE_COLUMNS),
                      *(row.get("limit") or NO_LIMIT))
            new_rows.append(record)
            batch.append(record)
            if thumb is not None:
                thumbs.append((path, thumb))
        if len(batch) >= config.commit_every:
            flush()
        done[0] += len(results)
        if progress:
            progress(done[0], total)

    options = {"work_side": config.work_side, "thumb_side": config.thumb_side,
               "thumb_quality": config.thumb_quality, "max_pixel_bytes": config.max_pixel_bytes}
    if listing.storage is not None:  # objects: workers build their own filesystem from these (storage.py)
        options.update(storage=listing.storage, read_timeout_s=config.file_timeout_s)
        tasks = list(enumerate(zip(todo["fs_path"], todo["bytes"].tolist(), strict=True)))
    else:
        tasks = list(enumerate(todo["fs_path"]))
    try:
        run_files = executor or pool.scan_files
        run_files(tasks, options, on_results, workers=worker_count(config.workers),
                  timeout_s=config.file_timeout_s, chunk_size=config.chunk_size,
                  work=features.decode_file, finish=features.finish,
                  prefetch=features.fetch_objects if listing.storage is not None else None)
    finally:
        flush()  # also on Ctrl-C: what finished is kept, and the next scan resumes from it
    pruned = 0
    if con is not None:
        listed = set(listing.samples["path"].tolist())
        pruned = scan_cache.forget(con, [p for p in all_cached["path"].tolist() if p not in listed])
    columns = scan_cache.CACHE_COLUMNS
    new = scan_cache.exact_frame(new_rows, columns)
    parts = [p for p in (cached_rows[columns] if cached_rows is not None else None, new)
             if p is not None and len(p)] or [new]  # concat of empty frames muddles the dtypes
    held = pd.concat(parts, ignore_index=True)  # with a cache: what it holds now for the listed images
    if con is not None and len(held):
        scan_cache.write_snapshot(con, workspace, held)
    return held[["path", *FEATURE_COLUMNS]], len(todo), done_before, pruned


NO_LIMIT = (None, None)


def version_key(images: pd.DataFrame) -> pd.Series:
    """What says a file changed, beside its size, in the cache's mtime_ns column: the mtime of a local file, the
    stamp (ETag, else last-modified) of an object (storage.object_stamp)."""
    if "stamp" not in images.columns:
        return images["mtime_ns"]
    return images["stamp"].fillna(images["mtime_ns"])


def _cache_hits(images, cached, config, retry_failed=False) -> pd.DataFrame:
    """Cached rows whose key still matches the file on disk, and whose verdict this scan's settings would
    give too."""
    if cached.empty:
        return cached
    cached = cached.rename(columns={"mtime_ns": "cached_mtime_ns"})
    merged = images[["path", "bytes"]].assign(mtime_ns=version_key(images)).merge(cached, on="path", how="inner")
    same = (merged["size"].astype("Int64") == merged["bytes"]) & \
        (merged["cached_mtime_ns"].astype("Int64") == merged["mtime_ns"]) & (merged["version"] == SCANNER_VERSION)
    return merged[same.fillna(False).astype(bool) & ~_read_again(merged, config, retry_failed)]


def _read_again(cached: pd.DataFrame, config: ScanConfig, retry_failed: bool) -> pd.Series:
    """Cached rows to read again: a file refused for a limit that is now looser (its pixels under a higher
    --max-pixel-mb, its read under a longer --timeout), and with retry_failed every file that failed.
    Column-wise: a cache of rows that all decoded costs two vector operations, no Python per row."""
    again = pd.Series(False, index=cached.index)
    if retry_failed:
        again |= ~pd.to_numeric(cached["ok"]).fillna(0).astype(bool)
    limited = cached["limit_name"].notna()
    if limited.any():
        now = cached["limit_name"].map({"max_pixel_bytes": config.max_pixel_bytes, "timeout": config.file_timeout_s})
        again |= limited & (pd.to_numeric(now) > pd.to_numeric(cached["limit_value"])).fillna(False).astype(bool)
    return again


def _assemble(listing_samples: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    base = listing_samples.drop(columns=["fs_path", "stamp"], errors="ignore")
    listing_error = base.pop("error")
    df = base.merge(rows, on="path", how="left")
    df["error"] = df["error"].where(df["error"].notna(), listing_error)
    df["ok"] = pd.to_numeric(df["ok"]).fillna(0).astype(bool)
    for col in INT_COLUMNS:
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in FLOAT_COLUMNS:
        df[col] = pd.to_numeric(df[col]).astype("float64")
    for col in ("file_hash", "pixel_hash", "format", "mode", "error"):
        df[col] = df[col].astype("string")
    for col in BINARY_COLUMNS:
        df[col] = df[col].astype(object)
    extra = [c for c in df.columns if c not in SAMPLE_COLUMNS]
    return df[SAMPLE_COLUMNS + extra].sort_values("path", kind="stable").reset_index(drop=True)


def samples_bytes(samples: pd.DataFrame) -> bytes:
    """samples.parquet's contents: encoded once where it goes to several folders (the content thumbnails make
    it tens of MB at 60,000 pictures)."""
    buf = io.BytesIO()
    samples.to_parquet(buf, index=False)
    return buf.getvalue()


def write_samples(samples: pd.DataFrame, folder, data: bytes | None = None) -> Path:
    """samples.parquet in the folder; `data`: samples_bytes(samples) where known already."""
    target = Path(folder) / "samples.parquet"
    atomic_write_bytes(target, samples_bytes(samples) if data is None else data)
    return target


def read_samples(folder) -> pd.DataFrame:
    return pd.read_parquet(Path(folder) / "samples.parquet")
