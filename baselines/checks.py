"""The recipe's sanity checks, one small function each, every one a verdict with its evidence.

A check that cannot fail is worthless: tests/baselines/test_checks.py plants the bug each one exists to
catch (logits x10, zeroed inputs, a frozen model, a batch-mixing `view`, ignored EXIF, an unseeded
shuffle) and requires the verdict to fail."""

import dataclasses
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import models, runs, train
from .config import TrainConfig
from .train import Tensors, class_priors, expected_init_loss, normalise

INIT_TOLERANCE = 0.05  # relative: default inits leave logits small but not exactly zero (measured 1-3%)
OVERFIT_LOSS = 0.05  # "near zero": every example at >= ~95% probability on its own label
DECREASE = 0.9  # the last tenth of training steps must average <= 90% of the first tenth
INDEPENDENT_LEAK = 1e-6  # gradient on other samples, relative to the sample's own: float32 noise is far below
REPRODUCIBLE_STEPS = 5  # init, shuffle, augmentation and dropout all act from step 1; few steps keep the check cheap


@dataclass
class Verdict:
    name: str
    title: str
    passed: bool
    measured: str
    expected: str
    explanation: str
    todo: str  # what to do if it failed
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _mean_loss(model, x, y, batch=256) -> float:
    model.eval()
    with torch.no_grad():
        total = sum(float(F.cross_entropy(model(x[i:i + batch]), y[i:i + batch], reduction="sum"))
                    for i in range(0, len(x), batch))
    model.train()
    return total / max(1, len(x))


def init_loss(model, t: Tensors, biased: bool, n: int = 1024) -> Verdict:
    """Loss at init = -log(1/C), or the priors' entropy when the final bias is set from them."""
    priors = class_priors(t)
    expected = expected_init_loss(priors, biased)
    x, y = normalise(t.x_train[:n], t.mean, t.std), t.y_train[:n]
    measured = _mean_loss(model, x, y)
    passed = math.isfinite(measured) and abs(measured - expected) <= INIT_TOLERANCE * expected
    what = "the class priors' entropy (final-layer bias = log priors)" if biased else f"ln C = ln {len(priors)}"
    return Verdict(
        "init_loss", "Loss at init", passed, f"{measured:.4f}", f"{expected:.4f} ± {INIT_TOLERANCE:.0%} ({what})",
        "A network that knows nothing should start at the loss of guessing the class frequencies.",
        "Scale the final layer's weights down (logits near zero at init) and set its bias to log(priors) "
        "for imbalanced classes; a far higher loss means confident wrong guesses that the first steps undo.",
        {"priors": priors.round(6).tolist(), "prior_bias": biased, "samples": len(y)})


def input_independent(real_val_loss: float, zero_val_loss: float, margin: float) -> Verdict:
    """The real model must do clearly better than the same network fed zeros."""
    bar = (1 - margin) * zero_val_loss
    passed = real_val_loss <= bar
    return Verdict(
        "input_independent", "Beats the input-independent baseline", passed,
        f"val loss {real_val_loss:.4f} (zeros in: {zero_val_loss:.4f})", f"<= {bar:.4f} ({margin:.0%} below)",
        "Fed zeros, a network can only learn the label frequencies. If the real inputs do not help clearly, "
        "the model is not using them.",
        "Look at what enters the network (the check below): blank, constant or wrongly scaled inputs, "
        "labels shuffled against images, or too few steps.",
        {"real_val_loss": real_val_loss, "zero_val_loss": zero_val_loss, "margin": margin})


