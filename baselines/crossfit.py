"""Cross-fitting for label issues: every labelled image, whatever its split, gets a predicted distribution from a
model that never trained on it nor on any copy of it.

Folds are grouped by duplicate group (the inspectors' `group` column), so two copies of one picture never sit on
both sides of a fold: a model that trained on one copy would vouch for the other's label. Each fold trains with
augmentation (flips, padded crops), a one-cycle learning rate, and keeps its weights at the best loss on a slice
of its own training images (early stopping); held-out images are predicted as they are and mirrored, averaged.
A finished fold is saved at once, so a run killed midway resumes at the fold it was in."""

import hashlib
import json
import math
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import models
from .config import TrainConfig, config_to_dict
from .train import channel_stats, normalise

DUPLICATE_ISSUES = ("exact_duplicate", "near_duplicate", "split_leak", "conflicting_labels")
STOP_SHARE = 0.1  # of each fold's training images, held back to pick its best epoch
PATIENCE = 4  # epochs without a better loss on that slice before a fold stops
WARM_SHARE = 0.3  # OneCycleLR's default pct_start: the learning rate rises until then
# Image passes (training images x epochs, over every fold) that fit the CPU budget: about 13 minutes of a
# small_resnet (width 16, 32 px) on one core (docs/benchmarks.md, "Label issues"). epochs=0 fits the epochs
# to it, between MIN_EPOCHS and MAX_EPOCHS.
PASS_BUDGET = 240_000
MIN_EPOCHS, MAX_EPOCHS = 6, 30


def duplicate_groups(findings: pd.DataFrame, paths) -> np.ndarray:
    """Per path, one id for every picture linked to it through the inspectors' duplicate findings ("" for none).
    Groups of different findings that share a member are merged (an exact copy of a near copy is one picture)."""
    rows = findings[findings["issue"].isin(DUPLICATE_ISSUES) & findings["group"].fillna("").astype(str).ne("")]
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for path, group in zip(rows["path"], rows["group"].astype(str), strict=True):
        parent[root(("p", path))] = root(("g", group))
    out = np.full(len(paths), "", dtype=object)
    for i, path in enumerate(paths):
        if ("p", path) in parent:
            out[i] = str(root(("p", path))[1])
    return out


def assign_folds(targets: np.ndarray, k: int, seed: int, groups=None) -> np.ndarray:
    """A fold per sample, stratified by class, a duplicate group (same non-empty id in `groups`) always in one
    fold: units (a group, or a lone sample) go, largest first, to the fold holding fewest of their class."""
    rng = np.random.default_rng(seed)
    n = len(targets)
    unit = np.arange(n).astype(object) if groups is None else np.where(
        np.asarray(groups, dtype=object) == "", np.arange(n).astype(str), "g:" + np.asarray(groups, dtype=object))
    codes, unit_of = np.unique(unit.astype(str), return_inverse=True)
    members = [[] for _ in codes]
    for i in rng.permutation(n):
        members[unit_of[i]].append(i)
    shuffled = rng.permutation(len(codes))  # ties between units of one size fall in a seeded random order
    order = shuffled[np.argsort([-len(members[u]) for u in shuffled], kind="stable")]
    filled = np.zeros((int(targets.max()) + 1 if n else 1, k))
    start = rng.integers(k)
    folds = np.zeros(n, dtype=np.int64)
    for u in order:
        c = np.bincount(targets[members[u]]).argmax()
        f = int(min(range(k), key=lambda j: (filled[c, j], (j - start) % k)))
        folds[members[u]] = f
        filled[c, f] += len(members[u])
    return folds


def epochs_for(config: TrainConfig, n_images: int, k: int, device: str = "cpu") -> int:
    """config.epochs, or with 0 as many as the CPU pass budget allows for (k-1)/k of n_images per fold and k folds
    (on a GPU the budget is no limit: MAX_EPOCHS)."""
    if config.epochs:
        return config.epochs
    if device == "cuda":
        return MAX_EPOCHS
    per_epoch = max(1, (k - 1) * n_images)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, PASS_BUDGET // per_epoch)))


