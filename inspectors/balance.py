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
from .inspector import Inspector
from .schema import SPLITS

NEEDS = ["path", "ok", "label", "split"]
# File properties say nothing about what is in the picture: one that singles out a class is almost
# surely an artefact of how that class was collected. Image statistics can be real signal (a "night"
# class is dark), so they must separate a class almost perfectly before we call them a shortcut.
FILE_PROPERTIES = ["width", "height", "aspect", "bytes", "format", "mode", "frames", "exif_orientation"]
IMAGE_STATISTICS = ["brightness", "contrast", "sharpness", "entropy", "mean_r", "mean_g", "mean_b"]
SHORTCUT_PROPERTIES = FILE_PROPERTIES + IMAGE_STATISTICS


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
    """Properties that single out a class on their own (one class against the rest): e.g. every image
    of one class is a PNG, or the only 80 px wide ones. Measured by balanced accuracy (the mean of
    the accuracy on the class and on the rest) of the best rule "at most / at least t" for a number,
    and "these values mean this class" for a category. Classes need
    `shortcut_min_class` images. One entry per property: its most predictable class.

    The threshold or value set is the best one in-sample; with classes of 10+ images and one
    property at a time, that optimism is small next to the bars (shortcut_min_accuracy and, for image
    statistics, shortcut_min_accuracy_statistic)."""
    table = property_table(samples)
    counts = table["label"].value_counts()
    classes = [c for c, n in counts.items() if n >= config.shortcut_min_class and n <= len(table) - 5]
    if len(table) > config.shortcut_max_rows:
        table = table.sample(config.shortcut_max_rows, random_state=0)
    labels = table["label"].to_numpy()
    found = []
    for prop in [c for c in SHORTCUT_PROPERTIES if c in table.columns]:
        column = table[prop]
        categorical = column.dtype.kind in "OSUb" or str(column.dtype) in ("string", "str")
        values = column.fillna("?").astype(str) if categorical else pd.to_numeric(column, errors="coerce")
        if values.nunique(dropna=True) < 2:
            continue
        best = max(zip(_separations(values, labels, classes, categorical), classes, strict=True), default=(0.0, None))
        bar = config.shortcut_min_accuracy if prop in FILE_PROPERTIES else config.shortcut_min_accuracy_statistic
        if best[1] is not None and best[0] >= bar:
            found.append({"property": prop, "kind": "file property" if prop in FILE_PROPERTIES else "image statistic",
                          "class": best[1], "balanced_accuracy": round(best[0], 4),
                          "detail": f"{prop} alone tells {best[1]!r} from the other classes with "
                                    f"{best[0]:.0%} balanced accuracy"})
    return sorted(found, key=lambda d: -d["balanced_accuracy"])


def _separations(values: pd.Series, labels: np.ndarray, classes: list, categorical: bool) -> list[float]:
    """Per class: how well `values` alone tells it from the others (balanced accuracy at the best threshold,
    or by the likelier side of each category). The values are sorted once for all the classes."""
    if categorical:
        return [_categorical_separation(values, labels == c) for c in classes]
    v = values.to_numpy(float)
    keep = ~np.isnan(v)
    v, labels = v[keep], labels[keep]
    order = np.argsort(v, kind="stable")
    v, labels = v[order], labels[order]
    cut = np.r_[np.flatnonzero(np.diff(v)), len(v) - 1]  # thresholds between distinct values
    out = []
    for c in classes:
        is_class = labels == c
        n_in, n_out = is_class.sum(), (~is_class).sum()
        if n_in == 0 or n_out == 0:
            out.append(0.5)
            continue
        below_in = np.cumsum(is_class)[cut] / n_in
        below_out = np.cumsum(~is_class)[cut] / n_out
        # "the class is at or below t", or "above t": the better of the two, at the best t
        out.append(float(max((0.5 * (below_in + 1 - below_out)).max(), (0.5 * (1 - below_in + below_out)).max())))
    return out


def _categorical_separation(values: pd.Series, is_class: np.ndarray) -> float:
    inside = values[is_class].value_counts(normalize=True)
    outside = values[~is_class].value_counts(normalize=True)
    both = inside.index.union(outside.index)
    p_in, p_out = inside.reindex(both, fill_value=0), outside.reindex(both, fill_value=0)
    return float(0.5 * (p_in.where(p_in > p_out, 0).sum() + p_out.where(p_in <= p_out, 0).sum()))


INSPECTOR = Inspector("balance", tuple(NEEDS), inspect, summarize, section="balance")
