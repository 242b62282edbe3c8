"""Baselines for the pages: turn the files a run writes (json, jsonl, csv, png) into tables for the charts.

Never imports torch (a slow import). Every function below that takes tables and returns a table is pure; the page
only draws what they return. Launching and following the background process is ui/launcher.py.
"""

import base64
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from baselines import runs
from ui.launcher import TOLERANCE_FILE, job_status, run_folders, run_kind

HUMAN_FILE = "human_baseline.json"
KNOBS = ("model", "width", "input_size", "epochs", "max_steps", "batch_size", "lr", "dropout", "weight_decay",
         "augment", "early_stopping", "seed")  # what the compare table looks at, in this order


def smooth(values: pd.Series, weight: float = 0.9) -> pd.Series:
    """An exponential moving average, TensorBoard's smoothing: each point keeps `weight` of the one before
    (0 = the raw values). Per-step losses are noisy; the trend is what a person reads."""
    if not len(values) or weight <= 0:
        return values
    return values.ewm(alpha=1 - min(float(weight), 0.999), adjust=False).mean()


def fixed_batch_heatmap(fixed: dict, predictions: list[dict]) -> pd.DataFrame:
    """Rows = the fixed images ("#1 circle"), columns = evaluation steps, values = probability of the true class."""
    classes, labels = fixed.get("classes", []), fixed.get("labels", [])
    index = {c: i for i, c in enumerate(classes)}
    rows = [f"#{i + 1} {label}" for i, label in enumerate(labels)]
    columns = {}
    for record in predictions:
        probs = record["probs"]
        columns[record["step"]] = [probs[i][index[label]] if i < len(probs) and label in index else np.nan
                                   for i, label in enumerate(labels)]
    return pd.DataFrame(columns, index=rows, dtype=float).rename_axis(index="image", columns="step")


def latest_probabilities(fixed: dict, predictions: list[dict], top: int = 3) -> list[dict]:
    """probabilities_at() the latest evaluation."""
    return probabilities_at(fixed, predictions, None, top)


def probabilities_at(fixed: dict, predictions: list[dict], step: int | None, top: int = 3) -> list[dict]:
    """Per fixed image at the evaluation of `step` (None or a step never evaluated: the latest): path, label,
    step, the `top` classes (class, p, true) and the true class's p (also when it is not among them), and
    whether the top class is right."""
    if not predictions:
        return []
    last = next((r for r in reversed(predictions) if r["step"] == step), predictions[-1])
    classes = fixed.get("classes", [])
    out = []
    for i, (path, label) in enumerate(zip(fixed.get("paths", []), fixed.get("labels", []), strict=False)):
        if i >= len(last["probs"]):
            break
        p = np.asarray(last["probs"][i], dtype=float)
        order = np.argsort(-p, kind="stable")[:top]
        bars = [{"class": classes[k], "p": float(p[k]), "true": classes[k] == label} for k in order]
        p_true = float(p[classes.index(label)]) if label in classes else float("nan")
        out.append({"path": path, "label": label, "step": last["step"], "bars": bars, "p_true": p_true,
                    "correct": bool(bars and bars[0]["true"])})
    return out


def step_shown(pinned, steps: list[int]):
    """The step a scrubber shows: the one the person pinned, else (none pinned, or one this run never
    evaluated) the newest, so that an untouched scrubber follows the run as it trains."""
    if not steps:
        return None
    return pinned if pinned in steps else steps[-1]


def step_pinned(chosen, steps: list[int]):
    """What a person's move of the scrubber pins: that step, or nothing (follow the run) when they moved it
    to the newest evaluation."""
    return None if not steps or chosen == steps[-1] else chosen


def run_summary(folder: Path) -> dict:
    """A run's knobs and its final numbers: the last evaluation (also while it runs), else result.json."""
    folder = Path(folder)
    config = runs.read_json(folder, "config.json", {}) or {}
    knobs = {k: v for k, v in (config.get("train") or {}).items() if k in KNOBS}
    if config.get("input_size"):
        knobs["input_size"] = config["input_size"]  # the size it trained at (0 in the knobs = chosen from the scan)
    _, evals = runs.metrics(folder)
    result = runs.read_json(folder, "result.json", {}) or {}
    last = evals.iloc[-1].to_dict() if len(evals) else {}
    train_loss = last.get("train_loss", result.get("train_loss"))
    val_loss, val_acc = last.get("val_loss", result.get("val_loss")), last.get("val_acc", result.get("val_acc"))
    best = evals.loc[evals["val_loss"].idxmin()] if len(evals) else None
    return {"run": folder.name, **runs.read_notes(folder), "state": job_status(folder)["state"],
            "steps": int(last.get("step", 0) or 0),
            **knobs, "train_loss": _number(train_loss), "val_loss": _number(val_loss), "val_acc": _number(val_acc),
            "gap": _number(val_loss) - _number(train_loss),
            "best_val_loss": _number(best["val_loss"]) if best is not None else float("nan"),
            "best_step": int(best["step"]) if best is not None else None}


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out if math.isfinite(out) else float("nan")


