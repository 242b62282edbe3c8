"""Run folders and label-issue results written directly, the way `python -m baselines` writes them, so page
tests do not wait for torch. tests/ui/test_launcher.py also launches the real CLI once."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from baselines import runs
from inspectors import jobs


def finished_run(workspace: Path, name: str, val_paths: list[str], classes: list[str], labels: list[str],
                 width: int = 16, dropout: float = 0.0, steps: int = 40, final_train: float = 0.2,
                 final_val: float = 0.9, kind: str = "train", state: str = "finished") -> Path:
    """A finished training run: config, status, metrics (train every step, eval every 10), fixed batch and its
    predictions, result, val predictions (the model right on every other image) and a confusion matrix."""
    folder = Path(workspace) / runs.RUNS / name
    folder.mkdir(parents=True)
    runs.write_json(folder, "config.json", {"kind": kind, "input_size": 32, "classes": classes, "train": {
        "model": "tiny_cnn", "width": width, "input_size": 0, "epochs": 2, "max_steps": steps, "batch_size": 32,
        "lr": 3e-4, "weight_decay": 0.0, "dropout": dropout, "augment": "none", "early_stopping": 0, "seed": 0}})
    runs.write_json(folder, jobs.FILE, {"command": kind, "state": state, "pid": None, "phase": "train",
                                        "done": steps, "total": steps, "message": ""})
    records = []
    for step in range(1, steps + 1):
        t = step / steps
        records.append({"kind": "train", "step": step, "epoch": t * 2, "loss": 2.3 - (2.3 - final_train) * t})
        if step % 10 == 0:
            records.append({"kind": "eval", "step": step, "epoch": t * 2, "val_loss": 2.3 - (2.3 - final_val) * t,
                            "val_acc": 0.1 + 0.6 * t, "train_loss": 2.3 - (2.3 - final_train) * t})
    runs.append_jsonl(folder / "metrics.jsonl", records)
    fixed = val_paths[:4]
    fixed_labels = labels[:4]
    runs.write_json(folder, "fixed_batch.json", {"paths": fixed, "labels": fixed_labels, "classes": classes})
    predictions = []
    for step in (0, 10, 20, 30, 40):
        probs = []
        for label in fixed_labels:
            p = np.full(len(classes), (1 - step / 50) / len(classes))
            p[classes.index(label)] += step / 50
            probs.append(p.round(4).tolist())
        predictions.append({"step": step, "probs": probs})
    runs.append_jsonl(folder / "fixed_predictions.jsonl", predictions)
    runs.write_json(folder, "result.json", {"state": state, "steps": steps, "val_loss": final_val,
                                            "val_acc": 0.7, "train_loss": final_train})
    predicted = [label if i % 2 == 0 else classes[(classes.index(label) + 1) % len(classes)]
                 for i, label in enumerate(labels)]
    pd.DataFrame({"path": val_paths, "label": labels, "predicted": predicted, "p_label": 0.5, "p_predicted": 0.6,
                  "loss": 0.7}).to_csv(folder / "val_predictions.csv", index=False)
    runs.write_json(folder, "confusion.json", {"classes": classes, "matrix": np.eye(len(classes), dtype=int).tolist()})
    return folder


def add_checks(folder: Path, failing: str = "loss_decreases") -> None:
    """checks.json with every verdict (one failing) and two what-enters image pairs."""
    names = ["init_loss", "what_enters", "batch_independence", "overfit_one_batch", "reproducible", "loss_decreases",
             "input_independent"]
    verdicts = [{"name": n, "title": n.replace("_", " ").capitalize(), "passed": n != failing,
                 "measured": f"measured {n}", "expected": f"expected {n}", "explanation": f"why {n} matters",
                 "todo": f"fix {n}", "evidence": {}} for n in names]
    verdicts[1]["evidence"] = {"samples": [{"path": "train/a.png", "label": "circle", "difference": 0.01, "flag": ""},
                                           {"path": "train/b.png", "label": "square", "difference": 0.3,
                                            "flag": "RGB/BGR channels swapped"}],
                               "stats": {"shape": [2, 3, 32, 32], "dtype": "float32", "channel_mean": [0.0, 0.1, 0.0],
                                         "channel_std": [1.0, 1.0, 1.0], "min": -2.0, "max": 2.0,
                                         "normalise_mean": [0.5, 0.5, 0.5], "normalise_std": [0.2, 0.2, 0.2]}}
    runs.write_json(folder, "checks.json", verdicts)
    pairs = folder / "what_enters"
    pairs.mkdir()
    for k in range(2):
        Image.new("RGB", (32, 32), (200, 20, 20)).save(pairs / f"{k:02d}_file.png")
        Image.new("RGB", (32, 32), (20, 20, 200) if k else (200, 20, 20)).save(pairs / f"{k:02d}_network.png")


def label_issue_results(workspace: Path, paths: list[str], labels: list[str], classes: list[str],
                        suspects: int = 3) -> None:
    """label_issues/: the first `suspects` images flagged, predicted as the next class."""
    folder = Path(workspace) / "label_issues"
    folder.mkdir(parents=True, exist_ok=True)
    predicted = [classes[(classes.index(label) + 1) % len(classes)] if i < suspects else label
                 for i, label in enumerate(labels)]
    pd.DataFrame({"path": paths, "label": labels, "split": "train", "predicted": predicted,
                  "p_label": [0.05 if i < suspects else 0.9 for i in range(len(paths))],
                  "p_predicted": [0.9] * len(paths), "loss": [3.0 - 0.1 * i if i < suspects else 0.1
                                                               for i in range(len(paths))],
                  "fold": [i % 2 for i in range(len(paths))]}).to_csv(folder / "predictions.csv", index=False)
    pd.DataFrame({"path": paths[:suspects], "issue": "label_issue",
                  "score": [1.0 - 0.1 * i for i in range(suspects)], "group": "",
                  "detail": [f"labelled {labels[i]}, predicted {predicted[i]}" for i in range(suspects)]}).to_csv(
        folder / "findings.csv", index=False)
    matrix = np.eye(len(classes), dtype=int) * 5
    (folder / "confusion.json").write_text(json.dumps({"classes": classes, "matrix": matrix.tolist()}))
    (folder / "facts.json").write_text(json.dumps({"samples": len(paths), "folds": 2, "oos_accuracy": 0.8,
                                                   "found": suspects, "unreliable": 2,
                                                   "unreliable_issues": ["dark", "outlier"]}))
