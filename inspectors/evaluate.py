"""Score findings against a ground truth: per-issue precision and recall over (path, issue) rows,
and pair precision/recall for duplicate groups. Inputs are validated first (imagededup's evaluate()
is the model): a typo in an issue name or a malformed table is an error, never a silent zero."""

from itertools import combinations

import pandas as pd

from .schema import ISSUES


def validate(table: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in ("path", "issue") if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")
    unknown = sorted(set(table["issue"]) - set(ISSUES))
    if unknown:
        raise ValueError(f"{name}: issues not in the vocabulary: {unknown}")
    if table["path"].isna().any() or (table["path"] == "").any():
        raise ValueError(f"{name}: rows without a path")
    return table.drop_duplicates(["path", "issue"])


def evaluate(found: pd.DataFrame, truth: pd.DataFrame, issues=None) -> pd.DataFrame:
    """One row per issue: truth, found, true positives, precision, recall, and the paths that were
    wrongly flagged or missed (for reading, not for scoring)."""
    found, truth = validate(found, "findings"), validate(truth, "truth")
    rows = []
    for issue in issues or sorted(set(truth["issue"]) | set(found["issue"])):
        t = set(truth.loc[truth["issue"] == issue, "path"])
        f = set(found.loc[found["issue"] == issue, "path"])
        tp = len(t & f)
        rows.append({"issue": issue, "truth": len(t), "found": len(f), "true_pos": tp,
                     "precision": tp / len(f) if f else (1.0 if not t else 0.0),
                     "recall": tp / len(t) if t else 1.0,
                     "false_pos": sorted(f - t), "missed": sorted(t - f)})
    return pd.DataFrame(rows)


def group_pairs(table: pd.DataFrame) -> set:
    """Unordered pairs of paths that share a group."""
    pairs = set()
    for _, members in table[table["group"].fillna("") != ""].groupby("group")["path"]:
        pairs.update(frozenset(p) for p in combinations(sorted(set(members)), 2))
    return pairs


def pair_scores(found: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pair precision/recall of duplicate groups (exact and near together)."""
    dup = ["exact_duplicate", "near_duplicate"]
    f = group_pairs(found[found["issue"].isin(dup)])
    t = group_pairs(truth[truth["issue"].isin(dup)])
    tp = len(f & t)
    return {"truth_pairs": len(t), "found_pairs": len(f), "true_pairs": tp,
            "pair_precision": tp / len(f) if f else 1.0, "pair_recall": tp / len(t) if t else 1.0}
