"""The training loop and the run folder it writes (DESIGN.md "Runs")."""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from baselines import models, runs, train
from baselines.train import Diverged
from inspectors import jobs

from .conftest import FAST


class NanAt(nn.Module):
    """Planted bug: the forward pass returns NaN from its k-th training call on (a log of 0, a 0/0)."""

    def __init__(self, net, k):
        super().__init__()
        self.net, self.k, self.calls = net, k, 0

    def forward(self, x):
        out = self.net(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.k:
                return out * float("nan")
        return out


@pytest.fixture(scope="module")
def finished_run(colour_tensors, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    trained = train.train(colour_tensors, FAST, run_dir, extra_config={"split": "test split"})
    return run_dir, trained


def test_run_folder_holds_every_record(finished_run):
    run_dir, _ = finished_run
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "fixed_predictions.jsonl", "fixed_batch.json",
            "confusion.json", "val_predictions.csv", "checkpoint.pt", "result.json"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temp files left behind


def test_config_json_carries_the_settings_and_the_data_facts(finished_run, colour_tensors):
    run_dir, _ = finished_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["train"] == dataclasses.asdict(FAST)
    assert config["classes"] == ["blue", "green", "red"] and config["input_size"] == 16
    assert config["n_train"] == 36 and config["n_val"] == 12
    assert config["expected_init_loss"] == pytest.approx(math.log(3)) and config["prior_bias_applied"] is False
    assert config["split"] == "test split" and "torch" in config["versions"]


def test_status_json_says_finished(finished_run):
    run_dir, trained = finished_run
    result = trained.result
    status = jobs.read(run_dir)
    assert status["state"] == "finished" and result.state == "finished" and status["result"] == result.to_dict()
    assert (status["command"], status["phase"]) == ("train", "train")
    assert status["done"] == result.steps == status["total"] == 9  # 3 epochs x ceil(36 / 16)


def test_metrics_have_a_train_line_every_step_and_evaluations_on_the_whole_val_set(finished_run, colour_tensors):
    run_dir, trained = finished_run
    result = trained.result
    steps, evals = runs.metrics(run_dir)
    assert steps["step"].tolist() == list(range(1, 10))
    assert np.isfinite(steps["loss"]).all() and steps["loss"].tolist() == pytest.approx(trained.train_losses)
    assert evals["step"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]  # evals_per_epoch 2 on 3 steps/epoch: every step
    n_val = len(colour_tensors.y_val)
    assert n_val == 12
    # accuracy over the whole set is a multiple of 1/12; one batch of it would not always be
    assert all(abs(acc * n_val - round(acc * n_val)) < 1e-6 for acc in evals["val_acc"])
    # the last evaluation equals the checkpoint re-evaluated on all 12 validation images
    model = models.TinyCNN(3, FAST.width)
    model.load_state_dict(torch.load(run_dir / "checkpoint.pt", weights_only=True))
    again = train.evaluate(model, colour_tensors.x_val, colour_tensors.y_val, colour_tensors.mean, colour_tensors.std)
    assert again["loss"] == pytest.approx(evals["val_loss"].iloc[-1], rel=1e-5)
    assert again["acc"] == evals["val_acc"].iloc[-1] == result.val_acc
    predictions = pd.read_csv(run_dir / "val_predictions.csv")
    assert len(predictions) == n_val and predictions["loss"].is_monotonic_decreasing
    assert predictions["loss"].mean() == pytest.approx(result.val_loss, abs=1e-4)


def test_fixed_batch_predictions_are_recorded_at_every_evaluation(finished_run):
    run_dir, _ = finished_run
    fixed = json.loads((run_dir / "fixed_batch.json").read_text())
    assert len(fixed["paths"]) == FAST.fixed_batch and fixed["classes"] == ["blue", "green", "red"]
    assert sorted(fixed["labels"]) == ["blue", "blue", "green", "green", "red", "red"]  # round-robin over classes
    assert all(p.startswith("val/") for p in fixed["paths"])
    lines = runs.read_jsonl(run_dir / "fixed_predictions.jsonl")
    _, evals = runs.metrics(run_dir)
    assert [line["step"] for line in lines] == evals["step"].tolist()
    for line in lines:
        assert len(line["probs"]) == FAST.fixed_batch
        assert all(len(p) == 3 and sum(p) == pytest.approx(1, abs=1e-3) for p in line["probs"])


def test_confusion_matrix_counts_the_val_set(finished_run):
    run_dir, trained = finished_run
    result = trained.result
    confusion = json.loads((run_dir / "confusion.json").read_text())
    matrix = np.array(confusion["matrix"])
    assert confusion["classes"] == ["blue", "green", "red"]
    assert matrix.sum(1).tolist() == [4, 4, 4]
    assert np.trace(matrix) / 12 == pytest.approx(result.val_acc)


def test_the_colours_are_learnt(finished_run):
    result = finished_run[1].result
    assert result.val_acc == 1.0 and result.val_loss < 0.5


def test_a_nan_loss_stops_the_run_naming_the_step(colour_tensors, tmp_path):
    torch.manual_seed(0)
    model = NanAt(models.TinyCNN(3, FAST.width), k=4)
    with pytest.raises(Diverged, match="at step 4"):
        train.train(colour_tensors, FAST, tmp_path, model=model)
    status = jobs.read(tmp_path)
    assert status["state"] == "failed" and "step 4" in status["error"] and "nan" in status["error"]
    steps, _ = runs.metrics(tmp_path)
    assert steps["step"].tolist() == [1, 2, 3]  # the steps before it are on record


def test_a_huge_learning_rate_diverges_with_status_failed(colour_tensors, tmp_path):
    with pytest.raises(Diverged, match=r"at step \d+"):
        train.train(colour_tensors, dataclasses.replace(FAST, lr=1e30), tmp_path)
    assert jobs.read(tmp_path)["state"] == "failed"


def test_a_stop_request_ends_the_run_as_stopped(colour_tensors, tmp_path):
    jobs.request_stop(tmp_path)
    result = train.train(colour_tensors, FAST, tmp_path).result
    assert result.state == "stopped" and result.steps == 0
    assert jobs.read(tmp_path)["state"] == "stopped"
    assert (tmp_path / "checkpoint.pt").exists()


def test_should_stop_ends_the_run_after_the_steps_taken(colour_tensors, tmp_path):
    asked = iter([False, False, True])
    result = train.train(colour_tensors, FAST, tmp_path, should_stop=lambda: next(asked)).result
    assert result.state == "stopped" and result.steps == 2
    assert "step 2" in jobs.read(tmp_path)["message"]


def test_early_stopping_stops_when_validation_loss_stalls(colour_tensors):
    config = dataclasses.replace(FAST, lr=0.0, early_stopping=2, epochs=20)  # lr 0: the val loss never improves
    result = train.train(colour_tensors, config).result
    assert result.steps == 3 < train.total_steps(36, config)
    assert result.message.startswith("early stopping at step 3")
    assert result.state == "finished"


def test_max_steps_caps_the_epochs(colour_tensors):
    assert train.train(colour_tensors, dataclasses.replace(FAST, max_steps=2)).result.steps == 2
    assert train.total_steps(36, dataclasses.replace(FAST, epochs=2)) == 6


def test_the_same_seed_gives_identical_metrics(colour_tensors):
    config = dataclasses.replace(FAST, augment="flip_crop", dropout=0.2, max_steps=5)
    a, b = train.train(colour_tensors, config), train.train(colour_tensors, config)
    assert a.train_losses == b.train_losses
    assert a.result.val_loss == b.result.val_loss
    c = train.train(colour_tensors, dataclasses.replace(config, seed=1))
    assert c.train_losses != a.train_losses


def test_prior_bias_is_applied_when_classes_are_imbalanced(colours, split):
    keep = split.train.groupby("target").cumcount() < split.train["target"].map({0: 12, 1: 3, 2: 3})
    t = train.load_tensors(colours, dataclasses.replace(split, train=split.train[keep]), FAST)
    priors = np.array([12, 3, 3]) / 18
    assert train.class_priors(t) == pytest.approx(priors)
    model, biased = train.build_model(t, FAST)
    assert biased
    assert models.final_layer(model).bias.detach().numpy() == pytest.approx(np.log(priors), abs=1e-6)
    result = train.train(t, dataclasses.replace(FAST, max_steps=1)).result
    entropy = float(-(priors * np.log(priors)).sum())
    assert result.prior_bias_applied and result.expected_init_loss == pytest.approx(entropy)
    assert result.init_loss == pytest.approx(entropy, rel=0.1)  # one batch of 16 at init


def test_prior_bias_auto_leaves_balanced_classes_alone_and_on_off_override(colour_tensors):
    priors = train.class_priors(colour_tensors)
    assert not train.use_prior_bias(FAST, priors)
    assert train.use_prior_bias(dataclasses.replace(FAST, prior_bias="on"), priors)
    skewed = np.array([0.8, 0.1, 0.1])
    assert train.use_prior_bias(FAST, skewed) and not train.use_prior_bias(
        dataclasses.replace(FAST, prior_bias="off"), skewed)
    assert train.expected_init_loss(priors, biased=False) == pytest.approx(math.log(3))


@pytest.mark.parametrize("kind", ["none", "flip", "flip_crop"])
def test_augment_keeps_shapes_and_is_seeded(kind):
    x = torch.randn(5, 3, 16, 16)
    a = train.augment(x, kind, torch.Generator().manual_seed(0))
    b = train.augment(x, kind, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.equal(a, b)
    if kind == "none":
        assert a is x
    else:
        assert not torch.equal(a, x)


def test_normalise_standardises_uint8_images(colour_tensors):
    x = train.normalise(colour_tensors.x_train, colour_tensors.mean, colour_tensors.std)
    assert x.dtype == torch.float32
    assert x.mean(dim=(0, 2, 3)).abs().max() < 1e-4
    assert (x.std(dim=(0, 2, 3)) - 1).abs().max() < 1e-3


def test_every_model_trains_one_step(colour_tensors):
    for name in ("input_independent", "logistic", "tiny_cnn"):
        result = train.train(colour_tensors, dataclasses.replace(FAST, model=name, max_steps=1)).result
        assert result.steps == 1 and math.isfinite(result.val_loss)


def test_resnet18_runs_a_smoke_step(colour_tensors):
    result = train.train(colour_tensors, dataclasses.replace(FAST, model="resnet18", max_steps=1, batch_size=4)).result
    assert result.steps == 1 and math.isfinite(result.val_loss)
