"""Every recipe check passes on a correct setup and fails on the bug it exists to catch (issue 5: "a check
that cannot fail is not done")."""

import dataclasses
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baselines import checks, models, train
from baselines.train import build_model

from .conftest import FAST


class Scaled(nn.Module):
    """Planted bug: logits x10 at init (e.g. a temperature applied the wrong way round)."""

    def __init__(self, net, factor=10.0):
        super().__init__()
        self.net, self.factor = net, factor

    def forward(self, x):
        return self.net(x) * self.factor


class ZeroedInput(nn.Module):
    """Planted bug: the inputs are zeroed before the network (a mask or a normalisation gone wrong)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x * 0)


class ViewNotPermute(nn.Module):
    """Planted bug: (B, C, HW) -> (C, B, HW) with `view` where `permute` was meant, then read back as
    (B, C, HW): every row now holds pieces of other samples."""

    def __init__(self, num_classes, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        h = self.conv(x).flatten(2)  # (B, C, HW)
        h = h.view(h.shape[1], h.shape[0], -1)  # meant: h.permute(1, 0, 2)
        h = h.permute(1, 0, 2)  # "back" to (B, C, HW)
        return self.fc(h.amax(2))


class Permute(ViewNotPermute):
    """The same network written correctly."""

    def forward(self, x):
        h = self.conv(x).flatten(2).permute(1, 0, 2)
        return self.fc(h.permute(1, 0, 2).amax(2))


class AlwaysBatchStats(nn.Module):
    """Planted bug: BatchNorm that uses the batch's statistics even in eval mode."""

    def __init__(self, num_classes, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        h = F.batch_norm(self.conv(x), None, None, training=True)
        return self.fc(F.relu(h).amax((2, 3)))


class WithBatchNorm(nn.Module):
    def __init__(self, num_classes, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).amax((2, 3)))


class StuckInTrainMode(WithBatchNorm):
    """Planted bug: nn.BatchNorm2d that never leaves train mode (an overridden train() ignoring its flag)."""

    def train(self, mode=True):
        return super().train(True)


def fresh(t, config=FAST):
    return build_model(t, config)[0]


def imbalanced(colours, split):
    """The colours split with 12 / 3 / 3 training images: priors 2/3, 1/6, 1/6 (ratio 4 >= 3)."""
    keep = split.train.groupby("target").cumcount() < split.train["target"].map({0: 12, 1: 3, 2: 3})
    split = dataclasses.replace(split, train=split.train[keep].reset_index(drop=True))
    return train.load_tensors(colours, split, FAST)


# --- loss at init -------------------------------------------------------------------------------------------

def test_init_loss_passes_at_ln_c_for_a_fresh_model(colour_tensors):
    model, biased = build_model(colour_tensors, FAST)
    v = checks.init_loss(model, colour_tensors, biased)
    assert not biased and v.passed, v.measured
    assert v.expected.startswith(f"{math.log(3):.4f}")


def test_init_loss_catches_logits_scaled_x10(colour_tensors):
    v = checks.init_loss(Scaled(fresh(colour_tensors)), colour_tensors, biased=False)
    assert not v.passed
    assert float(v.measured) > 1.05 * math.log(3)


def test_init_loss_catches_final_layer_weights_x10(colour_tensors):
    model = fresh(colour_tensors)
    with torch.no_grad():
        models.final_layer(model).weight.mul_(10)
    assert not checks.init_loss(model, colour_tensors, biased=False).passed


def test_init_loss_catches_a_large_bias_on_one_class(colour_tensors):
    model = fresh(colour_tensors)
    with torch.no_grad():
        models.final_layer(model).bias[1] += 4.0
    v = checks.init_loss(model, colour_tensors, biased=False)
    assert not v.passed and float(v.measured) > 2.0


def test_init_loss_expects_the_priors_entropy_when_the_bias_is_set_from_them(colours, split):
    t = imbalanced(colours, split)
    model, biased = build_model(t, FAST)  # prior_bias=auto: applied, the classes are 12:3:3
    v = checks.init_loss(model, t, biased)
    priors = np.array([12, 3, 3]) / 18
    entropy = float(-(priors * np.log(priors)).sum())
    assert biased and v.passed, v.measured
    assert v.expected.startswith(f"{entropy:.4f}")
    assert v.evidence["prior_bias"] is True


def test_init_loss_catches_bias_set_to_priors_instead_of_log_priors(colours, split):
    t = imbalanced(colours, split)
    model, biased = build_model(t, FAST)
    with torch.no_grad():
        models.final_layer(model).bias.copy_(torch.tensor([12, 3, 3]) / 18)  # the bug: no log
    v = checks.init_loss(model, t, biased)
    assert biased and not v.passed, v.measured


# --- the input-independent baseline -------------------------------------------------------------------------

