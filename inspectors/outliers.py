"""Outliers: images unlike the rest of the dataset in the kind of picture they are.

Four numbers tell kinds of pictures apart whatever they show (DESCRIPTORS):
- colour richness: entropy of the colour histogram (a drawing has a handful of colours; a photo, a
  smooth colour field or noise thousands);
- fine detail: edge energy, log(Laplacian variance / grey variance) (texture and sharp edges vs smooth);
- tone balance: where the mean sits between the darkest and brightest tones (high on a light
  background, low on a dark one, in the middle for a balanced picture);
- contrast: the grey standard deviation.
Each is robustly standardised (median and MAD of a reference sample, with a floor: a smaller
difference is not a difference in kind). An image is an outlier when its k-th nearest neighbour in
the reference sample is more than `max_distance` standardised units away (it has fewer than k
look-alikes), and still more than `max_distance_smooth_aside` when less detail than typical is not
counted: blur is quality's finding, so a blurred copy of a normal picture is not an outlier, while a
smooth field of colours no picture here has is. A kind of picture with k or more members (night
scenes, a naturally smooth class) is normal; a handful of strays is not, even when they look alike.

Labels play no part in that rule: an image typical of another class is a label issue, not an outlier.
Images are compared within their mode family, and only where they can be measured: decoded, not
near-blank, not tiny. A fixed-size reference sample keeps the cost at O(N x reference), never O(N^2).

A second opinion looks at what the picture shows (unlike_class): an image none of whose k most alike
members of its own class is near, by the content thumbnail (grey, blurred, shifts of up to 4 px and the
negative tried),
when nearly every member of the class has k near ones, is an outlier too: a face, a photo or a smooth
gradient filed among handwritten digits has the digits' kind of statistics often enough for the first
rule to pass it. The limit is the class's own: a class of varied pictures (photo crops) is allowed far
neighbours, a class of alike ones (digits) is not. An image another class would not call an outlier is
filed under the wrong class: left to label issues. A class of up to 16,384 pictures is compared with every
member, a larger one through a faiss index: O(N x k) (class_neighbours.py). No labels, a class under
`min_class_size`, or a scan cache from before the content thumbnail: no second opinion.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import content
from . import findings as F
from .class_neighbours import Members, below_kth, kth_similarity
from .config import OutliersConfig
from .features import MODE_FAMILY
from .inspector import Inspector, Shared

NEEDS = ["path", "ok", "mode", "width", "height", "brightness", "contrast", "sharpness", "lum_p01", "lum_p99",
         "colour_entropy"]
DESCRIPTORS = ["colour_entropy", "edge_energy", "tone_balance", "contrast"]
MIN_CONTRAST = 0.02  # near-blank images have no picture to compare: they are low_information instead
CLASS_SAMPLE = 1_000  # members per class to learn how close a class's own members are to each other


def descriptors(ok: pd.DataFrame) -> np.ndarray:
    """The DESCRIPTORS of every row, as an (n, 4) array."""
    contrast = ok["contrast"].to_numpy(float)
    edge_energy = np.log(np.maximum(ok["sharpness"].to_numpy(float), 1e-9) / np.maximum(contrast**2, 1e-6))
    p01, p99 = ok["lum_p01"].to_numpy(float), ok["lum_p99"].to_numpy(float)
    tone_balance = (ok["brightness"].to_numpy(float) - p01) / np.maximum(p99 - p01, 1 / 255)
    return np.column_stack([ok["colour_entropy"].to_numpy(float), edge_energy, tone_balance, contrast])


def floors(config: OutliersConfig) -> np.ndarray:
    return np.array([config.floor_colour_entropy, config.floor_edge_energy, config.floor_tone_balance,
                     config.floor_contrast])


def kth_distance(points: np.ndarray, reference: np.ndarray, k: int, same: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distance from each point to its k-th nearest reference point (a k-d tree: the space
    has four dimensions). `same[i]` is the row of point i inside `reference` (or -1), so a point never
    counts itself, while its exact copies still count."""
    from scipy.spatial import cKDTree  # here, not at the top: the app imports this module on its first page

    from .content import threads

    k = max(1, min(k, len(reference) - (1 if same is not None else 0)))
    if same is None:
        return cKDTree(reference).query(points, k=[k], workers=threads())[0][:, 0]
    dist, index = cKDTree(reference).query(points, k=k + 1, workers=threads())  # the queries split over the cores
    itself_counted = (index[:, :k] == same[:, None]).any(axis=1)
    return np.where(itself_counted, dist[:, k], dist[:, k - 1])


