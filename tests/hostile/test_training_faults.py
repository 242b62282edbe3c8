"""Training under faults, end to end through the CLI (`python -m baselines ...` via its main()): a NaN
mid-run stops with the step named, a class with a single image gets a note, an empty validation split
a clear error and exit 2."""

import json

import pytest
import torch

import inspectors.scan
from baselines import runs
from baselines.__main__ import main
from inspectors import jobs
from tests.hostile.helpers import tiny_images

TINY = ["--input-size", "16", "--width", "4", "--batch-size", "8", "--threads", "1"]


@pytest.fixture(autouse=True)
def one_scan_worker(tmp_path, monkeypatch):
    """One scan worker (spawning one per core costs seconds here) and a cache of the test's own."""
    monkeypatch.setattr(inspectors.scan, "worker_count", lambda requested: 1)
    monkeypatch.setenv("INSPECTORS_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def two_classes(tmp_path):
    ds = tiny_images(tmp_path / "ds", 24, classes=("a", "b"), side=16)
    return tiny_images(ds, 8, classes=("a", "b"), side=16, seed=1, split="val")


def test_a_nan_mid_run_stops_training_with_the_step_named(two_classes, tmp_path, monkeypatch, capsys):
    real = torch.nn.functional.cross_entropy
    calls = []

    def nan_at_step_4(*args, **kwargs):
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss * float("nan") if len(calls) == 4 else loss
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", nan_at_step_4)
    run = tmp_path / "run"
    code = main(["train", str(two_classes), "--out", str(run), "--max-steps", "20", *TINY])
    out = capsys.readouterr().out
    assert code == 1
    assert "the loss became nan at step 4: training stopped" in out
    status = jobs.read(run)
    assert status["state"] == "failed" and status["done"] == 3 and "step 4" in status["error"]
    assert len(runs.metrics(run)[0]) == 3  # the three good steps are kept
    assert json.loads((run / "config.json").read_text())["kind"] == "train"


def test_a_loss_that_explodes_by_itself_stops_the_same_way(two_classes, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", str(two_classes), "--out", str(run), "--max-steps", "50", "--lr", "1e30", *TINY])
    out = capsys.readouterr().out
    assert code == 1 and "the loss became" in out and "training stopped" in out
    assert jobs.read(run)["state"] == "failed"


def test_a_class_with_a_single_image_gets_a_note(two_classes, tmp_path, capsys):
    lonely = tiny_images(tmp_path / "lonely", 1, classes=("c",), side=16, seed=2)
    (two_classes / "train" / "c").mkdir()
    (lonely / "train" / "c" / "00000.png").rename(two_classes / "train" / "c" / "only.png")
    tiny_images(tmp_path / "lonely_val", 1, classes=("c",), side=16, seed=3, split="val")
    (two_classes / "val" / "c").mkdir()
    (tmp_path / "lonely_val" / "val" / "c" / "00000.png").rename(two_classes / "val" / "c" / "only.png")
    run = tmp_path / "run"
    code = main(["train", str(two_classes), "--out", str(run), "--max-steps", "3", *TINY])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: class 'c' has 1 training image(s): its accuracy means little" in out
    assert any("class 'c' has 1 training image" in n for n in json.loads((run / "config.json").read_text())["notes"])


@pytest.mark.parametrize("command", ["train", "check"])
def test_an_empty_validation_split_is_a_clear_error_and_exit_2(command, tmp_path, capsys):
    ds = tiny_images(tmp_path / "ds", 3, classes=("a", "b", "c"), side=16, split="")  # one image per class
    code = main([command, str(ds), "--max-steps", "2", *TINY])
    err = capsys.readouterr().err
    assert code == 2
    assert "the validation split is empty" in err and "Traceback" not in err


def test_label_issues_on_one_image_per_class_is_a_clear_error_and_exit_2(tmp_path, capsys):
    # k-fold needs no validation split, but a lone image has no classmate to learn from when held out
    ds = tiny_images(tmp_path / "ds", 3, classes=("a", "b", "c"), side=16, split="")
    code = main(["label-issues", str(ds), "--max-steps", "2", *TINY])
    err = capsys.readouterr().err
    assert code == 2
    assert "at least 2 images of each class; too few: a, b, c" in err and "Traceback" not in err
