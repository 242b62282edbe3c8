"""How many label suggestions the model can support, and in what order to read them. Pure functions over the
held-out probabilities; no torch.

Confident learning counts the images whose label the model disbelieves. With a weak model most of those are its
own mistakes: a 61 %-accurate baseline flagged 21 % of a real photo set, and 1 of its top 50 was a wrong label.
So the number flagged follows from what the model supports:
- a model at least STRONG_ACCURACY accurate on held-out images flags what the filter finds, up to confident
  learning's own estimate of the noise, then where else it disagrees with the label, the highest-ranked first,
  up to the calibrated estimate and WEAK_SHARE of the images (on look-alike swaps the confident joint counted 60
  of 90 wrong labels, its calibrated form 75, while the model predicted the true class of all 90);
- a weaker one flags only where the evidence is strong (the given label's probability below what nearly every
  correctly predicted image of that class gets, and the suggested class above its own mean self-confidence), at
  most WEAK_SHARE of the images; the rest stays a ranked list a person can page through.
Every judged image is ranked by RANKING (cleanlab's label quality score, 1 - quality here: 1 = most suspicious).
"""

import numpy as np

STRONG_ACCURACY = 0.85  # held-out accuracy from which the model's disagreements are mostly label errors
WEAK_SHARE = 0.05  # a weak model flags at most this share of the judged images
FLOOD_SHARE = 0.2  # real label noise is rarely this common: more candidates than this says the model is weak
FLOOR_QUANTILE = 0.05  # "far below": under the 5th percentile of the class's correctly predicted images
# Which of cleanlab's label quality scores orders the list; chosen by the top-50 hits on the benchmark sets
# (docs/benchmarks.md, "Label issues").
RANKING = "self_confidence"


def rank_scores(labels: np.ndarray, probs: np.ndarray, method: str = RANKING) -> np.ndarray:
    """Per sample, 1 - cleanlab's label quality score (self_confidence or normalized_margin): 1 = the model all
    but rules out the given label."""
    from cleanlab.rank import get_label_quality_scores  # only here: pages that never judge labels skip it

    if len(labels) == 0:
        return np.zeros(0)
    quality = get_label_quality_scores(labels, probs, method=method, adjust_pred_probs=False)
    return np.clip(1.0 - quality, 0.0, 1.0)


def class_floors(labels: np.ndarray, probs: np.ndarray, q: float = FLOOR_QUANTILE) -> np.ndarray:
    """Per class, the q-quantile of its own probability among images of that label the model predicts as it:
    what a correctly labelled image of the class gets at the least. 0 for a class it never predicts right."""
    predicted = probs.argmax(1)
    out = np.zeros(probs.shape[1])
    for c in range(probs.shape[1]):
        own = probs[(labels == c) & (predicted == c), c]
        out[c] = np.quantile(own, q) if len(own) else 0.0
    return out


def strong_evidence(labels: np.ndarray, probs: np.ndarray, suggested: np.ndarray) -> np.ndarray:
    """Per sample: the given label's probability below its class floor (class_floors) and the suggested class's
    at or above that class's mean self-confidence (confident learning's threshold)."""
    n = len(labels)
    floors = class_floors(labels, probs)
    means = np.array([probs[labels == c, c].mean() if (labels == c).any() else 1.0 for c in range(probs.shape[1])])
    return (probs[np.arange(n), labels] < floors[labels]) & (probs[np.arange(n), suggested] >= means[suggested])


def is_weak(accuracy: float, candidates: int, judged: int) -> bool:
    """Whether the model's disagreements are likely its own mistakes more than label errors."""
    return accuracy < STRONG_ACCURACY or candidates > FLOOD_SHARE * max(judged, 1)


def honest_flags(labels: np.ndarray, probs: np.ndarray, candidates: np.ndarray, suggested: np.ndarray,
                 scores: np.ndarray, estimated: int, reserved: int = 0, calibrated: int = 0,
                 set_aside: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """(flag per sample, facts). `candidates`: what the filter flagged; `suggested`: its class per sample;
    `scores`: rank_scores; `estimated`: confident learning's estimate of the wrong labels among these samples
    (`calibrated`: the same from the calibrated confident joint); `reserved`: flags already given by surer
    evidence (conflicting copies), which count against the caps. A strong model keeps the candidates up to the
    estimate, then the other samples whose label it does not predict while the flags stay within the larger
    estimate and WEAK_SHARE of the samples (an imperfect strong model's own mistakes must not flood the list); a
    weak one keeps the candidates with strong evidence, at most WEAK_SHARE of the samples (and the estimate);
    each time the highest-scored first. Samples `set_aside` (copies judged together, by their own rule) are never
    added for a disagreement alone."""
    n = len(labels)
    accuracy = float((probs.argmax(1) == labels).mean()) if n else float("nan")
    weak = is_weak(accuracy, int(candidates.sum()), n)
    if weak:
        cap = min(int(estimated), int(WEAK_SHARE * n))
        keep = _best(candidates & strong_evidence(labels, probs, suggested), scores, cap - reserved)
    else:
        cap = max(int(estimated), min(int(calibrated), int(WEAK_SHARE * n)))
        keep = _best(candidates, scores, int(estimated) - reserved)
        disagree = (probs.argmax(1) != labels) & ~candidates if n else np.zeros(0, bool)
        if set_aside is not None:
            disagree &= ~set_aside
        keep = keep | _best(disagree, scores, cap - reserved - int(keep.sum()))
    return keep, {"weak_model": weak, "judged_accuracy": accuracy, "candidates": int(candidates.sum()),
                  "estimated_noise": int(estimated), "estimated_noise_calibrated": int(calibrated),
                  "flag_cap": max(0, cap - reserved)}


def _best(mask: np.ndarray, scores: np.ndarray, room: int) -> np.ndarray:
    """The `room` highest-scored samples of `mask` (all of them when they fit)."""
    room = max(0, room)
    if mask.sum() > room:
        ranked = np.flatnonzero(mask)[np.argsort(-scores[mask], kind="stable")]
        mask = np.zeros_like(mask)
        mask[ranked[:room]] = True
    return mask


def added_note(facts: dict) -> str:
    """What the CLI prints and the page shows when a strong model flagged disagreements the filter passed over
    ("" when it flagged none)."""
    added = facts.get("from_disagreement", 0)
    if not added:
        return ""
    estimate = max(facts.get("estimated_noise", 0), facts.get("estimated_noise_calibrated", 0))
    return (f"{added:,} of the suspects were passed over by the filter, yet the model, accurate enough to trust, "
            f"predicts another class for them (confident learning estimates about {estimate:,} wrong labels in all).")


def model_note(facts: dict) -> str:
    """What the CLI prints and the page shows above a weak model's suggestions ("" for a strong model)."""
    from .fit import weak_model  # results written before this rule carry no verdict: fit's older one decides

    acc = facts.get("oos_accuracy")
    if not weak_model(facts) or acc is None:
        return ""
    flagged = (f" Only the {facts['found']:,} with the strongest evidence are flagged (at most "
               f"{WEAK_SHARE:.0%} of the images); the rest of the ranked list is there to page through."
               if "flag_cap" in facts else "")
    return (f"The baseline is {acc:.0%} accurate on held-out images: these are ranked suggestions, not verdicts, "
            f"and many are the model's own mistakes.{flagged} A stronger model (more epochs, or --backbone with "
            "local weights) makes them more trustworthy.")
