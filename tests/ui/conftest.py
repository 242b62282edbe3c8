import shutil
from pathlib import Path

import pytest

from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.scan import read_samples
from inspectors.workspace import workspace_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shapes_copy(tmp_path_factory):
    """sample_data/shapes copied and scanned once per test session (a private cache root)."""
    root = tmp_path_factory.mktemp("ui")
    data = root / "shapes"
    shutil.copytree(REPO / "sample_data" / "shapes", data, symlinks=True)
    cache = root / "cache"
    scan_and_inspect(load_dataset(data), Config(), workspace_dir(data, None, cache))
    return data, cache


@pytest.fixture
def app(shapes_copy, monkeypatch):
    from streamlit.testing.v1 import AppTest
    data, cache = shapes_copy
    monkeypatch.setenv("INSPECTORS_CACHE", str(cache))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["dataset_path"] = str(data)
    at.session_state["labels_path"] = ""
    return at


@pytest.fixture
def lab(shapes_copy, tmp_path, monkeypatch):
    """(AppTest, workspace, val samples) on a private copy of the scanned workspace: runs written here stay here."""
    from streamlit.testing.v1 import AppTest
    data, cache = shapes_copy
    private = tmp_path / "cache"
    source = workspace_dir(data, None, cache)
    shutil.copytree(source, private / source.name, ignore=shutil.ignore_patterns("runs", "jobs", "label_issues",
                                                                                  "human_baseline.json"))
    monkeypatch.setenv("INSPECTORS_CACHE", str(private))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.session_state["dataset_path"] = str(data)
    at.session_state["labels_path"] = ""
    workspace = private / source.name
    samples = read_samples(workspace)
    val = samples[(samples["split"] == "val") & samples["ok"] & samples["label"].ne("")].head(12)
    return at, workspace, val
