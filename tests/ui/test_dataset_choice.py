"""The sidebar's dataset (ui/state.resolve, app.py): the app keys a dataset's workspace as the CLI does, keeps the
work it kept before, and scans with the settings the command line gave that workspace."""

import json
import shutil

from inspectors import review
from inspectors.config import Config, config_to_dict, workspace_config
from inspectors.dataset import load_dataset
from inspectors.workspace import workspace_dir
from tests.conftest import encode, noise_image, write
from tests.ui.conftest import REPO
from ui import state


def csv_folder(root):
    for i, label in enumerate(["cat", "dog"]):
        write(root / "images" / f"{label}.png", encode(noise_image(20, 20, seed=i), "PNG"))
    write(root / "labels.csv", b"path,label\nimages/cat.png,cat\nimages/dog.png,dog\n")
    return root


def test_a_folder_with_its_own_manifest_shares_the_clis_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    root = csv_folder(tmp_path / "ds")
    listing = load_dataset(root)  # what `python -m inspectors scan ds` keys its workspace by
    expected = workspace_dir(listing.root, listing.labels_csv)
    assert listing.labels_csv is not None
    assert state.resolve(str(root), None).workspace == expected
    assert state.resolve(str(root / "labels.csv"), None).workspace == expected
    assert state.resolve(str(root), str(root / "labels.csv")).workspace == expected


def test_the_apps_earlier_workspace_moves_with_its_review_marks(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    root = csv_folder(tmp_path / "ds")
    legacy = workspace_dir(root.resolve(), None)  # how the app keyed this folder before
    legacy.mkdir(parents=True)
    review.set_mark(legacy, "images/cat.png", "relabel", new_label="dog")
    ds = state.resolve(str(root), None)
    assert ds.workspace != legacy and not legacy.exists()
    assert review.marks(ds.workspace).set_index("path").loc["images/cat.png", "new_label"] == "dog"


def test_where_both_workspaces_exist_the_app_keeps_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    root = csv_folder(tmp_path / "ds")
    legacy = workspace_dir(root.resolve(), None)
    review.set_mark(legacy, "images/cat.png", "remove")
    listing = load_dataset(root)
    workspace_dir(listing.root, listing.labels_csv).mkdir(parents=True)  # the CLI's, from an earlier scan
    assert state.resolve(str(root), None).workspace == legacy


def test_the_scan_button_keeps_the_settings_the_command_line_gave_and_the_sidebar_shows_them(shapes_copy, tmp_path,
                                                                                            monkeypatch):
    from streamlit.testing.v1 import AppTest
    data, cache = shapes_copy
    source = workspace_dir(data, None, cache)
    ws = tmp_path / "cache" / source.name
    shutil.copytree(source, ws, ignore=shutil.ignore_patterns("runs", "jobs"))
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    settings = config_to_dict(Config())
    settings["duplicates"]["radius"] = 6  # as `inspectors scan DATA --set duplicates.radius=6` leaves it
    (ws / "config.json").write_text(json.dumps(settings))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["dataset_path"], at.session_state["labels_path"] = str(data), ""
    at.run()
    assert "Settings: `duplicates.radius=6`" in [c.value for c in at.sidebar.caption]
    before = (ws / "summary.json").stat().st_mtime_ns
    at.sidebar.button[0].click().run()  # Scan
    assert not at.exception and (ws / "summary.json").stat().st_mtime_ns != before  # it scanned (from the cache)
    assert workspace_config(ws).duplicates.radius == 6
    assert "Settings: `duplicates.radius=6`" in [c.value for c in at.sidebar.caption]
