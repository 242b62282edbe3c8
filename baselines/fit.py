"""How a trained baseline fits, in the recipe's words: underfits, overfits or fits, judged against the
majority-class baseline and the gap between the training and validation loss, with the recipe's next step.
verdict() is pure, numbers in and words out; of_run() reads a run folder for it (the CLI and the Baselines
page show it)."""

import math
from pathlib import Path

from . import runs

UNDERFIT_GAP = 0.15  # val loss within 15 % of the train loss: the model has not learnt more than generalises
LEARNT_LITTLE = 0.5  # train loss still at half the loss at init or more
RISEN = 1.10  # the last val loss 10 % above its best: it has started to overfit
OVERFIT_GAP = 1.0  # val loss more than twice the train loss


def verdict(train_loss: float, val_loss: float, val_acc: float, best_val_loss: float, best_step,
            init_loss: float, majority: float | None) -> dict:
    """{"fit": underfits | overfits | fits | unknown, "why": ..., "next": ...}."""
    numbers = (train_loss, val_loss, val_acc)
    if any(x is None or not math.isfinite(x) for x in numbers):
        return {"fit": "unknown", "why": "no evaluation yet", "next": ""}
    vs = (f"validation accuracy {val_acc:.0%} against {majority:.0%} for always answering the commonest class"
          if majority is not None else f"validation accuracy {val_acc:.0%}")
    gap = (val_loss - train_loss) / max(train_loss, 1e-6)
    rose = best_val_loss is not None and math.isfinite(best_val_loss) and val_loss > RISEN * best_val_loss + 1e-3
    if rose or (gap > OVERFIT_GAP and train_loss < LEARNT_LITTLE * init_loss):
        why = (f"the validation loss rose to {val_loss:.3f} from its best {best_val_loss:.3f} (step {best_step})"
               if rose else f"the validation loss {val_loss:.3f} is {gap + 1:.1f}x the training loss {train_loss:.3f}")
        return {"fit": "overfits", "why": f"{why}; {vs}",
                "next": "Step 4 of the recipe, regularize, one knob at a time: more data, augmentation, weight "
                        "decay, dropout, early stopping at the best validation loss; keep what narrows the gap "
                        "without losing validation accuracy."}
    if train_loss >= LEARNT_LITTLE * init_loss or gap < UNDERFIT_GAP:
        why = (f"the training loss {train_loss:.3f} is still {train_loss / init_loss:.0%} of the loss at init "
               f"{init_loss:.3f}" if train_loss >= LEARNT_LITTLE * init_loss else
               f"the validation loss {val_loss:.3f} is within {max(gap, 0):.0%} of the training loss {train_loss:.3f}")
        return {"fit": "underfits", "why": f"{why}; {vs}",
                "next": "Step 3 of the recipe, overfit: a bigger model (more width or layers), more epochs or a "
                        "higher learning rate, no regularization, until the training loss falls well below the "
                        "validation loss. Only then regularize."}
    return {"fit": "fits", "why": f"the training loss {train_loss:.3f} is below the validation loss {val_loss:.3f} "
                                  f"and the validation loss has not risen; {vs}",
            "next": "Step 5 of the recipe, tune: the learning rate and its schedule, then the model's size, one at "
                    "a time against the validation loss."}


def of_run(folder) -> dict:
    """verdict() of a run folder: its last evaluation, its best validation loss, the loss at init it expected
    and the commonest class's share of its training set (result.json, metrics.jsonl, config.json)."""
    _, evals = runs.metrics(folder)
    config = runs.read_json(folder, "config.json", {}) or {}
    result = runs.read_json(folder, "result.json", {}) or {}
    if not len(evals):
        return verdict(float("nan"), float("nan"), float("nan"), None, None, 1.0, None)
    last, best = evals.iloc[-1], evals.loc[evals["val_loss"].idxmin()]
    priors = config.get("class_priors") or []
    init = result.get("expected_init_loss") or config.get("expected_init_loss") or math.log(max(len(priors), 2))
    train_loss = last.get("train_loss")
    return verdict(float(train_loss) if train_loss is not None else float("nan"), float(last["val_loss"]),
                   float(last["val_acc"]), float(best["val_loss"]), int(best["step"]), float(init),
                   max(priors) if priors else None)


def sweep(verdicts: dict) -> dict | None:
    """What a downsampling-tolerance sweep's fit says about it, given {input size: verdict()}: None when no
    run underfits; else the underfitting sizes, whether they are all of them, a sentence and the recipe's next
    step. An underfit run is limited by its training, not its input size, so its accuracy says little about
    how much resolution the task needs."""
    under = sorted(size for size, judged in verdicts.items() if judged.get("fit") == "underfits")
    if not under:
        return None
    every = len(under) == len(verdicts)
    sizes = ", ".join(f"{s} px" for s in under)
    text = (f"Every run of this sweep underfits ({sizes}): the curve measures how far the training went, not what "
            "the resolution allows." if every else
            f"{len(under)} of {len(verdicts)} runs of this sweep underfit ({sizes}): their accuracy is held back by "
            "the training, so the curve there understates what those sizes allow.")
    return {"sizes": under, "all": every, "text": text,
            "next": "Make one run overfit first (step 3 of the recipe: a wider model, more epochs or a higher "
                    "learning rate, no regularization), then measure the sweep again with those settings."}


def of_sweep(workspace, rows) -> dict | None:
    """sweep() of the runs a tolerance.json lists (rows with input_size and run), read from their folders."""
    verdicts = {int(row["input_size"]): of_run(Path(workspace) / runs.RUNS / str(row["run"]))
                for row in rows if row.get("run")}
    return sweep(verdicts)


def weak_model(facts: dict, min_accuracy: float = 0.7, max_share: float = 0.2) -> bool:
    """Whether the out-of-sample model is too weak for its suspects to mean much: accuracy below min_accuracy,
    or more than max_share of the images suspected (real label noise is rarely that common). Results written
    since the volume rule (baselines/volume.py) carry the verdict it reached: that one counts."""
    if "weak_model" in facts:
        return bool(facts["weak_model"])
    samples, acc = facts.get("samples") or 0, facts.get("oos_accuracy")
    return bool(samples) and ((acc is not None and acc < min_accuracy) or facts.get("found", 0) > max_share * samples)