def compare_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per run: the knobs whose values differ between the runs (all of them when only one run),
    then steps, final train loss, val loss, val acc, the gap (val - train loss) and the best val loss."""
    if not summaries:
        return pd.DataFrame()
    table = pd.DataFrame(summaries)
    knobs = [k for k in KNOBS if k in table.columns]
    differ = [k for k in knobs if len(summaries) == 1 or table[k].astype(str).nunique() > 1]
    numbers = ["steps", "train_loss", "val_loss", "val_acc", "gap", "best_val_loss", "best_step"]
    named = ["name"] if table.get("name", pd.Series(dtype=str)).fillna("").ne("").any() else []
    noted = ["note"] if table.get("note", pd.Series(dtype=str)).fillna("").ne("").any() else []
    return table[["run"] + named + ["state"] + differ + numbers + noted].reset_index(drop=True)


def run_names(summaries: list[dict]) -> dict:
    """{run: a name for chart legends: the name a person gave it, else the run id; then the knobs that differ,
    e.g. "wide, no dropout (dropout 0.0)"}."""
    table = compare_table(summaries)
    knobs = [c for c in table.columns if c in KNOBS] if len(table) > 1 else []
    names = {}
    for row in table.to_dict("records"):
        differ = ", ".join(f"{k.replace('_', ' ')} {row[k]}" for k in knobs)
        names[row["run"]] = (row.get("name") or row["run"]) + (f" ({differ})" if differ else "")
    return names


def chance_accuracy(summary: dict, split: str = "val") -> float | None:
    """Accuracy of always answering the split's most frequent class (summary.json's class counts)."""
    counts = (summary.get("class_counts") or {}).get(split) or {}
    total = sum(counts.values())
    return max(counts.values()) / total if total else None


def compare_curves(folders: list[Path]) -> pd.DataFrame:
    """Long table for overlaid curves: run, epoch, step, curve ("train loss" / "val loss" / "val acc"), value.
    Train loss is the loop's running mean at each evaluation, so both losses share the x points."""
    parts = []
    for folder in folders:
        _, evals = runs.metrics(folder)
        if evals.empty:
            continue
        for column, curve in (("train_loss", "train loss"), ("val_loss", "val loss"), ("val_acc", "val acc")):
            part = evals[["step", "epoch", column]].rename(columns={column: "value"}).dropna()
            parts.append(part.assign(run=Path(folder).name, curve=curve))
    if not parts:
        return pd.DataFrame(columns=["run", "epoch", "step", "curve", "value"])
    return pd.concat(parts, ignore_index=True)[["run", "epoch", "step", "curve", "value"]]


def list_trained(workspace: Path, kinds=("train", "check", "tolerance")) -> pd.DataFrame:
    """Runs that trained a model, newest first: run, kind, model, state, val_acc and a label for pickers."""
    rows = []
    for folder in run_folders(workspace):
        kind = run_kind(folder)
        if kind not in kinds:
            continue
        s = run_summary(folder)
        acc = f" · val acc {s['val_acc']:.0%}" if s["val_acc"] == s["val_acc"] else ""
        model = s.get("model") or ""
        named = f"{s['name']} · " if s["name"] else ""
        rows.append({"run": folder.name, "name": s["name"], "kind": kind, "model": model, "state": s["state"],
                     "val_acc": s["val_acc"], "label": f"{named}{folder.name} ({kind}, {s['state']}{acc})"})
    return pd.DataFrame(rows, columns=["run", "name", "kind", "model", "state", "val_acc", "label"])


def what_enters_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(file image, network image) pairs the `what enters` check saved, in order."""
    pairs = []
    for file_png in sorted((Path(folder) / "what_enters").glob("*_file.png")):
        network = file_png.with_name(file_png.name.replace("_file.png", "_network.png"))
        if network.exists():
            pairs.append((file_png, network))
    return pairs


def tolerance_frame(workspace: Path) -> tuple[str, pd.DataFrame]:
    """(model, rows: input_size, val_acc, val_loss, train_loss, run) from the workspace's tolerance.json."""
    found = runs.read_json(workspace, TOLERANCE_FILE, {}) or {}
    table = pd.DataFrame(found.get("rows", []), columns=["input_size", "val_acc", "val_loss", "train_loss", "run"])
    return found.get("model", ""), table.sort_values("input_size").reset_index(drop=True)


def data_uri(data: bytes | None) -> str | None:
    """Image bytes as a data: URI (st.column_config.ImageColumn does not show local files)."""
    if not data:
        return None
    mime = ("image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/webp" if data[8:12] == b"WEBP"
            else "image/gif" if data[:4] == b"GIF8" else "image/jpeg")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def fit_width(image, side: int) -> int:
    """Width to show an image (bytes or a PIL image) at so that neither side exceeds `side` px: a very tall
    image must not stretch a grid cell to ten times its width."""
    try:
        w, h = image.size if isinstance(image, Image.Image) else Image.open(io.BytesIO(image)).size
    except Exception:  # not an image we can measure: the plain width
        return side
    return max(8, round(side * min(1.0, w / h))) if w and h else side
