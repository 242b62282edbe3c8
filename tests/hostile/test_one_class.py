"""A dataset of one class gets no verdicts: with one class every prediction is right (validation accuracy
1.000), the loss is 0 and cannot decrease, and the sanity checks pass or fail for nothing. train, check,
tolerance and label-issues refuse with exit 2 and say why; the app's Baselines and Label issues pages say
the same instead of offering to train."""

import pytest

import inspectors.scan
from baselines.__main__ import main
from inspectors.config import Config
from inspectors.dataset import load_dataset
from inspectors.run import scan_and_inspect
from inspectors.workspace import workspace_dir
from tests.hostile.helpers import tiny_images
from tests.ui.conftest import REPO

TINY = ["--input-size", "16", "--width", "4", "--batch-size", "8", "--threads", "1", "--max-steps", "5"]
MESSAGE = "only one class ('cat') among the decodable, labelled images: a classifier needs at least two"


@pytest.fixture
def one_class(tmp_path, monkeypatch):
    monkeypatch.setattr(inspectors.scan, "worker_count", lambda requested: 1)
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))
    ds = tiny_images(tmp_path / "ds", 16, classes=("cat",), side=16)
    return tiny_images(ds, 4, classes=("cat",), side=16, seed=1, split="val")


@pytest.mark.parametrize("command", ["train", "check", "tolerance", "label-issues"])
def test_every_baseline_command_refuses_one_class_with_exit_2(one_class, tmp_path, command, capsys):
    code = main([command, str(one_class), *TINY])
    err = capsys.readouterr().err
    assert code == 2, err
    assert MESSAGE in err
    runs = list((tmp_path / "cache").glob("*/runs/*"))
    assert not runs, f"{command} made run folders: {runs}"


def test_the_baselines_and_label_issues_pages_say_so_and_offer_no_training(one_class, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    scan_and_inspect(load_dataset(one_class), Config(), workspace_dir(one_class, None, tmp_path / "cache"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["dataset_path"] = str(one_class)
    at.session_state["labels_path"] = ""
    at.run()
    for page, start in (("pages/baselines.py", "bl_start"), ("pages/label_issues.py", "li_start")):
        at.switch_page(page).run()
        assert not at.exception, at.exception
        warnings = [w.value.replace("\\", "").replace("\u2060", "") for w in at.warning]  # md() escapes
        assert any(MESSAGE in w for w in warnings), warnings
        assert not [b for b in at.button if b.key == start]
