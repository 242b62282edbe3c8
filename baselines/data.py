"""From a scanned dataset to tensors: which samples train, which validate, at what size, and a uint8 cache
in the workspace so that epochs never decode a file twice.

Only files the scan decoded are used; a file that fails to decode now (changed since the scan) is left
out and reported. The dataset is only read."""

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from inspectors import imaging
from inspectors import workspace as ws
from inspectors.config import workspace_config
from inspectors.dataset import load_dataset, source, source_path
from inspectors.run import read_summary, scan_and_inspect
from inspectors.scan import read_samples

SIZE_CHOICES = (16, 32, 64, 128, 224)
MAX_AUTO_SIZE = 64  # toy baselines: a larger input only pays once the tolerance sweep says detail matters
TENSOR_VERSION = "2"  # bump when what the network sees (imaging.network_view) changes: old caches are not reused


@dataclass
class Prepared:
    root: Path
    workspace: Path
    samples: pd.DataFrame
    summary: dict
    max_pixel_bytes: int  # the workspace's bomb limit: files are reopened under the scan's own rule
    labels_csv: Path | None = None


@dataclass
class Split:
    classes: list
    train: pd.DataFrame  # rows of the samples table, with a `target` column (index into classes)
    val: pd.DataFrame
    how: str  # where the split came from, in words
    notes: list = field(default_factory=list)


def prepare(dataset, labels=None, cache=None, rescan=False, progress=None) -> Prepared:
    """The scanned dataset: reuse the workspace's tables when there are any, else scan first (with the
    workspace's settings: a re-scan keeps what the CLI's --set gave)."""
    folder = ws.workspace_dir(*source(dataset, labels), cache)
    config = workspace_config(folder)
    listing = load_dataset(dataset, labels, config.load)
    folder = ws.workspace_dir(listing.root, listing.labels_csv, cache)
    ws.ensure_outside(folder, listing.root)
    if rescan or not (folder / "samples.parquet").exists() or not (folder / "summary.json").exists():
        scan_and_inspect(listing, config, folder, progress=progress)
    return Prepared(listing.root, folder, read_samples(folder), read_summary(folder),
                    config.scan.max_pixel_bytes, listing.labels_csv)


def usable(samples: pd.DataFrame) -> pd.DataFrame:
    """Decodable images with a label; the order is the table's, so indices are stable."""
    keep = samples["ok"].fillna(False).astype(bool) & samples["label"].fillna("").astype(str).ne("")
    return samples[keep].reset_index(drop=True)


def class_problem(classes) -> str | None:
    """Why no classifier can be trained or checked on these classes (of the usable images: the summary's
    `classes`), or None. With one class every prediction is right: validation accuracy 1.000, a loss of 0 that
    cannot decrease, checks passing or failing for nothing. train, check, tolerance and label-issues refuse,
    and the app's pages say the same."""
    classes = sorted(classes)
    if len(classes) >= 2:
        return None
    what = f"only one class ({classes[0]!r})" if classes else "no class"
    return (f"{what} among the decodable, labelled images: a classifier needs at least two, and with one every "
            "prediction is right and every sanity check meaningless. Add images of another class (or give "
            "--labels a manifest with more than one).")


