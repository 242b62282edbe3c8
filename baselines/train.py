"""The training loop (the recipe's "Baselines"): fixed seed, Adam, constant lr, full-set validation at
every evaluation, a fixed batch of validation images whose predictions are recorded as it learns, and
a run folder that a page can read while it runs."""

import dataclasses
import itertools
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inspectors import jobs

from . import models, runs
from .config import TrainConfig, config_to_dict
from .data import Prepared, Split, choose_input_size, tensor_cache

HEARTBEAT_S = jobs.HEARTBEAT_S  # metrics are flushed as often as the status is written
EVAL_BATCH = 512


class Diverged(RuntimeError):
    """The loss became NaN or inf."""


@dataclass(frozen=True)
class TrainResult:
    """How a run ended, as result.json records it (plain JSON values only)."""
    state: str  # finished | stopped (on request)
    message: str  # why it stopped early, if it did
    steps: int
    val_loss: float  # on the whole validation set, at the last evaluation
    val_acc: float
    train_loss: float | None  # mean of the last 50 steps
    init_loss: float | None  # the first step's loss
    expected_init_loss: float
    prior_bias_applied: bool
    data_wait_fraction: float | None  # time spent preparing batches / time per step
    seconds: float
    images_per_s: float | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Trained:
    """What train() hands its caller: the recorded result, and what stays in memory (never in a file)."""
    result: TrainResult
    model: torch.nn.Module
    last_eval: dict  # evaluate() at the last evaluation: loss, acc, and every validation sample's probabilities
    train_losses: list  # the loss of every step


