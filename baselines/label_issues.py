"""Out-of-sample predictions of the baseline point back at the data: likely mislabelled samples.

Every labelled image gets a predicted distribution from a model that never trained on it (k-fold cross-
validation), and confident learning (Northcutt et al., 2021) turns those into `label_issue` findings: a
sample is suspect when the model is confidently sure of another class — confident meaning above that
class's own average self-confidence, so a class the model finds hard does not flood the list — and (the
default filter, "both") among the count per class that the confident joint estimates to be mislabelled.
How many of those are flagged, and whether a strong model's other disagreements join them, is volume.py's rule.

Images the inspectors already found wrong as pictures (UNRELIABLE: dark, washed out, flat, strips, odd sizes,
outliers) get a prediction but no verdict on their label: the model's disagreement there says "bad image",
not "bad label", and the user sees them under their own finding. They neither set the per-class thresholds
nor count in the noise-rate estimate, and predictions.csv names the finding that set them aside.

Copies the inspectors found filed under different labels (conflicting_labels) are judged together as well:
one of their labels is wrong for sure, and the copies' averaged predictions say which (conflicting_copies)."""

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from inspectors import findings as F
from inspectors.run import read_findings, write_findings
from inspectors.schema import FINDING_COLUMNS
from inspectors.sheets import write_sheet
from inspectors.workspace import atomic_write_text

from . import crossfit, fold_jobs, probe, volume
from .config import TrainConfig, config_to_dict
from .data import MAX_AUTO_SIZE, SIZE_CHOICES, Prepared, class_problem, tensor_cache, usable
from .train import pick_device
from .verdicts import (  # noqa: F401  (the verdict's parts, named here as before)
    DEFAULT_FILTER,
    FILTERS,
    confident_learning,
    conflicting_copies,
    judge,
    prune_by_noise_rate,
    suggest,
)

FOLDER = "label_issues"
SMALL_ENOUGH = 20_000  # up to this many images, 5 folds; above, 2 (each image still predicted out of sample)
# Inspector findings that make an image no fair test of its label (the picture itself is off). Not blurry (a
# blurred shape is still a shape; the blur inspector also flags smooth normal images), nor odd_mode or
# format_mismatch (the pixels are normal once decoded to RGB), nor duplicates (conflicting copies are real
# label problems). Measured on the sample data (default filter, 64 px): flagged / found 56 / 23 -> 35 / 21
# (shapes), 61 / 24 -> 43 / 23 (shapes_csv); none of the planted mislabels is among them.
UNRELIABLE = ("low_information", "outlier", "odd_size", "odd_aspect_ratio", "dark", "light")


def inspector_findings(workspace) -> pd.DataFrame:
    """The workspace's findings.csv, as the inspectors wrote it (no rows when there is none)."""
    file = Path(workspace) / "findings.csv"
    return read_findings(file) if file.exists() else pd.DataFrame(columns=FINDING_COLUMNS)


def _per_path(paths, values: pd.Series) -> np.ndarray:
    """values (indexed by path) looked up for each path, "" where a path has none."""
    lookup = values.to_dict()
    return np.array([lookup.get(path, "") for path in paths], dtype=object)


def unreliable_images(findings: pd.DataFrame, paths, issues=UNRELIABLE) -> np.ndarray:
    """Per path, the inspector findings (comma-joined, "" for none) that make its label untestable."""
    findings = findings[findings["issue"].isin(issues)]
    return _per_path(paths, findings.groupby("path")["issue"].agg(lambda s: ",".join(sorted(set(s)))))


def conflict_groups(findings: pd.DataFrame, paths) -> np.ndarray:
    """Per path, its conflicting_labels group among the inspectors' findings ("" for none)."""
    findings = findings[findings["issue"] == "conflicting_labels"].drop_duplicates("path")
    return _per_path(paths, pd.Series(findings["group"].astype(str).to_numpy(), index=findings["path"].to_numpy()))


def input_size(samples: pd.DataFrame, cap: int = MAX_AUTO_SIZE) -> int:
    """The standard side nearest (by ratio) the median short side, up to `cap`. Training's rule never upscales
    (62 px images -> 32); label issues want the best predictor the CPU allows, and on the sample data (62 px)
    64 px lifted out-of-sample accuracy 0.63 -> 0.70 (shapes_csv) for 3x the CPU."""
    rows = usable(samples)
    short = np.minimum(rows["width"].to_numpy(float), rows["height"].to_numpy(float)) if len(rows) else []
    median = float(np.median(short)) if len(short) else 32.0
    fitting = [s for s in SIZE_CHOICES if s <= cap] or [SIZE_CHOICES[0]]
    return min(fitting, key=lambda s: (abs(np.log(s / max(median, 1.0))), s))


