"""The listing's warnings reach the app: a manifest that names one path twice with different labels ("kept the
first") is said on Overview and Integrity, as `inspectors scan` prints it, whoever scanned (the app or the
CLI): the warnings are kept in summary.json."""

import json

from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.workspace import workspace_dir
from tests.hostile.helpers import tiny_images
from tests.ui.conftest import REPO


def test_a_manifest_naming_a_path_twice_is_warned_about_on_overview_and_integrity(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    ds = tiny_images(tmp_path / "ds", 6, classes=("a", "b"), side=16)
    manifest = ds / "labels.csv"
    manifest.write_text("path,label\ntrain/a/00000.png,a\ntrain/b/00001.png,b\ntrain/a/00000.png,b\n")
    listing = load_dataset(manifest)
    workspace = workspace_dir(listing.root, listing.labels_csv, tmp_path / "cache")
    scan_and_inspect(listing, Config(), workspace)
    expected = "labels.csv line 4: train/a/00000.png repeats line 2 (label 'b' vs 'a'); kept the first"
    assert json.loads((workspace / "summary.json").read_text())["warnings"] == [expected]

    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["dataset_path"] = str(manifest)
    at.session_state["labels_path"] = ""
    at.run()
    for page in ("pages/overview.py", "pages/integrity.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
        shown = [w.value.replace("\\", "").replace("\u2060", "") for w in at.warning]  # as md() escaped it
        assert sum(expected in w for w in shown) == 1, (page, shown)
