"""The verdict on each label from held-out probabilities: confident learning (Northcutt et al., 2021) through its
reference implementation (cleanlab), the conflicting-copies rule, and how many suggestions the model supports
(volume.py). Pure functions over arrays; no torch."""

import numpy as np
import pandas as pd

from . import volume


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

    sub_labels, sub = _present_classes(labels, probs)
    if sub is None:
        return np.zeros(len(labels), bool)
    return np.asarray(find_label_issues(sub_labels, sub, filter_by="prune_by_noise_rate"), bool)


def _present_classes(labels: np.ndarray, probs: np.ndarray):
    """(labels, probs) over the classes some sample carries (cleanlab counts on every class), renormalised;
    (labels, None) when fewer than two are."""
    present = np.flatnonzero(np.bincount(labels, minlength=probs.shape[1]))
    if len(present) < 2:
        return labels, None
    index = np.full(probs.shape[1], -1)
    index[present] = np.arange(len(present))
    sub = probs[:, present] / np.maximum(probs[:, present].sum(axis=1, keepdims=True), 1e-12)
    return index[labels], sub


def _thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Each class's mean self-confidence: the bar another sample must reach to count as that class."""
    return np.array([probs[labels == j, j].mean() if (labels == j).any() else 1.0 for j in range(probs.shape[1])])


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


def suggest(labels: np.ndarray, probs: np.ndarray, judged: np.ndarray, filter_by: str = DEFAULT_FILTER,
            groups: np.ndarray | None = None) -> tuple[pd.DataFrame, dict]:
    """judge()'s verdict with the volume the model supports: `candidate` (what the filter flagged), `issue` (what
    is flagged: volume.honest_flags of the candidates, plus the conflicting copies, whose one wrong label is
    certain), `rank_score` (volume.rank_scores; 0 for images not judged), and the facts of that choice."""
    verdict = judge(labels, probs, judged, filter_by, groups)
    verdict["candidate"] = verdict["issue"]
    verdict["rank_score"] = 0.0
    idx = np.flatnonzero(judged)
    if len(idx) == 0:
        return verdict, volume.honest_flags(labels[:0], probs[:0], np.zeros(0, bool), labels[:0], np.zeros(0), 0)[1]
    sub_labels, sub_probs = labels[idx], np.asarray(probs, dtype=np.float64)[idx]
    scores = volume.rank_scores(sub_labels, sub_probs)
    copy = verdict["copy"].to_numpy()[idx]
    candidate = verdict["issue"].to_numpy()[idx] & ~copy
    # copies filed under different labels are judged together (conflicting_copies): a copy's own disagreement is
    # its twin's skew, never a flag by itself
    together = copy | ((np.asarray(groups) != "")[idx] if groups is not None else False)
    keep, facts = volume.honest_flags(sub_labels, sub_probs, candidate, verdict["confident"].to_numpy()[idx], scores,
                                      noise_estimate(sub_labels, sub_probs), int(copy.sum()),
                                      noise_estimate(sub_labels, sub_probs, "off_diagonal_calibrated"), together)
    added = keep & ~candidate  # a strong model's other disagreements: the class it predicts instead
    facts["from_disagreement"] = int(added.sum())
    verdict.loc[idx[added], "confident"] = sub_probs[added].argmax(1)
    verdict.loc[idx[added], "p_confident"] = sub_probs[added].max(1)
    verdict.loc[idx, "rank_score"] = scores.round(5)
    verdict.loc[idx, "issue"] = keep | copy
    verdict.loc[idx[keep], "score"] = scores[keep].round(4)  # flagged in the order of the ranked list
    verdict.loc[~verdict["issue"], "score"] = 0.0
    return verdict, facts


def noise_estimate(labels: np.ndarray, probs: np.ndarray, method: str = "off_diagonal") -> int:
    """Confident learning's estimate of how many of these labels are wrong (cleanlab's num_label_issues, by its
    `estimation_method`)."""
    from cleanlab.count import num_label_issues

    sub_labels, sub = _present_classes(labels, probs)
    return int(num_label_issues(sub_labels, sub, estimation_method=method)) if sub is not None else 0
