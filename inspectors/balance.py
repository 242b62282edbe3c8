"""Balance: classes per split, priors, the loss a model should start from, and shortcuts —
scanned properties (size, format, brightness, ...) that predict the label on their own, which a
model could learn instead of the content (the recipe's "spurious variation").

Summary facts only: balance has no per-file findings.
"""

import math

import numpy as np
import pandas as pd

from . import findings as F
from .config import BalanceConfig
from .schema import SPLITS

NEEDS = ["path", "ok", "label", "split"]
SHORTCUT_PROPERTIES = ["width", "height", "aspect", "bytes", "format", "mode", "frames", "exif_orientation",
                       "brightness", "contrast", "sharpness", "entropy", "mean_r", "mean_g", "mean_b"]


def labelled(samples: pd.DataFrame) -> pd.DataFrame:
    """Images a model would train on: decoded, with a label."""
    return samples[samples["ok"].astype(bool) & (samples["label"].fillna("") != "")]


def class_counts(samples: pd.DataFrame) -> dict:
    """{split: {class: count}}; split '' is named 'all' when the dataset has no splits."""
    data = labelled(samples)
    out = {}
    for split, part in data.groupby(data["split"].fillna(""), sort=False):
        out[split or "all"] = {k: int(v) for k, v in part["label"].value_counts().sort_index().items()}
    order = {s: i for i, s in enumerate(SPLITS)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def inspect(samples: pd.DataFrame, config: BalanceConfig = BalanceConfig()) -> pd.DataFrame:
    F.require(samples, NEEDS, "balance")
    return F.empty()


def summarize(samples: pd.DataFrame, found: pd.DataFrame, config: BalanceConfig = BalanceConfig()) -> dict:
    counts = class_counts(samples)
    if not counts:
        return {"class_counts": {}, "imbalanced_classes": {}}
    classes = sorted({c for per in counts.values() for c in per})
    prior_split = "train" if "train" in counts else next(iter(counts))
    prior_counts = np.array([counts[prior_split].get(c, 0) for c in classes], dtype=float)
    priors = prior_counts / prior_counts.sum()
    out = {"class_counts": counts, "classes": classes, "priors_from": prior_split,
           "class_priors": {c: round(float(p), 6) for c, p in zip(classes, priors, strict=True)},
           "imbalanced_classes": {}, "imbalance_ratio": {}, "missing_classes": {}, "expected_init_loss": {}}
    for split, per in counts.items():
        n = np.array([per.get(c, 0) for c in classes], dtype=float)
        present = n[n > 0]
        median = float(np.median(present))
        out["imbalanced_classes"][split] = [c for c, k in zip(classes, n, strict=True)
                                            if 0 < k <= config.rare_fraction * median]
        out["imbalance_ratio"][split] = round(float(present.max() / present.min()), 3)
        out["missing_classes"][split] = [c for c, k in zip(classes, n, strict=True) if k == 0]
        out["expected_init_loss"][split] = init_losses(n / n.sum(), priors)
    out["suggested_class_weights"] = class_weights(prior_counts, classes)
    out["channel_mean"], out["channel_std"] = channel_stats(samples)
    out["shortcuts"] = shortcuts(samples, config)
    return out


def init_losses(split_freq: np.ndarray, priors: np.ndarray) -> dict:
    """Loss at init: uniform logits give ln C; logits biased to the train priors give the
    cross-entropy of this split's class frequencies against those priors (their entropy, on train).
    None when this split has a class that train never shows (the loss would be infinite)."""
    mask = split_freq > 0
    if (priors[mask] == 0).any():
        return {"uniform": round(math.log(len(priors)), 6), "prior_biased": None}
    cross = float(-(split_freq[mask] * np.log(priors[mask])).sum())
    return {"uniform": round(math.log(len(priors)), 6), "prior_biased": round(cross, 6)}


def class_weights(counts: np.ndarray, classes) -> dict:
    """Inverse class frequency, scaled so the weights average 1 over the training samples."""
    safe = np.where(counts > 0, counts, np.nan)
    w = counts.sum() / (len(counts) * safe)
    return {c: (round(float(x), 4) if np.isfinite(x) else None) for c, x in zip(classes, w, strict=True)}


def channel_stats(samples: pd.DataFrame) -> tuple[list, list]:
    """Per-channel mean/std over all decoded images (each image weighted alike), for normalisation:
    total variance = mean within-image variance + variance of the image means."""
    ok = samples[samples["ok"].astype(bool)]
    if ok.empty or "mean_r" not in ok:
        return [], []
    means = ok[["mean_r", "mean_g", "mean_b"]].to_numpy(float)
    stds = ok[["std_r", "std_g", "std_b"]].to_numpy(float)
    mean = np.nanmean(means, axis=0)
    std = np.sqrt(np.nanmean(stds**2, axis=0) + np.nanvar(means, axis=0))
    return [round(float(x), 5) for x in mean], [round(float(x), 5) for x in std]


def property_table(samples: pd.DataFrame) -> pd.DataFrame:
    data = labelled(samples).copy()
    data["aspect"] = data["width"].astype(float) / data["height"].astype(float)
    return data[[c for c in ["label", *SHORTCUT_PROPERTIES] if c in data.columns]]


def shortcuts(samples: pd.DataFrame, config: BalanceConfig) -> list[dict]:
    """For each property alone: cross-validated accuracy of a shallow tree predicting the label,
    against always guessing the majority class. Listed when it gets `shortcut_min_lift` of the way
    from the majority baseline to perfect."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    table = property_table(samples)
    counts = table["label"].value_counts()
    table = table[table["label"].isin(counts[counts >= config.shortcut_folds].index)]
    if table["label"].nunique() < 2:
        return []
    if len(table) > config.shortcut_max_rows:
        table = table.sample(config.shortcut_max_rows, random_state=0)
    y = table["label"].astype(str).to_numpy()
    majority = float(pd.Series(y).value_counts(normalize=True).iloc[0])
    folds = StratifiedKFold(n_splits=config.shortcut_folds, shuffle=True, random_state=0)
    found = []
    for prop in [c for c in SHORTCUT_PROPERTIES if c in table.columns]:
        column = table[prop]
        if column.dtype.kind in "OSU" or str(column.dtype) in ("string", "str"):
            x = pd.factorize(column.fillna("?").astype(str))[0].reshape(-1, 1).astype(float)
        else:
            x = pd.to_numeric(column, errors="coerce").fillna(-1).to_numpy(float).reshape(-1, 1)
        if np.unique(x).size < 2:
            continue
        tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=0)
        acc = float(cross_val_score(tree, x, y, cv=folds).mean())
        lift = (acc - majority) / (1 - majority) if majority < 1 else 0.0
        if lift >= config.shortcut_min_lift:
            found.append({"property": prop, "accuracy": round(acc, 4), "majority_baseline": round(majority, 4),
                          "lift": round(lift, 4)})
    return sorted(found, key=lambda d: -d["lift"])
