"""python -m baselines {train,check} DATASET: exit codes, the run folder, the report card, --json.
In-process through main() (a subprocess pays the torch import again); one subprocess test for the entry point."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baselines.__main__ import main
from inspectors import jobs

from .conftest import listing

QUICK = ["--width", "8", "--batch-size", "16", "--lr", "1e-2"]
ROOT = Path(__file__).resolve().parents[2]


def cli(colours, *args):
    return main([args[0], str(colours.root), "--cache", str(colours.workspace.parent), *QUICK, *args[1:]])


def test_train_writes_the_run_folder_and_exits_0(colours, tmp_path, capsys):
    before = listing(colours.root)
    out = tmp_path / "run"
    assert cli(colours, "train", "--epochs", "1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "3 classes; 36 train / 12 val images from the dataset's train/ and val/ splits" in printed
    assert "finished after 3 steps" in printed and "fit: underfits" in printed and "Next: Step 3" in printed
    for name in ("config.json", "status.json", "metrics.jsonl", "checkpoint.pt", "val_predictions.csv"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["epochs"] == 1 and config["train"]["width"] == 8 and config["train"]["lr"] == 0.01
    assert config["dataset"] == str(colours.root)
    status = jobs.read(out)
    assert (status["command"], status["state"], status["phase"], status["done"]) == ("train", "finished", "train", 3)
    assert status["result"]["steps"] == 3 and status["result"]["state"] == "finished"
    assert listing(colours.root) == before


def test_train_json_prints_only_json(colours, tmp_path, capsys):
    assert cli(colours, "train", "--max-steps", "2", "--out", str(tmp_path / "run"), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 2 and result["state"] == "finished" and result["run"] == str(tmp_path / "run")
    assert {"val_loss", "val_acc", "train_loss", "init_loss", "expected_init_loss"} <= set(result)


def test_train_without_out_makes_a_run_in_the_workspace(colours, tmp_path, capsys):
    # a private cache: the session's workspace stays as it was
    import shutil
    cache = tmp_path / "cache"
    shutil.copytree(colours.workspace.parent, cache)
    assert main(["train", str(colours.root), "--cache", str(cache), *QUICK, "--max-steps", "1"]) == 0
    made = list((cache / colours.workspace.name / "runs").iterdir())
    assert len(made) == 1 and made[0].name.endswith("-tiny_cnn")


def test_train_settings_come_from_a_config_file_and_flags_override_them(colours, tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"train": {"model": "logistic", "max_steps": 1, "seed": 3}}))
    out = tmp_path / "run"
    assert cli(colours, "train", "--config", str(settings), "--seed", "4", "--out", str(out)) == 0
    train = json.loads((out / "config.json").read_text())["train"]
    assert (train["model"], train["max_steps"], train["seed"]) == ("logistic", 1, 4)


def test_check_passes_on_an_easy_dataset_and_prints_the_report_card(colours, tmp_path, capsys):
    out = tmp_path / "check"
    assert cli(colours, "check", "--epochs", "3", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Report card: 7/7 checks passed" in printed
    assert printed.count("[PASS]") == 7 and "[FAIL]" not in printed
    verdicts = json.loads((out / "checks.json").read_text())
    assert [v["name"] for v in verdicts] == ["init_loss", "what_enters", "batch_independence", "overfit_one_batch",
                                             "reproducible", "loss_decreases", "input_independent"]
    assert len(list((out / "what_enters").glob("*_network.png"))) == 8
    status = jobs.read(out)  # the check's, not its training run's: it ends when the last verdict is in
    assert (status["command"], status["state"], status["message"]) == ("check", "finished", "7 of 7 checks passed")
    assert status["result"] == {"passed": 7, "checks": 7, "failed": []}


def test_label_issues_without_a_job_folder_makes_one_in_the_workspace(colours, tmp_path, capsys):
    import shutil
    cache = tmp_path / "cache"
    shutil.copytree(colours.workspace.parent, cache)
    assert main(["label-issues", str(colours.root), "--cache", str(cache), *QUICK, "--folds", "2",
                 "--max-steps", "2"]) == 0
    made = jobs.job_folders(cache / colours.workspace.name, "label-issues")
    status = jobs.read(made[0])
    # progress counts optimizer steps over every fold: 2 folds x --max-steps 2
    assert len(made) == 1 and (status["state"], status["phase"], status["done"], status["total"]) == (
        "finished", "folds", 4, 4)
    assert status["result"]["samples"] == 48 and status["message"].endswith("among 48 images")


@pytest.mark.slow
def test_check_exits_1_when_a_check_fails_and_says_what_to_do(colours, tmp_path, capsys):
    # lr 0: nothing can be learnt, so overfitting (500 steps in vain: the slow part), the loss decrease and
    # the zero-input comparison fail
    assert cli(colours, "check", "--epochs", "2", "--lr", "0", "--out", str(tmp_path / "c"), "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    failed = {v["name"] for v in report["checks"] if not v["passed"]}
    assert failed == {"overfit_one_batch", "loss_decreases", "input_independent"}


def test_a_dataset_that_does_not_exist_exits_2_and_its_status_says_why(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing"), "--cache", str(tmp_path / "cache")]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["tolerance", str(tmp_path / "missing"), "--job", str(tmp_path / "job")]) == 2
    status = jobs.read(tmp_path / "job")  # the folder the app made for it
    assert (status["state"], status["command"]) == ("failed", "tolerance") and "missing" in status["error"]


def test_a_folder_without_images_exits_2(tmp_path, capsys):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    assert main(["check", str(tmp_path / "empty"), "--cache", str(tmp_path / "cache")]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["train"], ["train", "x", "--model", "vgg"], ["train", "x", "--epochs", "two"],
                                  ["fly", "x"], ["train", "x", "--no-such-flag"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("flags", [["--lr", "-1"], ["--input-size", "4"], ["--batch-size", "0"]])
def test_invalid_settings_exit_2_before_anything_runs(tmp_path, flags, capsys):
    assert main(["train", str(tmp_path / "missing"), *flags]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "default-cache").exists()


def test_a_config_file_with_unknown_settings_exits_2(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"modle": "tiny_cnn"}))
    assert main(["train", str(tmp_path), "--config", str(tmp_path / "c.json")]) == 2
    assert "unknown training settings: modle" in capsys.readouterr().err


def test_the_module_entry_point_runs_as_a_subprocess(tmp_path):
    env = {**os.environ, "INSPECTORS_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "baselines", "check", str(tmp_path / "missing")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "error:" in done.stderr and done.stdout == ""
