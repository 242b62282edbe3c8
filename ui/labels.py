"""Tables for the Label issues and Human baseline pages: what `python -m baselines label-issues` wrote to the
workspace's label_issues/ folder, and the human sheet kept in human_baseline.json. Pure functions over
DataFrames and dicts, plus the two small readers/writers of those files; no Streamlit, no torch."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from baselines import runs
from baselines.fit import weak_model  # noqa: F401  (the Label issues page asks it here)
from inspectors.schema import FINDING_COLUMNS
from inspectors.sheets import read_sheet
from inspectors.workspace import atomic_write_text
from ui import launcher, training

PREDICTION_COLUMNS = ["path", "label", "split", "predicted", "p_label", "p_predicted", "loss", "fold"]
UNANSWERED = "—"


# ---- label issues --------------------------------------------------------------------------------------------

def read_label_issues(workspace: Path) -> dict:
    """findings, predictions (DataFrames, empty when absent or damaged), confusion and facts (dicts) of
    label_issues/."""
    folder = Path(workspace) / launcher.LABEL_ISSUES
    needs = {"findings": FINDING_COLUMNS, "predictions": PREDICTION_COLUMNS[:6]}  # fold: not in older files
    out = {name: pd.DataFrame(columns=columns) for name, columns in needs.items()}
    for name, columns in needs.items():
        try:
            table = read_sheet(folder / f"{name}.csv", dtype={"path": str, "label": str, "predicted": str,
                                                              "group": str})
        except (OSError, ValueError):  # absent, empty or damaged (the app names a damaged one)
            continue
        if all(c in table.columns for c in columns):
            out[name] = table
    out["confusion"] = runs.read_json(folder, "confusion.json", {}) or {}
    out["facts"] = runs.read_json(folder, "facts.json", {}) or {}
    return out


def suspects(findings: pd.DataFrame, predictions: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    """One row per suspected mislabel, most suspicious first: path, given, predicted, confidence (the model's
    probability of its own prediction), p_given, score (1 = most suspicious), loss, split, mark, detail."""
    found = findings[findings["issue"] == "label_issue"] if "issue" in findings else findings
    columns = ["path", "given", "predicted", "confidence", "p_given", "score", "loss", "split", "mark", "detail"]
    if found.empty:
        return pd.DataFrame(columns=columns)
    pred = predictions.drop_duplicates("path").set_index("path")
    table = found[["path", "score", "detail"]].copy()
    table["given"] = table["path"].map(pred["label"]) if "label" in pred else ""
    # the class the verdict suggests (the confident class; results from before it: the model's top class)
    suggested = "suggested" if "suggested" in pred else "predicted"
    table["predicted"] = table["path"].map(pred[suggested]) if suggested in pred else ""
    table["confidence"] = table["path"].map(pred["p_predicted"]) if "p_predicted" in pred else np.nan
    table["p_given"] = table["path"].map(pred["p_label"]) if "p_label" in pred else np.nan
    table["loss"] = table["path"].map(pred["loss"]) if "loss" in pred else np.nan
    table["split"] = table["path"].map(pred["split"]) if "split" in pred else ""
    marked = mark_text(marks)
    table["mark"] = [marked.get(path, "") for path in table["path"]]
    for column in ("given", "predicted", "split"):  # object first: all-NaN (no predictions) is a float column
        table[column] = table[column].astype(object).fillna("")
    return table.sort_values(["score", "path"], ascending=[False, True])[columns].reset_index(drop=True)


def mark_text(marks: pd.DataFrame) -> dict:
    """{path: "keep" | "remove" | "relabel → x"} from the review store's marks."""
    if marks is None or marks.empty:
        return {}
    return {r.path: (f"relabel → {r.new_label}" if r.decision == "relabel" else r.decision)
            for r in marks.itertuples()}


def class_examples(predictions: pd.DataFrame, n: int = 3) -> dict:
    """{class: up to n paths} of images the model, never trained on them, is surest are of their given class
    (label == predicted, highest p_label; images not judged or suspected left out): what a class looks like,
    set beside a suggestion so a person can compare the picture with both classes."""
    if predictions.empty or not {"label", "predicted", "p_label"} <= set(predictions.columns):
        return {}
    rows = predictions[predictions["label"].astype(str) == predictions["predicted"].astype(str)]
    if "unreliable" in rows:
        rows = rows[rows["unreliable"].fillna("").astype(str) == ""]
    if "suspect" in rows:
        rows = rows[~rows["suspect"].astype(str).str.lower().isin(("true", "1"))]
    rows = rows.sort_values(["p_label", "path"], ascending=[False, True])
    return {str(label): list(group["path"].head(n)) for label, group in rows.groupby("label", sort=True)}


