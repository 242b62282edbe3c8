"""The dataset is only ever read: a copy of sample_data/shapes is fingerprinted (names, contents, modes,
sizes, mtimes, symlink targets; symlinks not followed) before and after everything the product does to a
dataset, and must be unchanged."""

import os
import shutil

import pandas as pd
import pytest

from inspectors import review
from inspectors.config import Config
from inspectors.run import run, write_reports
from inspectors.scan import read_samples
from inspectors.sheets import manifest_text, sheet_text
from inspectors.workspace import atomic_write_text
from tests.hostile.helpers import PY, REPO, fingerprint, run_measured, workspace_of
from ui import tables

TINY = ["--input-size", "16", "--width", "4", "--batch-size", "64", "--threads", "1"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_scan_inspect_train_check_label_issues_review_and_export_leave_the_dataset_untouched(tmp_path):
    ds = tmp_path / "shapes"
    shutil.copytree(REPO / "sample_data" / "shapes", ds, symlinks=True)
    first = sorted((ds / "train" / "circle").iterdir())[0]
    os.symlink(first.name, ds / "train" / "circle" / "link_to_first.png")  # followed when read, never written
    os.symlink("gone.png", ds / "train" / "circle" / "dangling.png")
    os.chmod(sorted((ds / "train" / "square").iterdir())[0], 0o444)  # a read-only file stays read-only
    cache = tmp_path / "cache"
    before = fingerprint(ds)

    scanned = run_measured([PY, "-m", "inspectors", "scan", str(ds), "--workers", "2", "--cache", str(cache),
                            "--out", str(tmp_path / "report"), "--quiet"], timeout=600)
    assert scanned.returncode == 0, scanned.stderr[-2000:]
    ws = workspace_of(cache)
    gated = run_measured([PY, "-m", "inspectors", "scan", str(ds), "--workers", "2", "--cache", str(cache),
                          "--fail-on", "corrupt", "--quiet"], timeout=600)  # from the cache; reads the review store
    assert gated.returncode in (0, 1), gated.stderr[-2000:]

    samples = read_samples(ws)
    found, summary = run(samples)  # inspect: every inspector again, reports to a folder of ours
    write_reports(tmp_path / "inspected", found, summary, Config())

    paths = samples.loc[samples["ok"], "path"].tolist()
    review.set_mark(ws, paths[0], "remove")
    review.set_mark(ws, paths[1], "relabel", new_label="circle")
    review.set_mark(ws, paths[2], "keep", note="=1+1")
    review.clear_mark(ws, paths[2])
    marks = review.marks(ws)
    manifest = tables.cleaned_manifest(samples, marks)
    atomic_write_text(ws / "cleaned_manifest.csv", manifest_text(manifest))
    (tmp_path / "marks.csv").write_text(sheet_text(marks))
    table = tables.with_issues(samples, found)
    view = table[tables.filter_mask(table, tables.Filter(splits=["train"]))]
    (tmp_path / "view.csv").write_text(sheet_text(view.drop(columns=["appearance"])))

    from baselines.__main__ import main as baselines  # torch: only for this part
    assert baselines(["train", str(ds), "--cache", str(cache), "--max-steps", "5", *TINY]) == 0
    assert baselines(["check", str(ds), "--cache", str(cache), "--max-steps", "5", "--epochs", "1", "--lr", "0.01",
                      *TINY]) in (0, 1)  # a 5-step model may fail a check; what matters here is what it wrote
    assert baselines(["label-issues", str(ds), "--cache", str(cache), "--folds", "2", "--epochs", "1", *TINY]) == 0

    assert (ws / "runs").is_dir() and (ws / "label_issues" / "findings.csv").exists()
    assert len(pd.read_csv(ws / "cleaned_manifest.csv")) == len(manifest)
    after = fingerprint(ds)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the dataset changed: {changed[:10]}"
