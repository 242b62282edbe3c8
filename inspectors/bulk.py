"""Bulk review decisions, computed from the tables (no Streamlit, nothing written): keep one file per
duplicate group and remove the rest; mark a set of files; refuse a relabel to the class a file already has.
review.set_marks applies what these return, undoably."""

import numpy as np
import pandas as pd

from . import duplicates

PREFER = {  # which member of a duplicate group to keep
    "in train": "the one in the earliest split (train, then val, then test), then the largest",
    "largest": "the one with the most pixels, then the sharpest",
    "sharpest": "the sharpest (edge energy), then the largest",
}


def keep_one_per_group(samples: pd.DataFrame, findings: pd.DataFrame, prefer: str = "in train",
                       groups=None) -> pd.DataFrame:
    """path, decision (keep / remove), group: for each duplicate group (or those in `groups`), one member kept
    by `prefer` (see PREFER; ties by path) and the others removed."""
    if prefer not in PREFER:
        raise ValueError(f"prefer must be one of {sorted(PREFER)}, not {prefer!r}")
    # a file in a near group and an exact group belongs to its near group, as the inspector groups it
    members = duplicates.clusters_from_findings(samples, findings).rename(columns={"cluster": "group"})
    if groups is not None:
        members = members[members["group"].isin(list(groups))]
    members = members.merge(samples[["path", "width", "height", "sharpness"]], on="path", how="left")
    split_rank = members["split_rank"]
    pixels = members["width"].astype(float).fillna(0) * members["height"].astype(float).fillna(0)
    sharp = members["sharpness"].astype(float).fillna(0)
    keys = {"in train": (split_rank, -pixels), "largest": (-pixels, -sharp), "sharpest": (-sharp, -pixels)}[prefer]
    ranked = members.assign(_first=keys[0].to_numpy(float), _then=keys[1].to_numpy(float)).sort_values(
        ["group", "_first", "_then", "path"], kind="stable")
    first = ~ranked["group"].duplicated()
    return pd.DataFrame({"path": ranked["path"].to_numpy(), "decision": np.where(first, "keep", "remove"),
                         "group": ranked["group"].to_numpy()}).reset_index(drop=True)


def relabel_refused(samples: pd.DataFrame, paths, new_label: str) -> list[str]:
    """The paths whose label already is `new_label`: relabelling them changes nothing, so it is refused.
    `samples` needs only the rows of `paths` (the app passes state.rows_of)."""
    labels = samples.set_index("path")["label"].reindex(list(paths))
    return [p for p, label in labels.items() if label == new_label]