def ranked(predictions: pd.DataFrame) -> pd.DataFrame:
    """Every judged image, most suspicious first (rank_score, 1 = the model all but rules out the given label;
    results from before the ranking: by loss): the list a person pages through past the flagged few."""
    if predictions.empty:
        return predictions
    order = "rank_score" if "rank_score" in predictions else "loss"
    rows = predictions
    if "unreliable" in rows:
        rows = rows[rows["unreliable"].fillna("").astype(str) == ""]
    columns = [c for c in ("path", "label", "suggested", "predicted", "p_label", "p_predicted", "rank_score",
                           "suspect", "split") if c in rows]
    return rows.sort_values([order, "path"], ascending=[False, True])[columns].reset_index(drop=True)


def top_losses(predictions: pd.DataFrame, n: int = 50) -> pd.DataFrame:
    """The n images the out-of-sample model found hardest (highest loss on the given label)."""
    if predictions.empty:
        return predictions
    columns = [c for c in ("path", "label", "predicted", "p_label", "p_predicted", "loss", "split", "fold",
                           "unreliable") if c in predictions]  # unreliable: the inspector findings that set it aside
    return predictions.sort_values(["loss", "path"], ascending=[False, True]).head(n)[columns].reset_index(drop=True)


def confusion_frame(confusion: dict) -> pd.DataFrame:
    """Rows = given label, columns = predicted label, values = images."""
    classes = confusion.get("classes", [])
    matrix = confusion.get("matrix", [])
    if not classes or not matrix:
        return pd.DataFrame()
    return pd.DataFrame(matrix, index=pd.Index(classes, name="given"), columns=pd.Index(classes, name="predicted"))


# ---- the human baseline ----------------------------------------------------------------------------------------

def candidates(samples: pd.DataFrame) -> pd.DataFrame:
    """Images a person may be asked about: labelled, decodable, from the val split (all of them when the
    dataset has no val split)."""
    usable = samples[samples["ok"].fillna(False).astype(bool) & samples["label"].fillna("").astype(str).ne("")]
    val = usable[usable["split"].fillna("").astype(str) == "val"]
    return (val if len(val) else usable)[["path", "label"]].reset_index(drop=True)


def draw_sheet(pool: pd.DataFrame, n: int, seed: int, now: float | None = None) -> dict:
    """n images drawn from the pool with a seed (the same seed, the same sheet); no labels on it."""
    picked = pool.sample(n=min(n, len(pool)), random_state=seed) if len(pool) else pool
    return {"seed": int(seed), "n": int(len(picked)), "paths": list(picked["path"]), "answers": {},
            "created": time.time() if now is None else now, "submitted": None, "seconds": None}


def answer_sheet(sheet: dict, answers: dict, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    kept = {p: a for p, a in answers.items() if p in sheet["paths"] and a and a != UNANSWERED}
    return {**sheet, "answers": kept, "submitted": now, "seconds": round(now - sheet["created"], 1)}


def load_sheet(workspace: Path) -> dict | None:
    try:
        sheet = json.loads((Path(workspace) / training.HUMAN_FILE).read_text())
    except (OSError, ValueError):  # absent, or damaged (the app names it): no sheet
        return None
    return sheet if isinstance(sheet, dict) and isinstance(sheet.get("paths"), list) else None


def save_sheet(workspace: Path, sheet: dict) -> None:
    atomic_write_text(Path(workspace) / training.HUMAN_FILE, json.dumps(sheet, indent=1))


def model_predictions(workspace: Path) -> tuple[str | None, dict]:
    """(run id, {path: predicted label}) of the newest finished training run with val predictions."""
    for folder in launcher.run_folders(workspace):
        if launcher.run_kind(folder) != "train" or not (folder / "val_predictions.csv").exists():
            continue
        if launcher.job_status(folder)["state"] != "finished":
            continue
        table = read_sheet(folder / "val_predictions.csv", dtype=str)
        return folder.name, dict(zip(table["path"], table["predicted"], strict=True))
    return None, {}


def score_sheet(sheet: dict, truth: dict, model: dict) -> tuple[dict, pd.DataFrame]:
    """({answered, correct, human_acc, model_n, model_correct, model_acc, seconds}, one row per image: number,
    path, answer, label, right, model, model_right). Unanswered images count as wrong; the model is scored on
    the images it has a prediction for."""
    rows = []
    for i, path in enumerate(sheet["paths"]):
        answer, label, predicted = sheet["answers"].get(path, ""), truth.get(path, ""), model.get(path)
        rows.append({"image": i + 1, "path": path, "your answer": answer or "(none)", "label": label,
                     "you": bool(answer) and answer == label, "model": predicted or "",
                     "model right": None if predicted is None else predicted == label})
    table = pd.DataFrame(rows, columns=["image", "path", "your answer", "label", "you", "model", "model right"])
    scored = table[table["model right"].notna()]
    n = len(table)
    facts = {"images": n, "answered": int((table["your answer"] != "(none)").sum()), "correct": int(table["you"].sum()),
             "human_acc": float(table["you"].mean()) if n else float("nan"), "model_n": len(scored),
             "model_correct": int(scored["model right"].astype(bool).sum()),
             "model_acc": float(scored["model right"].astype(bool).mean()) if len(scored) else float("nan"),
             "seconds": sheet.get("seconds")}
    return facts, table