@dataclass
class Tensors:
    """A split as uint8 tensors (on the device when they fit) plus what turns them into network input."""
    classes: list
    size: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    train_paths: list
    val_paths: list
    mean: torch.Tensor  # (3,) of the train images in [0, 1]: normalisation from the data, not ImageNet's
    std: torch.Tensor
    failed: list  # (path, reason): files the scan read but that no longer decode
    device: torch.device


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_tensors(prepared: Prepared, split: Split, config: TrainConfig, progress=None) -> Tensors:
    size = config.input_size or choose_input_size(prepared.samples)
    device = pick_device(config.device)
    parts, failed = {}, []
    for name, rows in (("train", split.train), ("val", split.val)):
        limit = max(1, config.max_cache_mb * 2**20 // (3 * size * size) // 2)
        if len(rows) > limit:  # say so rather than run out of memory
            rows = rows.sample(limit, random_state=config.seed).sort_index()
            split.notes.append(f"{name}: subsampled to {limit} images to fit max_cache_mb={config.max_cache_mb}")
        images, ok, bad = tensor_cache(prepared, rows, size, progress)
        failed += bad
        x = torch.from_numpy(np.array(images[ok]))
        y = torch.as_tensor(rows["target"].to_numpy()[ok], dtype=torch.long)
        parts[name] = (x.to(device), y.to(device), list(rows["path"][ok]))
    mean, std = channel_stats(parts["train"][0])
    return Tensors(split.classes, size, *parts["train"][:2], *parts["val"][:2], parts["train"][2], parts["val"][2],
                   mean, std, failed, device)


def channel_stats(x_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std in [0, 1] of the training images: normalisation from the data itself."""
    x = x_uint8.float().div_(255)
    return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3)


def normalise(x_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """The one transform between the cached images and the network: [0, 255] -> [0, 1] -> standardised."""
    return (x_uint8.float().div_(255) - mean[None, :, None, None]) / std[None, :, None, None]


def augment(x: torch.Tensor, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Flips (and random 1/8-padded crops) per sample, drawn from the run's seeded generator."""
    if kind == "none":
        return x
    flip = torch.rand(len(x), generator=gen, device="cpu").to(x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if kind == "flip_crop":
        pad = max(1, x.shape[-1] // 8)
        padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        offsets = torch.randint(0, 2 * pad + 1, (len(x), 2), generator=gen)
        x = torch.stack([padded[i, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]
                         for i, (dy, dx) in enumerate(offsets.tolist())])
    return x


def class_priors(t: Tensors) -> np.ndarray:
    counts = np.bincount(t.y_train.cpu().numpy(), minlength=len(t.classes)).astype(float)
    return counts / counts.sum()


def use_prior_bias(config: TrainConfig, priors: np.ndarray) -> bool:
    if config.prior_bias != "auto":
        return config.prior_bias == "on"
    present = priors[priors > 0]
    return len(present) > 1 and present.max() / present.min() >= config.imbalance_ratio


def build_model(t: Tensors, config: TrainConfig) -> tuple[torch.nn.Module, bool]:
    torch.manual_seed(config.seed)
    model = models.build(config.model, len(t.classes), t.size, config.width, config.dropout, config.pretrained)
    priors = class_priors(t)
    biased = bool(use_prior_bias(config, priors))
    if biased:
        models.set_prior_bias(model, priors)
    return model.to(t.device), biased


def expected_init_loss(priors: np.ndarray, biased: bool) -> float:
    """Uniform logits: ln C. Prior-biased: the priors' entropy (their cross-entropy with themselves)."""
    if not biased:
        return math.log(len(priors))
    p = priors[priors > 0]
    return float(-(p * np.log(p)).sum())


@torch.no_grad()
def evaluate(model, x, y, mean, std, batch: int = EVAL_BATCH) -> dict:
    """Loss and accuracy on the WHOLE split (never one batch), with every sample's probabilities."""
    was_training = model.training
    model.eval()
    probs = []
    for i in range(0, len(x), batch):
        probs.append(F.softmax(model(normalise(x[i:i + batch], mean, std)).float(), dim=1))
    model.train(was_training)
    p = torch.cat(probs) if probs else torch.zeros(0, 1)
    losses = -torch.log(p[torch.arange(len(y)), y].clamp_min(1e-12))
    return {"loss": float(losses.mean()), "acc": float((p.argmax(1) == y).float().mean()), "probs": p.cpu(),
            "losses": losses.cpu()}


def confusion(y: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> list:
    m = torch.bincount(y.cpu() * num_classes + predicted.cpu(), minlength=num_classes ** 2)
    return m.reshape(num_classes, num_classes).tolist()


def fixed_batch(t: Tensors, n: int, seed: int) -> list[int]:
    """Validation indices, round-robin over classes (seeded), so every class is in the picture."""
    rng = np.random.default_rng(seed)
    y = t.y_val.cpu().numpy()
    queues = [list(rng.permutation(np.flatnonzero(y == c))) for c in range(len(t.classes))]
    out = []
    while len(out) < min(n, len(y)):
        for q in queues:
            if q and len(out) < n:
                out.append(int(q.pop()))
    return out


def shuffled_batches(n: int, batch_size: int, gen: torch.Generator, device):
    """Index batches, epoch after epoch, each epoch a fresh permutation from the run's generator."""
    while True:
        order = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, batch_size):
            yield order[i:i + batch_size]


def total_steps(n_train: int, config: TrainConfig) -> int:
    steps = config.epochs * math.ceil(n_train / config.batch_size)
    return min(steps, config.max_steps) if config.max_steps else steps


def train(t: Tensors, config: TrainConfig, run_dir: Path | None = None, model=None, progress=None,
          should_stop=None, extra_config: dict | None = None, own_status: bool = True) -> Trained:
    """Train and record. Returns the result (also result.json) with the model. A stop request (should_stop, or
    jobs.request_stop on run_dir) ends the run as 'stopped'; a NaN/inf loss raises Diverged. With run_dir, the
    run's status.json goes from running to finished, stopped or failed (with the step), unless `own_status` is
    False: then the command that made the folder writes it (check and train report their own)."""
    torch.set_num_threads(max(1, config.threads)) if t.device.type == "cpu" else None
    if model is None:
        model, biased = build_model(t, config)
    else:
        biased = False
    priors = class_priors(t)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n, steps = len(t.y_train), total_steps(len(t.y_train), config)
    per_epoch = math.ceil(n / config.batch_size)
    eval_every = max(1, per_epoch // max(1, config.evals_per_epoch))
    fixed = fixed_batch(t, config.fixed_batch, config.seed)
    status = jobs.Status(run_dir, "train", "train", steps) if run_dir and own_status else None
    rec = Recorder(run_dir, steps, status)
    if run_dir:
        runs.write_json(run_dir, "config.json", {
            "kind": "train", "train": config_to_dict(config), "input_size": t.size, "classes": t.classes,
            "prior_bias_applied": biased, "class_priors": priors.round(6).tolist(),
            "expected_init_loss": expected_init_loss(priors, biased), "n_train": n, "n_val": len(t.y_val),
            "normalise": {"mean": t.mean.tolist(), "std": t.std.tolist()}, "device": str(t.device),
            "skipped_files": t.failed, "versions": {"torch": torch.__version__, "python": platform.python_version()},
            **(extra_config or {})})
        runs.write_json(run_dir, "fixed_batch.json", {"paths": [t.val_paths[i] for i in fixed],
                                                      "labels": [t.classes[int(t.y_val[i])] for i in fixed],
                                                      "classes": t.classes})
    best, stale, step, state, message = math.inf, 0, 0, "finished", ""
    last = rec.evaluation(model, t, fixed, step=0, epoch=0.0, train_loss=None)
    model.train()
    for idx in itertools.islice(shuffled_batches(n, config.batch_size, gen, t.device), steps):
        if (should_stop and should_stop()) or (run_dir and jobs.stop_requested(run_dir)):
            state, message = "stopped", f"stopped on request at step {step}"
            break
        started = time.perf_counter()
        xb = augment(normalise(t.x_train[idx], t.mean, t.std), config.augment, gen)
        yb = t.y_train[idx]
        data_s = time.perf_counter() - started
        loss = F.cross_entropy(model(xb), yb)
        if not torch.isfinite(loss):
            message = f"the loss became {loss.item()} at step {step + 1}: training stopped"
            rec.flush()
            if status:
                status.finish("failed", error=message)
            raise Diverged(message)
        opt.zero_grad(set_to_none=True)
        if loss.requires_grad:  # a fully frozen model trains nothing: record its flat curve, let the checks say so
            loss.backward()
            opt.step()
        step += 1
        rec.train_step(step, step / per_epoch, loss.item(), data_s, time.perf_counter() - started, len(idx))
        if progress:
            progress(step, steps)
        if step % eval_every == 0 or step == steps:
            last = rec.evaluation(model, t, fixed, step, step / per_epoch, rec.recent_train_loss())
            if last["loss"] < best - 1e-4:
                best, stale = last["loss"], 0
            else:
                stale += 1
            if config.early_stopping and stale >= config.early_stopping:
                message = f"early stopping at step {step}: no better validation loss in {stale} evaluations"
                break
    if rec.last_eval_step != step:
        last = rec.evaluation(model, t, fixed, step, step / per_epoch, rec.recent_train_loss())
    result = TrainResult(state, message, step, last["loss"], last["acc"], rec.recent_train_loss(),
                         rec.first_train_loss, expected_init_loss(priors, biased), biased, rec.data_wait_fraction(),
                         rec.seconds(), rec.images / rec.step_s if rec.step_s else None)
    if run_dir:
        runs.write_checkpoint(run_dir, model.state_dict())
        write_val_predictions(run_dir, t, last)
        runs.write_json(run_dir, "result.json", result.to_dict())
    rec.flush()
    if status:
        status.finish(state, message, result.to_dict())
    return Trained(result, model, last, rec.losses)


def write_val_predictions(run_dir: Path, t: Tensors, last: dict) -> None:
    import pandas as pd

    from inspectors.sheets import write_sheet
    p, y = last["probs"], t.y_val.cpu()
    predicted = p.argmax(1)
    table = pd.DataFrame({"path": t.val_paths, "label": [t.classes[i] for i in y.tolist()],
                          "predicted": [t.classes[i] for i in predicted.tolist()],
                          "p_label": p[torch.arange(len(y)), y].numpy().round(5),
                          "p_predicted": p.max(1).values.numpy().round(5),
                          "loss": last["losses"].numpy().round(5)}).sort_values("loss", ascending=False)
    write_sheet(table, run_dir / "val_predictions.csv")  # class names and paths: cells safe in a spreadsheet
    matrix = confusion(y, predicted, len(t.classes))
    runs.write_json(run_dir, "confusion.json", {"classes": t.classes, "matrix": matrix})


class Recorder:
    """Appends metrics and the fixed batch's predictions, flushed with each heartbeat of the run's status."""

    def __init__(self, run_dir: Path | None, steps: int, status: jobs.Status | None = None):
        self.run_dir, self.steps, self.status, self.started = run_dir, steps, status, time.time()
        self.pending, self.recent, self.losses, self.data_s, self.step_s, self.images = [], [], [], 0.0, 0.0, 0
        self.first_train_loss, self.last_beat, self.last_eval_step = None, 0.0, -1
        if run_dir:
            (run_dir / "metrics.jsonl").touch()

    def beat(self, step: int, force: bool = False) -> None:
        if self.run_dir and (force or time.time() - self.last_beat >= HEARTBEAT_S):
            self.flush()
            if self.status:
                self.status.progress("train", step, self.steps, force=True)
            self.last_beat = time.time()

    def flush(self) -> None:
        if self.run_dir:
            runs.append_jsonl(self.run_dir / "metrics.jsonl", self.pending)
        self.pending = []

    def train_step(self, step, epoch, loss, data_s, step_s, images) -> None:
        if self.first_train_loss is None:
            self.first_train_loss = loss
        self.recent = (self.recent + [loss])[-50:]
        self.losses.append(loss)
        if step > 1:  # the first step pays one-off costs (allocations, lazy init): not steady state
            self.data_s, self.step_s, self.images = self.data_s + data_s, self.step_s + step_s, self.images + images
        self.pending.append({"kind": "train", "step": step, "epoch": round(epoch, 4), "loss": loss,
                             "data_s": round(data_s, 6), "step_s": round(step_s, 6)})
        self.beat(step)

    def recent_train_loss(self):
        return float(np.mean(self.recent)) if self.recent else None

    def evaluation(self, model, t: Tensors, fixed: list, step: int, epoch: float, train_loss) -> dict:
        ev = evaluate(model, t.x_val, t.y_val, t.mean, t.std)
        self.last_eval_step = step
        self.pending.append({"kind": "eval", "step": step, "epoch": round(epoch, 4), "val_loss": ev["loss"],
                             "val_acc": ev["acc"], "train_loss": train_loss})
        if self.run_dir:
            runs.append_jsonl(self.run_dir / "fixed_predictions.jsonl", [
                {"step": step, "probs": ev["probs"][fixed].numpy().round(4).tolist()}])
        self.beat(step, force=True)
        return ev

    def data_wait_fraction(self):
        return self.data_s / self.step_s if self.step_s else None

    def seconds(self):
        return round(time.time() - self.started, 3)
