"""The recipe's steps that take more than one training run: every sanity check on a dataset, and the
downsampling-tolerance sweep ("how much downsampling can it tolerate", answered by measurement)."""

import dataclasses
from pathlib import Path

import pandas as pd
from PIL import Image

from . import checks, runs
from .config import TrainConfig
from .data import Prepared, Split
from .inputs import what_enters
from .train import build_model, load_tensors, train


def run_checks(prepared: Prepared, split: Split, config: TrainConfig, run_dir: Path, progress=None,
               log=lambda message: None) -> list[checks.Verdict]:
    """Train the model and its input-independent twin with one config, then every check. Verdicts go to
    run_dir/checks.json (and the sample images of "what enters" to run_dir/what_enters/)."""
    t = load_tensors(prepared, split, config, progress=None)
    verdicts = []

    def build():
        return build_model(t, config)[0]

    def record(v):
        verdicts.append(v)
        runs.write_json(run_dir, "checks.json", [x.to_dict() for x in verdicts])
        log(f"{'PASS' if v.passed else 'FAIL'}  {v.title}: {v.measured}")

    model, biased = build_model(t, config)
    record(checks.init_loss(model, t, biased))
    verdict, images = what_enters(t, prepared, augment_kind=config.augment, seed=config.seed)
    save_pairs(run_dir / "what_enters", images)
    record(verdict)
    record(checks.batch_independence(build(), t))
    record(checks.overfit_one_batch(build(), t, config.lr))
    record(checks.reproducible(t, config))
    log(f"training {config.model} ({config.epochs} epochs) ...")
    real = train(t, config, run_dir, model=None, progress=progress, own_status=False,  # the check's, not the run's
                 extra_config={"kind": "check", "split": split.how, "notes": split.notes})
    record(checks.loss_decreases(real.train_losses))
    log("training the input-independent baseline (the same network fed zeros) ...")
    zero = train(t, dataclasses.replace(config, model="input_independent"), None)
    record(checks.input_independent(real.result.val_loss, zero.result.val_loss, config.input_independent_margin))
    return verdicts


def save_pairs(folder: Path, pairs) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, (file_img, net_img) in enumerate(pairs):
        Image.fromarray(file_img).save(folder / f"{k:02d}_file.png")
        Image.fromarray(net_img).save(folder / f"{k:02d}_network.png")


def tolerance(prepared: Prepared, split: Split, config: TrainConfig, sizes=(16, 32, 64), progress=None,
              log=lambda message: None) -> pd.DataFrame:
    """Validation accuracy of one model trained at each input size, all else equal. progress(phase), when given,
    is the update(done, total) of each size's training steps (phase "<size> px")."""
    rows = []
    for size in sizes:
        cfg = dataclasses.replace(config, input_size=size)
        t = load_tensors(prepared, split, cfg)
        run_dir = runs.new_run_dir(prepared.workspace, f"{cfg.model}-{size}px")
        extra = {"kind": "tolerance", "split": split.how}
        result = train(t, cfg, run_dir, progress=progress and progress(f"{size} px"), extra_config=extra).result
        rows.append({"input_size": size, "val_acc": result.val_acc, "val_loss": result.val_loss,
                     "train_loss": result.train_loss, "run": run_dir.name})
        log(f"{size:>4} px: val acc {result.val_acc:.3f}, val loss {result.val_loss:.4f}")
    table = pd.DataFrame(rows)
    runs.write_json(prepared.workspace, "tolerance.json", {"model": config.model, "rows": rows})
    return table