def standardiser(reference: np.ndarray, config: OutliersConfig) -> tuple[np.ndarray, np.ndarray]:
    """(median, robust std with its floor) of each descriptor over the reference rows."""
    med = np.median(reference, axis=0)
    return med, np.maximum(1.4826 * np.median(np.abs(reference - med), axis=0), floors(config))


def comparable(samples: pd.DataFrame, config: OutliersConfig) -> pd.DataFrame:
    """The rows that can be judged, with their mode family: decoded, not near-blank, not tiny (a
    few pixels give no texture or colour statistics), in a family with enough members to know what
    is typical (a rare family is odd_mode's finding)."""
    ok = samples[samples["ok"].astype(bool) & samples["contrast"].notna() & samples["colour_entropy"].notna()]
    ok = ok[(ok["contrast"].astype(float) >= MIN_CONTRAST)
            & (np.minimum(ok["width"].astype(float), ok["height"].astype(float)) >= config.min_side)]
    family = ok["mode"].map(MODE_FAMILY).fillna(ok["mode"])
    counts = family.map(family.value_counts())
    return ok.assign(family=family)[counts >= 3 * config.k].reset_index(drop=True)


def judge(ok: pd.DataFrame, config: OutliersConfig, rows=None) -> pd.DataFrame:
    """For rows of `comparable(...)` (all by default): the k-th neighbour distance with smoothness set
    aside and counted (the latter only where the former is over its limit, else a lower bound), whether
    that makes an outlier, and the descriptor that stands out most. Each mode family is compared with
    a random reference sample of itself."""
    x = descriptors(ok)
    rows = np.arange(len(ok)) if rows is None else np.asarray(rows, dtype=int)
    out = pd.DataFrame({"path": ok["path"].to_numpy()[rows], "distance": 0.0, "distance_smooth_aside": 0.0,
                        "worst": "", "value": 0.0, "typical": 0.0}, index=rows)
    rng = np.random.default_rng(0)  # the same reference on every run: findings are reproducible
    family = ok["family"].to_numpy()
    for name, members in ok.groupby("family").indices.items():
        ref = np.sort(rng.choice(members, min(len(members), config.reference_size), replace=False))
        todo = rows[family[rows] == name]
        if len(todo) == 0:
            continue
        med, scale = standardiser(x[ref], config)
        z, z_ref = (x[todo] - med) / scale, (x[ref] - med) / scale
        same = np.full(len(ok), -1)
        same[ref] = np.arange(len(ref))
        # Less detail than typical is blur, which quality judges against the class: set aside, an
        # image must still be far from everything (a blurred copy of a normal picture is not).
        aside, aside_ref = z.copy(), z_ref.copy()
        aside[:, 1], aside_ref[:, 1] = np.maximum(z[:, 1], 0), np.maximum(z_ref[:, 1], 0)
        far = kth_distance(aside, aside_ref, config.k, same[todo])
        out.loc[todo, "distance_smooth_aside"] = far
        near = far <= config.max_distance_smooth_aside  # typical once blur is set aside: no need to look further
        out.loc[todo, "distance"] = np.where(near, far, 0.0)
        out.loc[todo[~near], "distance"] = kth_distance(z[~near], z_ref, config.k, same[todo[~near]])
        worst = np.argmax(np.abs(z), axis=1)
        out.loc[todo, "worst"] = np.asarray(DESCRIPTORS)[worst]
        out.loc[todo, "value"] = x[todo, worst]
        out.loc[todo, "typical"] = med[worst]
    out["outlier"] = (out["distance"] > config.max_distance) & \
        (out["distance_smooth_aside"] > config.max_distance_smooth_aside)
    return out