def split(samples: pd.DataFrame, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """train/val from the dataset's own split when it has both; otherwise a seeded, stratified split of
    its train rows (or of everything, when it has no splits). The test split is never used here."""
    rows = usable(samples)
    if rows.empty:
        raise ValueError("no decodable, labelled images: nothing to train on")
    classes = sorted(rows["label"].astype(str).unique())
    if problem := class_problem(classes):
        raise ValueError(problem)
    rows = rows.assign(target=rows["label"].astype(str).map({c: i for i, c in enumerate(classes)}).astype("int64"))
    splits = rows["split"].fillna("").astype(str)
    if (splits == "train").any() and (splits == "val").any():
        train, val, how = rows[splits == "train"], rows[splits == "val"], "the dataset's train/ and val/ splits"
    else:
        pool = rows[splits == "train"] if (splits == "train").any() else rows[splits == ""]
        if pool.empty:
            pool = rows
        train, val = stratified(pool, seed, val_fraction)
        how = f"a seeded stratified {1 - val_fraction:.0%}/{val_fraction:.0%} split (seed {seed}) of " + (
            "train/" if (splits == "train").any() else "the images")
    out = Split(classes, train.reset_index(drop=True), val.reset_index(drop=True), how)
    if out.val.empty:
        raise ValueError("the validation split is empty: add a val/ split or more images per class")
    counts = out.train["label"].value_counts()
    for label in classes:
        if counts.get(label, 0) < 2:
            out.notes.append(f"class {label!r} has {counts.get(label, 0)} training image(s): its accuracy means little")
    return out


def stratified(rows: pd.DataFrame, seed: int, val_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    val_index = []
    for _, group in rows.groupby("target", sort=True):
        n_val = int(round(len(group) * val_fraction)) if len(group) > 1 else 0
        val_index += list(rng.permutation(group.index.to_numpy())[:n_val])
    is_val = rows.index.isin(val_index)
    return rows[~is_val], rows[is_val]


def choose_input_size(samples: pd.DataFrame, cap: int = MAX_AUTO_SIZE) -> int:
    """The largest standard side not above the median short side of the images (no upscaling for most)."""
    rows = usable(samples)
    short = np.minimum(rows["width"].to_numpy(float), rows["height"].to_numpy(float)) if len(rows) else []
    median = float(np.median(short)) if len(short) else 32.0
    fitting = [s for s in SIZE_CHOICES if s <= min(median, cap)]
    return fitting[-1] if fitting else SIZE_CHOICES[0]


def decode_for_network(path, size: int, max_pixel_bytes: int) -> np.ndarray:
    """The image as the network sees it, uint8 (3, size, size): imaging.network_view (EXIF orientation and
    the colour rule a person sees, the short side resized to `size`, centre-cropped). Raises on a file that
    does not decode."""
    with imaging.open_file(path) as f:
        return imaging.open_for_network(f, max_pixel_bytes, size)


def cache_key(rows: pd.DataFrame, size: int) -> str:
    h = hashlib.sha256(f"{TENSOR_VERSION}:{size}".encode())
    for path, n, mtime in zip(rows["path"], rows["bytes"], rows["mtime_ns"], strict=True):
        h.update(f"{path}\0{n}\0{mtime}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def tensor_cache(prepared: Prepared, rows: pd.DataFrame, size: int, progress=None,
                 workers: int = 0) -> tuple[np.ndarray, np.ndarray, list]:
    """(uint8 images (N, 3, size, size), ok mask (N,), [(path, reason)] for files that no longer decode).
    Built once per (files, size) in the workspace's tensors/ folder, memory-mapped afterwards."""
    folder = prepared.workspace / "tensors"
    key = cache_key(rows, size)
    data_file, meta_file = folder / f"{key}.npy", folder / f"{key}.json"
    if data_file.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        return np.load(data_file, mmap_mode="r"), np.array(meta["ok"], dtype=bool), [tuple(f) for f in meta["failed"]]
    folder.mkdir(parents=True, exist_ok=True)
    needed = len(rows) * 3 * size * size
    # the memory map is a sparse file: on a full disk a write into it kills the process (SIGBUS), so the
    # space is checked before the file is made
    if shutil.disk_usage(folder).free < needed:
        raise ws.NoSpaceError(folder, needed)
    tmp = folder / f".{key}.{os.getpid()}.npy"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(rows), 3, size, size))
    ok = np.zeros(len(rows), dtype=bool)
    failed = []

    def one(i_path):
        i, path = i_path
        try:
            out[i] = decode_for_network(source_path(prepared.root, path), size, prepared.max_pixel_bytes)
            return i, None
        except Exception as exc:  # a file changed since the scan: leave it out, say which and why
            return i, f"{type(exc).__name__}: {exc}"

    # PIL releases the GIL while decoding and resizing, so threads scale without a process pool
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for done, (i, error) in enumerate(pool.map(one, enumerate(rows["path"])), 1):
            ok[i] = error is None
            if error:
                failed.append((rows["path"].iloc[i], error))
            if progress and (done % 256 == 0 or done == len(rows)):
                progress(done, len(rows))
    out.flush()
    os.replace(tmp, data_file)
    ws.atomic_write_text(meta_file, json.dumps({"ok": ok.tolist(), "failed": failed, "size": size}))
    return np.load(data_file, mmap_mode="r"), ok, failed