def out_of_sample(prepared: Prepared, rows: pd.DataFrame, config: TrainConfig, k: int, progress=None,
                  log=lambda message: None, workers: int = 0,
                  client=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list, int]:
    """(probabilities (N, C), fold per row, ok mask, files that no longer decode, epochs per fold). Folds keep
    each duplicate group whole; finished folds are kept under label_issues/folds/<run key>/ and reused."""
    size = config.input_size or input_size(prepared.samples)
    device = pick_device(config.device)
    if device.type == "cpu":
        torch.set_num_threads(max(1, config.threads))
    images, ok, failed = tensor_cache(prepared, rows, size)
    targets = rows["target"].to_numpy().copy()  # pandas hands out read-only views
    groups = crossfit.duplicate_groups(inspector_findings(prepared.workspace), rows["path"])
    folds = crossfit.assign_folds(targets, k, config.seed, groups)
    classes = sorted(rows["label"].astype(str).unique())
    x_all = torch.from_numpy(np.array(images)).to(device)  # a copy: the memmap is read-only
    if config.backbone:
        log(f"{k}-fold linear probe on {config.backbone} features ({config.pretrained}) at {size} px on {device}")
        backbone = probe.load_backbone(config.backbone, config.pretrained).to(device)
        chosen = probe.features(backbone, x_all[torch.as_tensor(np.flatnonzero(ok), device=device)], progress=progress)
        features = np.zeros((len(rows), chosen.shape[1]), np.float32)
        features[ok] = chosen
        return probe.linear_probe(features, targets, ok, folds, len(classes), config.seed, log), folds, ok, failed, 0
    epochs = crossfit.epochs_for(config, int(ok.sum()), k, device.type)
    cfg = dataclasses.replace(config, input_size=size, epochs=epochs)
    # device and threads say how, not what: a rerun on another device still finds the folds done
    key = crossfit.run_key(dataclasses.replace(cfg, device="", threads=1), rows["path"], folds, size, epochs)
    saved = prepared.workspace / FOLDER / "folds" / key
    if saved.parent.exists():  # folds of other settings or data can never be reused
        for old in saved.parent.iterdir():
            if old.name != key:
                shutil.rmtree(old, ignore_errors=True)
    whole = len(set(groups) - {""})
    log(f"{k} folds of {config.model} at {size} px on {device}, up to {epochs} epochs each, {int(ok.sum())} images"
        + (f"; {whole} duplicate groups kept within one fold" if whole else ""))
    workers = fold_jobs.workers_for(int(ok.sum()), k, workers)
    if client is not None or workers > 1:
        log(f"folds run in {'the Dask cluster' if client is not None else f'{workers} worker processes'}")
        probs = fold_jobs.run_folds(images.filename, targets, ok, folds, len(classes), cfg, epochs, saved, workers,
                                    client, progress, log)
    else:
        probs = crossfit.cross_fit(x_all, targets, ok, folds, len(classes), cfg, epochs, saved, progress, log)
    return probs, folds, ok, failed, epochs


def issue_findings(suspects: pd.DataFrame, verdict: pd.DataFrame, classes: list, groups) -> pd.DataFrame:
    """label_issue findings (through the inspectors' one constructor: the vocabulary checked, scores in [0, 1])
    for the suspects' rows of predictions and of judge()'s verdict, with each one's conflicting_labels group."""
    return F.findings(suspects["path"], "label_issue", suspects["score"], [
        (f"labelled {lab!r}; a copy of this picture is labelled {classes[c]!r} (conflicting_labels "
         f"group {g}), which the baseline, never trained on them, prefers for this picture "
         f"(p={pc:.2f}; p of {lab!r} = {po:.2f}, averaged over the copies)") if copy else
        (f"labelled {lab!r}; the baseline, never trained on it, says {classes[c]!r} "
         f"(p={pc:.2f}; p of {lab!r} = {pg:.2f})")
        for lab, c, pc, pg, po, copy, g in zip(
            suspects["label"], verdict["confident"], verdict["p_confident"], suspects["p_label"],
            verdict["p_own"], verdict["copy"], groups, strict=True)])


@dataclass(frozen=True)
class LabelIssues:
    """What find() found, each part written to a file of its own by write()."""
    findings: pd.DataFrame  # label_issue rows, most suspicious first (findings.csv)
    facts: dict  # plain JSON: counts, accuracy, classes, settings (facts.json, and --json)
    predictions: pd.DataFrame  # one row per image, highest loss first (predictions.csv)
    confusion: list  # given x predicted counts, in the order of facts["classes"] (confusion.json)
    probabilities: np.ndarray  # (images, classes), out of sample (probabilities.npz)
    labels: np.ndarray  # each image's given class, as an index into facts["classes"]


