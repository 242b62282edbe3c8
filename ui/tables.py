"""Pure table helpers for the pages: joins and filters over samples/findings. No Streamlit here,
so they are unit-tested like the inspectors."""

from dataclasses import dataclass, field

import pandas as pd

from inspectors.run import neutralise

NUMERIC_FILTERS = ["width", "height", "bytes", "brightness", "contrast", "sharpness", "entropy"]
HIDDEN_COLUMNS = ["appearance", "mtime_ns"]


def with_issues(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Samples plus `issues` (comma-separated, sorted) and `worst_score` (max finding score, 0 if none)."""
    per = findings.groupby("path").agg(issues=("issue", lambda s: ", ".join(sorted(set(s)))),
                                       worst_score=("score", "max"))
    out = samples.merge(per, left_on="path", right_index=True, how="left")
    out["issues"] = out["issues"].fillna("")
    out["worst_score"] = out["worst_score"].fillna(0.0)
    return out


@dataclass
class Filter:
    splits: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    text: str = ""
    ranges: dict = field(default_factory=dict)  # column -> (low, high), inclusive
    paths: set | None = None  # e.g. the images in the selected bins of the size plot


def apply_filter(table: pd.DataFrame, f: Filter) -> pd.DataFrame:
    keep = pd.Series(True, index=table.index)
    if f.splits:
        keep &= table["split"].isin(f.splits)
    if f.labels:
        keep &= table["label"].isin(f.labels)
    if f.issues:
        pattern = "|".join(f"(?:^|, ){i}(?:,|$)" for i in f.issues)
        keep &= table["issues"].str.contains(pattern, regex=True)
    if f.text:
        keep &= table["path"].str.contains(f.text, case=False, regex=False)
    for column, (low, high) in f.ranges.items():
        values = pd.to_numeric(table[column], errors="coerce")
        keep &= values.between(low, high) | values.isna() & (low is None)
    if f.paths is not None:
        keep &= table["path"].isin(f.paths)
    return table[keep]


def sort_table(table: pd.DataFrame, column: str, descending: bool) -> pd.DataFrame:
    return table.sort_values([column, "path"], ascending=[not descending, True], kind="stable", na_position="last")


def page(table: pd.DataFrame, number: int, size: int) -> pd.DataFrame:
    return table.iloc[number * size:(number + 1) * size]


def cleaned_manifest(samples: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    """path,label,split of the decodable, labelled images minus those marked remove, with relabels
    applied; paths as ./relative for the tools (absolute ones stay absolute)."""
    keep = samples[samples["ok"].astype(bool) & (samples["label"].fillna("") != "")][["path", "label", "split"]]
    decisions = marks.set_index("path") if len(marks) else pd.DataFrame(columns=["decision", "new_label"])
    removed = set(decisions.index[decisions["decision"] == "remove"])
    relabel = decisions.loc[decisions["decision"] == "relabel", "new_label"].to_dict()
    out = keep[~keep["path"].isin(removed)].copy()
    out["label"] = [relabel.get(p, lab) for p, lab in zip(out["path"], out["label"], strict=True)]
    out["path"] = [p if p.startswith("/") else f"./{p}" for p in out["path"]]
    return out.reset_index(drop=True)


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Cells starting with = + - @ are prefixed with ' so spreadsheets show, not run, them."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(neutralise)
    return out


def duplicate_groups(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per duplicate group: kind, size, splits, labels, whether labels conflict or copies leak;
    conflicting groups first, then leaking ones, then by size."""
    dup = findings[findings["issue"].isin(["exact_duplicate", "near_duplicate"])]
    if dup.empty:
        return pd.DataFrame(columns=["group", "kind", "files", "splits", "labels", "conflicting", "leaks"])
    members = dup.merge(samples[["path", "split", "label"]], on="path", how="left")
    flagged = findings[findings["issue"].isin(["conflicting_labels", "split_leak"])]
    conflicted = set(flagged.loc[flagged["issue"] == "conflicting_labels", "path"])
    leaked = set(flagged.loc[flagged["issue"] == "split_leak", "path"])
    out = members.groupby("group").agg(
        kind=("issue", lambda s: "exact" if s.iloc[0] == "exact_duplicate" else "near"),
        files=("path", "nunique"),
        splits=("split", lambda s: ", ".join(sorted({x or "—" for x in s}))),
        labels=("label", lambda s: ", ".join(sorted({x or "—" for x in s}))),
        conflicting=("path", lambda s: bool(conflicted & set(s))),
        leaks=("path", lambda s: bool(leaked & set(s)))).reset_index()
    return out.sort_values(["conflicting", "leaks", "files", "group"], ascending=[False, False, False, True],
                           kind="stable").reset_index(drop=True)


def leak_matrix_frame(summary: dict) -> pd.DataFrame:
    matrix = summary.get("leak_matrix") or {}
    return pd.DataFrame(matrix).T.fillna(0).astype(int) if matrix else pd.DataFrame()