def crop_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each image mirrored at random and shifted by up to 1/8 of its side (reflect-padded crop), in one gather."""
    b, _, h, w = x.shape
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = max(1, h // 8)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dy, dx = (torch.randint(0, 2 * pad + 1, (2, b), generator=gen)).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    return padded[torch.arange(b, device=x.device)[:, None, None, None],
                  torch.arange(x.shape[1], device=x.device)[None, :, None, None], rows, cols]


@torch.no_grad()
def predict(model, x_uint8, mean, std, mirror: bool = True, batch: int = 512) -> torch.Tensor:
    """Softmax probabilities, averaged with those of the mirrored image (the prediction no longer hangs on which
    way the picture faces)."""
    model.eval()
    out = []
    for i in range(0, len(x_uint8), batch):
        xb = normalise(x_uint8[i:i + batch], mean, std)
        p = F.softmax(model(xb).float(), 1)
        if mirror:
            p = (p + F.softmax(model(xb.flip(3)).float(), 1)) / 2
        out.append(p.cpu())
    return torch.cat(out) if out else torch.zeros(0, 1)


def fit_fold(x: torch.Tensor, y: torch.Tensor, classes: int, config: TrainConfig, epochs: int, seed: int,
             on_step=lambda: None):
    """(model, mean, std, best epoch) trained on uint8 images x with targets y: AdamW under a one-cycle schedule,
    augmented unless config.augment is "none", its weights those of the epoch past the learning rate's peak with the
    lowest loss on a slice of x it never trained on."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    order = torch.randperm(len(y), generator=gen).to(y.device)
    n_stop = int(len(y) * STOP_SHARE) if len(y) >= 20 else 0
    stop, fit = order[:n_stop], order[n_stop:]
    mean, std = channel_stats(x[fit])
    model = models.build(config.model, classes, x.shape[-1], config.width, config.dropout).to(x.device)
    # not channels_last, though ~25 % faster on this CPU: with 4 channels, 16 px and a batch of 3 its backward
    # pass corrupted the heap (torch 2.14.1, "corrupted size vs. prev_size")
    planned = fold_steps(len(y), config, epochs)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=max(1, planned))
    best, best_state, best_epoch, stale, step = math.inf, None, 0, 0, 0
    for epoch in range(1, epochs + 1):
        model.train()
        for idx in fit[torch.randperm(len(fit), generator=gen).to(y.device)].split(config.batch_size):
            if step == planned:
                break
            step += 1
            xb = normalise(x[idx], mean, std)
            if config.augment != "none":
                xb = crop_flip(xb, gen) if config.augment == "flip_crop" else torch.where(
                    (torch.rand(len(idx), generator=gen) < 0.5).to(xb.device)[:, None, None, None], xb.flip(3), xb)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            on_step()
        # judged only once the learning rate falls: near its one-cycle peak the loss rises by design, and on a
        # slice of ~50 images a warm-up epoch's loss can beat every later one by chance (kept, it held 0.26 of
        # a shapes_csv fold right, against 0.58-0.63 for the others)
        if n_stop and epoch > WARM_SHARE * epochs:
            p = predict(model, x[stop], mean, std, mirror=False)
            held = float(-torch.log(p[torch.arange(n_stop), y[stop].cpu()].clamp_min(1e-12)).mean())
            if held < best - 1e-4:
                best, best_epoch, stale = held, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
                if stale >= (config.early_stopping or PATIENCE):
                    for _ in range(planned - step):
                        on_step()  # the progress bar counts planned steps: skip those never taken
                    break
        if step == planned:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, mean, std, best_epoch or epochs


def fold_steps(n_fit: int, config: TrainConfig, epochs: int) -> int:
    """Optimizer steps one fold takes on n_fit images (its early-stopping slice held back), at most max_steps."""
    n = n_fit - (int(n_fit * STOP_SHARE) if n_fit >= 20 else 0)
    steps = epochs * math.ceil(n / config.batch_size)
    return min(steps, config.max_steps) if config.max_steps else steps


def run_key(config: TrainConfig, paths, folds: np.ndarray, size: int, epochs: int) -> str:
    """What a saved fold was computed from: a fold is reused only when all of it is the same."""
    h = hashlib.sha256(json.dumps([config_to_dict(config), size, epochs], sort_keys=True, default=str).encode())
    h.update(np.asarray(folds, dtype=np.int64).tobytes())
    for p in paths:
        h.update(f"{p}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def cross_fit(x_all: torch.Tensor, targets: np.ndarray, ok: np.ndarray, folds: np.ndarray, classes: int,
              config: TrainConfig, epochs: int, saved=None, progress=None, log=lambda message: None) -> np.ndarray:
    """Held-out probabilities (N, classes) for the rows where ok is True (zeros elsewhere). `saved`: a folder
    where each finished fold is kept (fold_<f>.npy) and found again on a rerun."""
    device = x_all.device
    k = int(folds.max()) + 1
    probs = np.zeros((len(targets), classes), dtype=np.float32)
    y_all = torch.as_tensor(targets, dtype=torch.long, device=device)
    steps = [fold_steps(int(((folds != f) & ok).sum()), config, epochs) for f in range(k)]
    total, done, started = sum(steps), [0], time.time()

    def tick():
        done[0] += 1
        if progress and (done[0] % 10 == 0 or done[0] == total):
            progress(done[0], total)

    if progress:
        progress(0, total)
    for f in range(k):
        held = np.flatnonzero((folds == f) & ok)
        file = saved / f"fold_{f}.npy" if saved else None
        if file is not None and file.exists():
            probs[held] = np.load(file)
            done[0] += steps[f]
            log(f"fold {f + 1}/{k}: found saved, not trained again")
            continue
        fit = torch.as_tensor(np.flatnonzero((folds != f) & ok), device=device)
        model, mean, std, best = fit_fold(x_all[fit], y_all[fit], classes, config, epochs, config.seed + f, tick)
        p = predict(model, x_all[torch.as_tensor(held, device=device)], mean, std).numpy()
        probs[held] = p
        if file is not None:
            saved.mkdir(parents=True, exist_ok=True)
            tmp = saved / f".fold_{f}.npy"
            np.save(tmp, p)
            tmp.replace(file)
        accuracy = float((p.argmax(1) == targets[held]).mean()) if len(held) else float("nan")
        elapsed = time.time() - started
        left = elapsed / max(done[0], 1) * (total - done[0])
        log(f"fold {f + 1}/{k}: held-out accuracy {accuracy:.3f} on {len(held)} images (best epoch {best}/{epochs});"
            f" about {left / 60:.0f} min left")
    if progress:
        progress(total, total)
    return probs