def find(prepared: Prepared, config: TrainConfig, folds: int = 0, progress=None, log=lambda message: None,
         filter_by: str = DEFAULT_FILTER, exclude=UNRELIABLE, workers: int = 0, client=None) -> LabelIssues:
    """The label issues among every decodable labelled image, whatever its split. `workers`: fold processes
    (0: fold_jobs.workers_for decides); `client`: a Dask client whose workers train the folds instead."""
    rows = usable(prepared.samples)
    classes = sorted(rows["label"].astype(str).unique())
    if problem := class_problem(classes):
        raise ValueError(problem)
    counts = rows["label"].astype(str).value_counts()
    lonely = sorted(counts[counts < 2].index)
    if lonely:  # a lone image has no classmate to learn its class from when it is held out
        raise ValueError(f"label issues need at least 2 images of each class; too few: {', '.join(lonely[:10])}")
    rows = rows.assign(target=rows["label"].astype(str).map({c: i for i, c in enumerate(classes)}).astype("int64"))
    k = folds or (5 if len(rows) <= SMALL_ENOUGH else 2)
    probs, fold, ok, failed, epochs = out_of_sample(prepared, rows, config, k, progress, log, workers, client)
    rows, probs, fold = rows[ok].reset_index(drop=True), probs[ok], fold[ok]
    labels = rows["target"].to_numpy()
    inspected = inspector_findings(prepared.workspace)
    reason = unreliable_images(inspected, rows["path"], exclude or ())
    groups = conflict_groups(inspected, rows["path"])
    verdict, volume_facts = suggest(labels, probs, reason == "", filter_by, groups)
    predicted = probs.argmax(1)
    loss = -np.log(np.clip(probs[np.arange(len(rows)), labels], 1e-12, None))
    predictions = pd.DataFrame({
        "path": rows["path"], "label": rows["label"], "split": rows["split"],
        "predicted": [classes[i] for i in predicted], "p_label": verdict["p_given"].round(5),
        "p_predicted": probs.max(1).round(5), "loss": loss.round(5), "fold": fold,
        "suspect": verdict["issue"], "score": verdict["score"], "candidate": verdict["candidate"],
        "suggested": [classes[i] for i in verdict["confident"]], "rank_score": verdict["rank_score"],
        "unreliable": reason}).sort_values(["rank_score", "loss"], ascending=False)
    suspects = predictions[predictions["suspect"]].sort_values("score", ascending=False)
    found = issue_findings(suspects, verdict.loc[suspects.index], classes, groups[suspects.index])
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    facts = {"samples": int(len(rows)), "folds": k, "found": int(len(found)),
             "oos_accuracy": float((predicted == labels).mean()), "classes": classes,
             "skipped_files": failed, "config": config_to_dict(config)}
    facts["filter_by"] = filter_by
    facts["epochs"] = epochs  # per fold, as planned (early stopping may end a fold sooner)
    facts["unreliable"] = int((reason != "").sum())  # predicted, but not judged: see UNRELIABLE
    facts["unreliable_issues"] = list(exclude or ())
    facts["from_copies"] = int(verdict["copy"].sum())  # flagged by the conflicting-copies rule alone
    facts.update(volume_facts)  # weak_model, candidates, estimated_noise, flag_cap: why this many are flagged
    facts["ranking"] = volume.RANKING
    facts["model_note"] = volume.model_note(facts)
    return LabelIssues(found, facts, predictions, matrix.tolist(), probs, labels)


def write(workspace, result: LabelIssues, out=None) -> list:
    """findings.csv (+ predictions.csv, confusion.json, facts.json, probabilities.npz) under
    workspace/label_issues/, and findings.csv to `out` when given."""
    folder = workspace / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_findings(result.findings, folder)]
    np.savez_compressed(folder / "probabilities.npz", probs=result.probabilities, labels=result.labels,
                        paths=np.array(result.predictions.sort_index()["path"], dtype=str))
    write_sheet(result.predictions, folder / "predictions.csv")  # class names and paths: safe in a spreadsheet
    atomic_write_text(folder / "confusion.json", json.dumps({"classes": result.facts["classes"],
                                                             "matrix": result.confusion}))
    atomic_write_text(folder / "facts.json", json.dumps(result.facts, indent=1, default=str))
    written += [folder / "predictions.csv", folder / "confusion.json", folder / "facts.json",
                folder / "probabilities.npz"]
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        written.append(write_findings(result.findings, Path(out)))
    return written