def test_real_model_beats_the_input_independent_baseline(colour_tensors):
    real = train.train(colour_tensors, FAST)
    zero = train.train(colour_tensors, dataclasses.replace(FAST, model="input_independent"))
    v = checks.input_independent(real.result.val_loss, zero.result.val_loss, FAST.input_independent_margin)
    assert v.passed, v.measured


def test_input_independent_catches_inputs_accidentally_zeroed(colour_tensors):
    torch.manual_seed(FAST.seed)
    broken = ZeroedInput(models.TinyCNN(3, FAST.width))
    real = train.train(colour_tensors, FAST, model=broken)
    zero = train.train(colour_tensors, dataclasses.replace(FAST, model="input_independent"))
    v = checks.input_independent(real.result.val_loss, zero.result.val_loss, FAST.input_independent_margin)
    assert not v.passed, v.measured
    assert real.result.val_loss == pytest.approx(zero.result.val_loss, rel=0.05)


def test_input_independent_margin_is_the_configured_one():
    assert checks.input_independent(0.85, 1.0, 0.15).passed
    assert not checks.input_independent(0.86, 1.0, 0.15).passed
    assert checks.input_independent(0.86, 1.0, 0.10).passed


# --- overfit one batch ---------------------------------------------------------------------------------------

def test_overfit_one_batch_passes_and_lists_each_example(colour_tensors):
    v = checks.overfit_one_batch(fresh(colour_tensors), colour_tensors, lr=3e-3, n=6)
    assert v.passed, v.measured
    examples = v.evidence["examples"]
    assert len(examples) == 6 and {e["label"] for e in examples} == {"blue", "green", "red"}
    assert all(e["predicted"] == e["label"] and e["p_label"] > 0.9 for e in examples)


def test_overfit_one_batch_catches_a_frozen_model(colour_tensors):
    model = fresh(colour_tensors)
    model.requires_grad_(False)
    v = checks.overfit_one_batch(model, colour_tensors, lr=3e-3, max_steps=50)
    assert not v.passed, v.measured
    assert "no trainable parameter" in v.measured and v.evidence["trainable_parameters"] == 0


def test_overfit_one_batch_catches_lr_zero(colour_tensors):
    v = checks.overfit_one_batch(fresh(colour_tensors), colour_tensors, lr=0.0, max_steps=50)
    assert not v.passed, v.measured


# --- training loss decreases --------------------------------------------------------------------------------

def test_loss_decreases_on_a_working_run(colour_tensors):
    v = checks.loss_decreases(train.train(colour_tensors, FAST).train_losses)
    assert v.passed, v.measured


def test_loss_decreases_catches_lr_zero(colour_tensors):
    v = checks.loss_decreases(train.train(colour_tensors, dataclasses.replace(FAST, lr=0.0)).train_losses)
    assert not v.passed, v.measured


def test_loss_decreases_catches_a_frozen_model(colour_tensors):
    model = fresh(colour_tensors)
    model.requires_grad_(False)
    v = checks.loss_decreases(train.train(colour_tensors, FAST, model=model).train_losses)
    assert not v.passed, v.measured


def test_loss_decreases_needs_two_losses():
    assert not checks.loss_decreases([]).passed
    assert not checks.loss_decreases([0.5]).passed
    assert checks.loss_decreases([1.0, 0.5]).passed


# --- batch independence -------------------------------------------------------------------------------------

def test_batch_independence_passes_for_the_tiny_cnn_in_train_mode(colour_tensors):
    v = checks.batch_independence(fresh(colour_tensors), colour_tensors)
    assert v.passed, v.measured
    assert v.evidence["checked_in"] == "train" and not v.evidence["has_batchnorm"]
    assert min(v.evidence["own_gradient"]) > 0


def test_batch_independence_passes_with_permute(colour_tensors):
    torch.manual_seed(0)
    assert checks.batch_independence(Permute(3), colour_tensors).passed


def test_batch_independence_catches_view_instead_of_permute(colour_tensors):
    torch.manual_seed(0)
    v = checks.batch_independence(ViewNotPermute(3), colour_tensors)
    assert not v.passed
    assert max(v.evidence["relative_leak"]) > 1e-3


def test_batch_independence_checks_batchnorm_in_eval_mode_and_says_so(colour_tensors):
    torch.manual_seed(0)
    model = WithBatchNorm(3)
    v = checks.batch_independence(model, colour_tensors)
    assert v.passed, v.measured
    assert v.evidence["checked_in"] == "eval" and v.evidence["has_batchnorm"]
    assert "eval mode" in v.expected and "BatchNorm" in v.expected
    assert model.training  # left as found: in train mode


def test_batch_independence_catches_batchnorm_left_in_train_mode(colour_tensors):
    torch.manual_seed(0)
    v = checks.batch_independence(StuckInTrainMode(3), colour_tensors)
    assert not v.passed, v.measured
    assert v.evidence["checked_in"] == "eval"  # asked for eval mode; the model did not comply


