"""Out-of-sample predictions of the baseline point back at the data: likely mislabelled samples.

Every labelled image gets a predicted distribution from a model that never trained on it (k-fold cross-
validation), and confident learning (Northcutt et al., 2021) turns those into `label_issue` findings: a
sample is suspect when the model is confidently sure of another class — confident meaning above that
class's own average self-confidence, so a class the model finds hard does not flood the list — and (the
default filter, "both") among the count per class that the confident joint estimates to be mislabelled.

Images the inspectors already found wrong as pictures (UNRELIABLE: dark, washed out, flat, strips, odd sizes,
outliers) get a prediction but no verdict on their label: the model's disagreement there says "bad image",
not "bad label", and the user sees them under their own finding. They neither set the per-class thresholds
nor count in the noise-rate estimate, and predictions.csv names the finding that set them aside.

Copies the inspectors found filed under different labels (conflicting_labels) are judged together as well:
one of their labels is wrong for sure, and the copies' averaged predictions say which (conflicting_copies)."""

import dataclasses
import json
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

from .config import TrainConfig, config_to_dict
from .data import MAX_AUTO_SIZE, SIZE_CHOICES, Prepared, class_problem, tensor_cache, usable
from .train import Tensors, channel_stats, evaluate, pick_device, train

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


def assign_folds(targets: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold per sample, stratified: each class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    folds = np.zeros(len(targets), dtype=np.int64)
    for c in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == c))
        folds[members] = (np.arange(len(members)) + rng.integers(k)) % k
    return folds