def class_members(samples: pd.DataFrame, config: OutliersConfig) -> pd.DataFrame:
    """The rows the second opinion judges: decoded, with a content thumbnail (old caches have none), not
    near-blank, not tiny, labelled, in a class of at least `min_class_size`. Mode families play no part: the
    thumbnail is grey, and a colour photo filed among grey digits is exactly what it should see."""
    if "content" not in samples.columns or "label" not in samples.columns:
        return samples.iloc[:0]
    ok = samples[samples["ok"].astype(bool) & samples["content"].notna() & samples["contrast"].notna()
                 & samples["label"].notna()]
    ok = ok[(ok["label"].astype(str) != "") & (ok["contrast"].astype(float) >= MIN_CONTRAST)
            & (np.minimum(ok["width"].astype(float), ok["height"].astype(float)) >= config.min_side)]
    return ok[ok["label"].map(ok["label"].value_counts()) >= config.min_class_size].reset_index(drop=True)


def class_limit(distance: np.ndarray, config: OutliersConfig) -> tuple[float, float]:
    """(typical, limit) of a class's members' k-th distances: the median, and the distance nearly no member
    reaches (robust z of log distances, with floors)."""
    log = np.log(np.maximum(distance, 1e-4))
    median = np.median(log)
    spread = max(1.4826 * np.median(np.abs(log - median)), config.class_min_spread)
    return float(np.exp(median)), max(config.class_min_distance, float(np.exp(median + config.class_max_z * spread)))


def unlike_class(samples: pd.DataFrame, config: OutliersConfig) -> pd.DataFrame:
    """The second opinion: images whose k-th most alike member of their own class, by content, is farther
    than `class_limit` (Members: every member, or a faiss index of a large class). An image that no other
    class would call an outlier is filed under the wrong class: a label issue, not an outlier. Columns: path,
    label, distance, typical, limit."""
    ok = class_members(samples, config)
    found, classes, k = [], {}, config.class_k
    rng = np.random.default_rng(0)  # the same sample on every run: findings are reproducible
    for label, rows in ok.groupby("label").indices.items():
        blurred = content.blur_on_threads(content.greys(ok["content"].to_numpy()[rows]), content.SEARCH_BLUR)
        members, itself = Members(blurred), np.arange(len(rows))
        sample = np.sort(rng.choice(itself, min(len(rows), CLASS_SAMPLE), replace=False))
        typical, limit = class_limit(1 - kth_similarity(members, blurred[sample], k, sample), config)
        classes[label] = (members, limit)
        # The central window alone finds each image no nearer than all windows do: only those it puts beyond
        # the limit need the other eight (a ninth of the search for nearly everyone).
        far = np.flatnonzero(below_kth(members, blurred, k, np.float32(1 - limit), itself, shifts=(0,)))
        distance = np.zeros(len(rows), np.float32)
        distance[far] = 1 - kth_similarity(members, blurred[far], k, itself[far])
        far = distance > limit
        found.append(pd.DataFrame({"path": ok["path"].to_numpy()[rows[far]], "label": label,
                                   "distance": distance[far], "typical": typical, "limit": limit,
                                   "blurred": list(blurred[far])}))
    columns = ["path", "label", "distance", "typical", "limit"]
    if not found:
        return pd.DataFrame(columns=columns)
    out = pd.concat(found, ignore_index=True)
    elsewhere = np.zeros(len(out), bool)
    for label, (members, limit) in classes.items():
        todo = np.flatnonzero((out["label"] != label).to_numpy() & ~elsewhere)
        if len(todo):
            blurred = np.stack(out["blurred"].to_numpy()[todo])
            elsewhere[todo] = 1 - kth_similarity(members, blurred, config.class_k) <= limit
    return out.loc[~elsewhere, columns].reset_index(drop=True)


@dataclass(frozen=True)
class Judgement:
    """The outlier rule applied once to every comparable row: the outlier inspector reports from it, and
    quality reads it for its blur candidates (an outlier has no class sharpness to be judged against)."""
    config: OutliersConfig  # the settings that produced it
    comparable: pd.DataFrame  # comparable(samples, config)
    judged: pd.DataFrame  # judge(comparable, config); no rows when there are too few to judge
    unlike_class: pd.DataFrame  # unlike_class(samples, config): the second opinion's outliers


def judgement(samples: pd.DataFrame, config: OutliersConfig = OutliersConfig()) -> Judgement:
    F.require(samples, NEEDS, "outliers")
    ok = comparable(samples, config)
    too_few = len(ok) < 3 * config.k  # too few to know what is typical: nobody is judged
    return Judgement(config, ok, judge(ok.iloc[:0] if too_few else ok, config), unlike_class(samples, config))