def test_batch_independence_catches_batchnorm_forced_into_batch_statistics(colour_tensors):
    torch.manual_seed(0)
    v = checks.batch_independence(AlwaysBatchStats(3), colour_tensors)
    assert not v.passed, v.measured


# --- reproducibility ----------------------------------------------------------------------------------------
# The check runs the real loop (baselines.train.train) twice, so each bug is planted in the real loop.

def test_reproducible_passes_when_everything_is_seeded(colour_tensors):
    v = checks.reproducible(colour_tensors, FAST)
    assert v.passed, v.measured
    assert len(v.evidence["first"]) == checks.REPRODUCIBLE_STEPS
    assert v.evidence["first"] == v.evidence["second"]


def test_reproducible_reads_the_losses_the_real_loop_records(colour_tensors, monkeypatch):
    calls = []
    real_train = train.train

    def spy(t, config, run_dir=None, **kwargs):
        calls.append((config, run_dir))
        return real_train(t, config, run_dir, **kwargs)

    monkeypatch.setattr(train, "train", spy)
    v = checks.reproducible(colour_tensors, FAST, steps=3)
    assert v.passed, v.measured
    assert [c.max_steps for c, _ in calls] == [3, 3] and all(c.seed == FAST.seed for c, _ in calls)
    assert calls[0][1] != calls[1][1]  # two run folders
    assert not any(d.exists() for _, d in calls)  # temporary: removed afterwards
    assert len(v.evidence["first"]) == 3


def test_reproducible_passes_with_augmentation_and_dropout(colour_tensors):
    v = checks.reproducible(colour_tensors, dataclasses.replace(FAST, dropout=0.3, augment="flip_crop"))
    assert v.passed, v.measured


def unseeded_python_shuffle(n, batch_size, gen, device):
    """Planted bug: the shuffle ignores the run's generator."""
    while True:
        order = list(range(n))
        random.Random().shuffle(order)
        for i in range(0, n, batch_size):
            yield torch.tensor(order[i:i + batch_size], device=device)


def unseeded_numpy_shuffle(n, batch_size, gen, device):
    while True:
        order = np.random.default_rng().permutation(n)
        for i in range(0, n, batch_size):
            yield torch.as_tensor(order[i:i + batch_size], device=device)


@pytest.mark.parametrize("batches", [unseeded_python_shuffle, unseeded_numpy_shuffle])
def test_reproducible_catches_an_unseeded_shuffle_in_the_real_loop(colour_tensors, monkeypatch, batches):
    monkeypatch.setattr(train, "shuffled_batches", batches)
    v = checks.reproducible(colour_tensors, FAST)
    assert not v.passed, v.measured


def test_reproducible_catches_an_unseeded_augmentation_in_the_real_loop(colour_tensors, monkeypatch):
    real_augment = train.augment
    monkeypatch.setattr(train, "augment", lambda x, kind, gen: real_augment(x, kind, torch.Generator().manual_seed(
        random.randrange(2**31))))  # planted bug: a fresh generator per batch instead of the run's
    v = checks.reproducible(colour_tensors, dataclasses.replace(FAST, augment="flip_crop"))
    assert not v.passed, v.measured


def test_reproducible_catches_an_unseeded_init(colour_tensors, monkeypatch):
    real_build = models.build

    def unseeded(*args, **kwargs):
        torch.manual_seed(random.randrange(2**31))  # a seed from the clock, in effect
        return real_build(*args, **kwargs)

    monkeypatch.setattr(models, "build", unseeded)
    v = checks.reproducible(colour_tensors, FAST, steps=3)
    assert not v.passed, v.measured


def test_reproducible_compares_the_steps_before_a_divergence_and_says_so(colour_tensors, monkeypatch):
    real_augment, calls = train.augment, []

    def blows_up_at_step_3(x, kind, gen):
        calls.append(1)
        return real_augment(x, kind, gen) * (math.inf if len(calls) % 3 == 0 else 1.0)

    monkeypatch.setattr(train, "augment", blows_up_at_step_3)
    v = checks.reproducible(colour_tensors, FAST)
    assert v.passed, v.measured  # both runs diverge at step 3 after the same two losses: reproducibly
    assert len(v.evidence["first"]) == 2 and "diverged" in v.measured
    assert all("at step 3" in m for m in v.evidence["diverged"])


def test_verdicts_serialise_with_their_evidence(colour_tensors):
    v = checks.loss_decreases([1.0, 0.5])
    d = v.to_dict()
    assert set(d) == {"name", "title", "passed", "measured", "expected", "explanation", "todo", "evidence"}
    assert d["name"] == "loss_decreases" and d["passed"] is True