def confident_learning(labels: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    """Per sample: the confident class (the most probable class whose probability reaches that class's
    mean self-confidence), whether it disagrees with the given label, and a score in [0, 1]."""
    n = len(labels)
    above = probs >= _thresholds(labels, probs)[None, :]
    confident = np.where(above, probs, -1.0).argmax(1)
    has = above.any(1)
    p_given = probs[np.arange(n), labels]
    p_conf = probs[np.arange(n), confident]
    issue = has & (confident != labels)
    score = np.where(issue, (1 + p_conf - p_given) / 2, 0.0)  # 1 = sure of another class, given one ~0
    return pd.DataFrame({"confident": confident, "counted": has, "issue": issue, "score": score.round(4),
                         "p_given": p_given, "p_confident": p_conf})


def prune_by_noise_rate(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Confident learning's default filter, by its reference implementation (cleanlab): estimate from the
    confident joint how many samples of each given class are mislabelled, then flag that many, those with the
    largest margin by which another class beats the given one. Catches suspects that no class's threshold
    quite reaches. Classes with no sample here are dropped first (cleanlab counts on every class)."""
    from cleanlab.filter import find_label_issues  # only here: the pages that never judge labels skip it

    present = np.flatnonzero(np.bincount(labels, minlength=probs.shape[1]))
    if len(present) < 2:
        return np.zeros(len(labels), bool)
    index = np.full(probs.shape[1], -1)
    index[present] = np.arange(len(present))
    sub = probs[:, present] / np.maximum(probs[:, present].sum(axis=1, keepdims=True), 1e-12)
    return np.asarray(find_label_issues(index[labels], sub, filter_by="prune_by_noise_rate"), bool)


def _thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Each class's mean self-confidence: the bar another sample must reach to count as that class."""
    return np.array([probs[labels == j, j].mean() if (labels == j).any() else 1.0 for j in range(probs.shape[1])])


def input_size(samples: pd.DataFrame, cap: int = MAX_AUTO_SIZE) -> int:
    """The standard side nearest (by ratio) the median short side, up to `cap`. Training's rule never upscales
    (62 px images -> 32); label issues want the best predictor the CPU allows, and on the sample data (62 px)
    64 px lifted out-of-sample accuracy 0.63 -> 0.70 (shapes_csv) for 3x the CPU."""
    rows = usable(samples)
    short = np.minimum(rows["width"].to_numpy(float), rows["height"].to_numpy(float)) if len(rows) else []
    median = float(np.median(short)) if len(short) else 32.0
    fitting = [s for s in SIZE_CHOICES if s <= cap] or [SIZE_CHOICES[0]]
    return min(fitting, key=lambda s: (abs(np.log(s / max(median, 1.0))), s))


def predict_held_out(model, t: Tensors, augment: str) -> torch.Tensor:
    """Held-out probabilities; a model trained on flips also sees each image mirrored, and the two averaged
    (test-time augmentation: the prediction no longer hangs on which way the image faces)."""
    probs = evaluate(model, t.x_val, t.y_val, t.mean, t.std)["probs"]
    if augment in ("flip", "flip_crop"):
        probs = (probs + evaluate(model, t.x_val.flip(3), t.y_val, t.mean, t.std)["probs"]) / 2
    return probs


def out_of_sample(prepared: Prepared, rows: pd.DataFrame, config: TrainConfig, k: int, progress=None,
                  log=lambda message: None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """(probabilities (N, C), fold per row, ok mask, files that no longer decode)."""
    size = config.input_size or input_size(prepared.samples)
    device = pick_device(config.device)
    images, ok, failed = tensor_cache(prepared, rows, size)
    targets = rows["target"].to_numpy().copy()  # pandas hands out read-only views
    folds = assign_folds(targets, k, config.seed)
    classes = sorted(rows["label"].astype(str).unique())
    x_all = torch.from_numpy(np.array(images)).to(device)  # a copy: the memmap is read-only
    y_all = torch.as_tensor(targets, dtype=torch.long, device=device)
    probs = np.zeros((len(rows), len(classes)), dtype=np.float32)
    cfg = dataclasses.replace(config, input_size=size, evals_per_epoch=1, fixed_batch=1, early_stopping=0)
    if progress:
        progress(0, k)
    for f in range(k):
        fit, held = np.flatnonzero((folds != f) & ok), np.flatnonzero((folds == f) & ok)
        x_fit = x_all[fit]
        t = Tensors(classes, size, x_fit, y_all[fit], x_all[held], y_all[held],
                    list(rows["path"].iloc[fit]), list(rows["path"].iloc[held]), *channel_stats(x_fit), [], device)
        held_probs = predict_held_out(train(t, cfg, None).model, t, cfg.augment)
        probs[held] = held_probs.numpy()
        accuracy = float((held_probs.argmax(1) == t.y_val.cpu()).float().mean()) if len(held) else float("nan")
        log(f"fold {f + 1}/{k}: held-out accuracy {accuracy:.3f} on {len(held)} images")
        if progress:
            progress(f + 1, k)
    return probs, folds, ok, failed


# confident_learning: off the confident joint's diagonal; prune_by_noise_rate: the estimated count per class, by
# margin; both: flagged by the two (cleanlab's filter_by="both" spirit), the most precise. Measured on the
# sample data (64 px, flip-averaged, unreliable images set aside): both 35 flagged / 21 found (shapes) and
# 43 / 23 (shapes_csv), against prune_by_noise_rate's 47 / 23 and 59 / 24.
FILTERS = ("confident_learning", "prune_by_noise_rate", "both")
DEFAULT_FILTER = "both"


def conflicting_copies(labels: np.ndarray, probs: np.ndarray, groups: np.ndarray, judged: np.ndarray,
                       confident: np.ndarray):
    """(flag, other, p_other, p_own, cleared) per sample: of copies the inspectors found filed under different
    labels (`groups`: the conflicting_labels group, "" for none), those whose label the baseline believes less
    than another copy's label (`other`; -1 where none) for that picture. The belief is the copies' held-out
    probabilities averaged (`p_other`, `p_own`): each copy's own prediction is skewed towards its twin's
    label, which its model trained on. One label of such a group is wrong for sure; the confident-learning
    thresholds ask more (the model sure of one class), which a picture the model finds hard fails, though the
    model all but rules out one copy's label. `cleared`: copies whose label the belief prefers though their
    own prediction (`confident`) is another copy's label: that is the twin's skew, not evidence."""
    n = len(labels)
    cleared = np.zeros(n, dtype=bool)
    flag, other = np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    p_other, p_own = np.zeros(n), np.zeros(n)
    members = pd.Series(np.flatnonzero((np.asarray(groups) != "") & judged))
    for _, idx in members.groupby(np.asarray(groups)[members.to_numpy()]):
        idx = idx.to_numpy()
        present = np.unique(labels[idx])
        if len(present) < 2:
            continue
        belief = probs[idx].mean(0)
        best = present[belief[present].argmax()]
        for i in idx:
            flag[i] = labels[i] != best and belief[best] > belief[labels[i]]
            other[i], p_other[i], p_own[i] = best, belief[best], belief[labels[i]]
            cleared[i] = labels[i] == best and confident[i] != best and confident[i] in present
    return flag, other, p_other, p_own, cleared


def judge(labels: np.ndarray, probs: np.ndarray, judged: np.ndarray, filter_by: str = DEFAULT_FILTER,
          groups: np.ndarray | None = None) -> pd.DataFrame:
    """The verdict per sample (confident, issue, score, p_given, p_confident, copy, p_own), from the judged samples
    only: the others get no issue, score 0, and the class that beats their given one as `confident`. With
    `groups` (conflicting_labels groups), a copy whose label loses to another copy's is an issue too (`copy`
    True when only that rule flags it, with p_confident and p_own the copies' averaged beliefs in the other
    label and in its own; see conflicting_copies)."""
    if filter_by not in FILTERS:
        raise ValueError(f"filter {filter_by!r}: choose one of {', '.join(FILTERS)}")
    n, probs = len(labels), np.asarray(probs, dtype=np.float64)  # float32 would round scores to 0.55839998
    margin = probs.copy()
    margin[np.arange(n), labels] = -np.inf
    runner_up = margin.argmax(1)  # the class that beats the given one when no class's threshold is reached
    p_given = probs[np.arange(n), labels]
    verdict = pd.DataFrame({"confident": runner_up, "counted": False, "issue": False, "score": 0.0,
                            "p_given": p_given, "p_confident": probs[np.arange(n), runner_up], "copy": False,
                            "p_own": p_given})
    idx = np.flatnonzero(judged)
    if len(idx) == 0:
        return verdict
    sub_labels, sub_probs = labels[idx], probs[idx]
    cl = confident_learning(sub_labels, sub_probs)
    counted = cl["counted"].to_numpy()
    confident = np.where(counted, cl["confident"].to_numpy(), runner_up[idx])
    issue = cl["issue"].to_numpy()
    if filter_by != "confident_learning":
        pruned = prune_by_noise_rate(sub_labels, sub_probs)
        issue = pruned if filter_by == "prune_by_noise_rate" else issue & pruned
    p_conf = sub_probs[np.arange(len(idx)), confident]
    verdict.loc[idx, "confident"] = confident
    verdict.loc[idx, "counted"] = counted
    verdict.loc[idx, "issue"] = issue
    verdict.loc[idx, "p_confident"] = p_conf
    verdict.loc[idx, "score"] = np.where(issue, (1 + p_conf - p_given[idx]) / 2, 0.0).round(4)
    if groups is not None:
        flag, other, p_other, p_own, cleared = conflicting_copies(labels, probs, groups, judged,
                                                                  verdict["confident"].to_numpy())
        verdict.loc[cleared, ["issue", "score"]] = (False, 0.0)
        added = np.flatnonzero(flag & ~verdict["issue"].to_numpy())
        verdict.loc[added, ["issue", "copy"]] = True
        verdict.loc[added, "confident"] = other[added]
        verdict.loc[added, "p_confident"] = p_other[added]
        verdict.loc[added, "p_own"] = p_own[added]
        verdict.loc[added, "score"] = ((1 + p_other[added] - p_own[added]) / 2).round(4)
    return verdict


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
         filter_by: str = DEFAULT_FILTER, exclude=UNRELIABLE) -> LabelIssues:
    """The label issues among every decodable labelled image, whatever its split."""
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
    probs, fold, ok, failed = out_of_sample(prepared, rows, config, k, progress, log)
    rows, probs, fold = rows[ok].reset_index(drop=True), probs[ok], fold[ok]
    labels = rows["target"].to_numpy()
    inspected = inspector_findings(prepared.workspace)
    reason = unreliable_images(inspected, rows["path"], exclude or ())
    groups = conflict_groups(inspected, rows["path"])
    verdict = judge(labels, probs, reason == "", filter_by, groups)
    predicted = probs.argmax(1)
    loss = -np.log(np.clip(probs[np.arange(len(rows)), labels], 1e-12, None))
    predictions = pd.DataFrame({
        "path": rows["path"], "label": rows["label"], "split": rows["split"],
        "predicted": [classes[i] for i in predicted], "p_label": verdict["p_given"].round(5),
        "p_predicted": probs.max(1).round(5), "loss": loss.round(5), "fold": fold,
        "suspect": verdict["issue"], "score": verdict["score"], "unreliable": reason}).sort_values("loss",
                                                                                                  ascending=False)
    suspects = predictions[predictions["suspect"]].sort_values("score", ascending=False)
    found = issue_findings(suspects, verdict.loc[suspects.index], classes, groups[suspects.index])
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    facts = {"samples": int(len(rows)), "folds": k, "found": int(len(found)),
             "oos_accuracy": float((predicted == labels).mean()), "classes": classes,
             "skipped_files": failed, "config": config_to_dict(config)}
    facts["filter_by"] = filter_by
    facts["unreliable"] = int((reason != "").sum())  # predicted, but not judged: see UNRELIABLE
    facts["unreliable_issues"] = list(exclude or ())
    facts["from_copies"] = int(verdict["copy"].sum())  # flagged by the conflicting-copies rule alone
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