def overfit_one_batch(model, t: Tensors, lr: float, n: int = 8, max_steps: int = 500) -> Verdict:
    """A few examples must be learnt by heart (loss near zero) with the run's own optimiser settings."""
    idx = _one_per_class(t.y_train, n)
    x, y = normalise(t.x_train[idx], t.mean, t.std), t.y_train[idx]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.train()
    losses = []
    for _ in range(max_steps):
        loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] < OVERFIT_LOSS / 2 or not loss.requires_grad:
            break  # nothing trainable (a frozen model): no step can lower the loss, and backward() would raise
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        probs = F.softmax(model(x), dim=1)
    final = float(F.cross_entropy(torch.log(probs.clamp_min(1e-12)), y))
    examples = [{"path": t.train_paths[int(i)], "label": t.classes[int(y[k])],
                 "predicted": t.classes[int(probs[k].argmax())], "p_label": round(float(probs[k, y[k]]), 4)}
                for k, i in enumerate(idx.tolist())]
    return Verdict(
        "overfit_one_batch", f"Overfits one batch of {len(idx)}", final <= OVERFIT_LOSS,
        f"loss {final:.4f} after {len(losses)} steps" + ("" if trainable else " (no trainable parameter)"),
        f"<= {OVERFIT_LOSS}",
        "Any working model and optimiser can memorise a handful of examples; if this fails, nothing larger "
        "will work either.",
        "Check that the parameters get gradients and the optimiser gets them (frozen layers, lr = 0), that "
        "labels match images, and that the loss is the right one.",
        {"losses": [round(v, 5) for v in losses[:: max(1, len(losses) // 100)]], "examples": examples,
         "trainable_parameters": trainable})


def batch_independence(model, t: Tensors, n: int = 4) -> Verdict:
    """Backpropagating sample i's loss alone must reach input i and no other input."""
    bn = models.has_batchnorm(model)
    model.eval() if bn else model.train()  # BatchNorm mixes a batch by design in train mode: check it in eval
    n = min(n, len(t.y_train))
    x = normalise(t.x_train[:n], t.mean, t.std).requires_grad_(True)
    y = t.y_train[:n]
    leaks, own = [], []
    for i in range(n):
        x.grad = None
        F.cross_entropy(model(x)[i:i + 1], y[i:i + 1]).backward()
        g = x.grad.detach().abs().flatten(1).amax(1)
        own.append(float(g[i]))
        leaks.append(float(torch.cat([g[:i], g[i + 1:]]).max()) / max(float(g[i]), 1e-30) if n > 1 else 0.0)
    model.train()
    worst = max(leaks) if leaks else 0.0
    passed = min(own) > 0 and worst <= INDEPENDENT_LEAK
    mode = "eval mode (the model has BatchNorm, which mixes a batch in train mode)" if bn else "train mode"
    return Verdict(
        "batch_independence", "Samples in a batch do not mix", passed,
        f"largest gradient on another sample: {worst:.2e} of the sample's own", f"0 (<= {INDEPENDENT_LEAK:g}); {mode}",
        "The loss of one sample must depend on that sample only. A `view` where a `permute`/`transpose` was "
        "meant, or a norm over the batch axis, silently mixes samples.",
        "Look for reshapes across the batch dimension in forward(): use permute/transpose, not view, to "
        "swap axes; keep the batch axis first.",
        {"own_gradient": own, "relative_leak": leaks, "checked_in": "eval" if bn else "train", "has_batchnorm": bn})


def reproducible(t: Tensors, config: TrainConfig, steps: int = REPRODUCIBLE_STEPS) -> Verdict:
    """Two runs of the real training loop (`train.train`, not a copy of it) with one config and seed, each
    into a temporary run folder: the per-step train losses they record must be identical."""
    cfg = dataclasses.replace(config, max_steps=steps, early_stopping=0)
    with tempfile.TemporaryDirectory(prefix="reproducible-") as tmp:
        a, a_stop = _recorded_losses(t, cfg, Path(tmp) / "first")
        b, b_stop = _recorded_losses(t, cfg, Path(tmp) / "second")
    k = min(len(a), len(b))
    diff = float(np.max(np.abs(np.array(a[:k]) - np.array(b[:k])))) if k else math.inf
    passed = k > 0 and a == b  # exactly: same seed, same arithmetic, same numbers
    measured = f"largest difference over {k} steps: {diff:.2e}"
    if len(a) != len(b):
        measured += f" (the runs recorded {len(a)} and {len(b)} steps)"
    evidence = {"first": [round(v, 6) for v in a[:k]], "second": [round(v, 6) for v in b[:k]], "max_steps": steps}
    if a_stop or b_stop:
        measured += "; the loss diverged"
        evidence["diverged"] = [a_stop, b_stop]
    return Verdict(
        "reproducible", "Same seed, same losses", passed, measured, "0",
        "With one fixed seed every run must follow the same curve; otherwise a change in a curve cannot be "
        "told apart from noise.",
        "Seed every source of randomness (init, shuffling, augmentation, dropout) from the run's seed; on "
        "a GPU also turn on deterministic algorithms.",
        evidence)


def _recorded_losses(t: Tensors, config: TrainConfig, run_dir: Path) -> tuple[list, str]:
    """Train into run_dir and read back the train losses its metrics.jsonl recorded, step by step (and the
    message if the loss diverged: the steps before it still count)."""
    run_dir.mkdir()
    try:
        train.train(t, config, run_dir)
        stop = ""
    except train.Diverged as e:
        stop = str(e)
    steps = sorted((r for r in runs.read_jsonl(run_dir / "metrics.jsonl") if r.get("kind") == "train"),
                   key=lambda r: r["step"])
    return [r["loss"] for r in steps], stop


def loss_decreases(losses: list) -> Verdict:
    k = max(1, len(losses) // 10)
    first, last = (float(np.mean(losses[:k])), float(np.mean(losses[-k:]))) if losses else (math.nan, math.nan)
    passed = len(losses) >= 2 and last <= DECREASE * first
    return Verdict(
        "loss_decreases", "Training loss decreases", passed, f"first tenth {first:.4f} -> last tenth {last:.4f}",
        f"last <= {DECREASE:.0%} of first",
        "A training loss that does not go down means the model is not learning.",
        "Check the learning rate (not 0), that parameters are not frozen, and that the optimiser steps.",
        {"steps": len(losses)})


def _one_per_class(y: torch.Tensor, n: int) -> torch.Tensor:
    """n training indices covering as many classes as possible (first examples of each, in class order)."""
    y = y.cpu()
    picked = []
    per_class = [torch.nonzero(y == c).flatten().tolist() for c in range(int(y.max()) + 1 if len(y) else 0)]
    depth = 0
    while len(picked) < min(n, len(y)):
        for members in per_class:
            if depth < len(members) and len(picked) < n:
                picked.append(members[depth])
        depth += 1
    return torch.tensor(picked, dtype=torch.long)