def outlier_paths(judged: Judgement, paths=None) -> set:
    """Which of `paths` (default: all) the outlier rule flags."""
    flagged = judged.judged.loc[judged.judged["outlier"], "path"]
    return set(flagged) if paths is None else set(flagged[flagged.isin(set(paths))])


def typical_of_another_class(judged: Judgement, paths) -> dict:
    """{path: class} for those of `paths` that are typical members of a class other than their own: their
    k-th nearest neighbour in that class is no farther than the class's own members' median k-th
    neighbour. Quality asks this about blur candidates: a smooth picture filed under the wrong class
    is smooth by nature (a label issue), not blurred. Among the comparable rows, with the judgement's settings."""
    ok, config = judged.comparable, judged.config
    asked = np.flatnonzero(ok["path"].isin(set(paths)).to_numpy())
    labels = ok["label"].fillna("").to_numpy()
    x = descriptors(ok)
    found, best = {}, np.full(len(asked), np.inf)
    rng = np.random.default_rng(0)
    for _, members in ok.groupby("family").indices.items():
        med, scale = standardiser(x[rng.choice(members, min(len(members), config.reference_size), replace=False)],
                                  config)
        z = (x - med) / scale
        for label in np.unique(labels[members]):
            cls = members[labels[members] == label]
            if label == "" or len(cls) < 3 * config.k:
                continue
            ref = np.sort(rng.choice(cls, min(len(cls), CLASS_SAMPLE), replace=False))
            typical = np.median(kth_distance(z[ref], z[ref], config.k, np.arange(len(ref))))
            todo = np.flatnonzero((labels[asked] != label) & np.isin(asked, members))
            ratio = kth_distance(z[asked[todo]], z[ref], config.k) / max(typical, 1e-9)
            closer = ratio < best[todo]
            best[todo[closer]] = ratio[closer]
            for i in todo[closer & (ratio <= 1)]:
                found[ok["path"].iloc[asked[i]]] = label
    return found


def inspect(samples: pd.DataFrame, config: OutliersConfig = OutliersConfig(),
            outlier_judgement: Judgement | None = None) -> pd.DataFrame:
    """The outlier findings, one per image, from either rule (both details when both flag it); from
    `outlier_judgement` when run.py passes the one it computed for this run."""
    judged = outlier_judgement or judgement(samples, config)
    config, out, unlike = judged.config, judged.judged[judged.judged["outlier"]], judged.unlike_class
    details = [f"fewer than {config.k} look-alikes: the {config.k}th nearest is {d:.1f} robust stds away "
               f"(limit {config.max_distance}); most unusual: {w.replace('_', ' ')} {v:.2f}, typical {t:.2f}"
               for d, w, v, t in zip(out["distance"], out["worst"], out["value"], out["typical"], strict=True)]
    details += [f"unlike every image of its class '{c}': its {config.class_k}th most alike in the class is "
                f"{1 - d:.2f} alike (grey pictures, shifts up to 4 px and the negative tried), its class's "
                f"members' typically {1 - t:.2f} (limit {1 - lim:.2f})"
                for c, d, t, lim in zip(unlike["label"], unlike["distance"], unlike["typical"], unlike["limit"],
                                        strict=True)]
    # 0.5 at a rule's limit, 1 at twice it
    score = np.r_[0.5 + 0.5 * (out["distance"].to_numpy() - config.max_distance) / config.max_distance,
                  0.5 + 0.5 * (unlike["distance"].to_numpy(float) - unlike["limit"].to_numpy(float))
                  / unlike["limit"].to_numpy(float)]
    both = pd.DataFrame({"path": np.r_[out["path"].to_numpy(), unlike["path"].to_numpy()], "score": score,
                         "detail": details})
    both = both.groupby("path", sort=False).agg(score=("score", "max"), detail=("detail", "; also ".join))
    return F.findings(both.index, "outlier", both["score"], both["detail"])


JUDGEMENT = Shared("outlier_judgement", "outliers", judgement)
INSPECTOR = Inspector("outliers", tuple(NEEDS), inspect, section="outliers", uses=(JUDGEMENT,))
