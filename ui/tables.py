"""Pure table helpers for the pages: joins and filters over samples/findings. No Streamlit here,
so they are unit-tested like the inspectors."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from inspectors import sizes
from inspectors.run import neutralise

NUMERIC_FILTERS = ["width", "height", "bytes", "brightness", "contrast", "sharpness", "entropy"]
HIDDEN_COLUMNS = ["appearance", "mtime_ns"]


def issue_name(issue: str) -> str:
    """How a person reads an issue: "near duplicate", not "near_duplicate" (files and exports keep the
    vocabulary of schema.py)."""
    return str(issue).replace("_", " ")


def readable(table: pd.DataFrame, columns=("issue", "issues")) -> pd.DataFrame:
    """A copy for display, with issue names (and comma-separated lists of them) as a person reads them."""
    out = table.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column].fillna("").astype(str).str.replace("_", " ", regex=False)
    return out


def with_issues(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Samples plus `issues` (comma-separated, sorted) and `worst_score` (max finding score, 0 if none)."""
    names = findings[["path", "issue"]].drop_duplicates().sort_values(["path", "issue"], kind="stable")
    per = pd.DataFrame({"issues": names.groupby("path")["issue"].agg(", ".join),
                        "worst_score": findings.groupby("path")["score"].max()})
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
    applied; paths as ./relative for the tools (absolute ones stay absolute). Vectorised: 100k rows."""
    keep = samples[samples["ok"].astype(bool) & (samples["label"].fillna("") != "")][["path", "label", "split"]]
    decisions = marks.set_index("path") if len(marks) else pd.DataFrame(columns=["decision", "new_label"])
    removed = decisions.index[decisions["decision"] == "remove"]
    relabel = decisions.loc[decisions["decision"] == "relabel", "new_label"]
    out = keep[~keep["path"].isin(removed)] if len(removed) else keep.copy()
    if len(relabel):
        out = out.assign(label=out["path"].map(relabel).fillna(out["label"]))
    out = out.assign(path=out["path"].where(out["path"].str.startswith("/"), "./" + out["path"]))
    return out.reset_index(drop=True)


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Cells starting with = + - @ are prefixed with ' so spreadsheets show, not run, them."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(neutralise)
    return out


def _joined(members: pd.DataFrame, column: str) -> pd.Series:
    """Per group, the distinct values of a column, sorted and comma-separated ("—" for none)."""
    values = members[["group", column]].assign(**{column: members[column].fillna("").replace("", "—")})
    values = values.drop_duplicates().sort_values(["group", column], kind="stable")
    return values.groupby("group")[column].agg(", ".join)


def duplicate_groups(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per duplicate group: kind, size, splits, labels, whether labels conflict or copies leak;
    conflicting groups first, then leaking ones, then by size. Vectorised: thousands of groups."""
    dup = findings[findings["issue"].isin(["exact_duplicate", "near_duplicate"])]
    if dup.empty:
        return pd.DataFrame(columns=["group", "kind", "files", "splits", "labels", "conflicting", "leaks"])
    members = dup.merge(samples[["path", "split", "label"]], on="path", how="left")
    flagged = findings[findings["issue"].isin(["conflicting_labels", "split_leak"])]
    members["conflicting"] = members["path"].isin(flagged.loc[flagged["issue"] == "conflicting_labels", "path"])
    members["leaks"] = members["path"].isin(flagged.loc[flagged["issue"] == "split_leak", "path"])
    by = members.groupby("group")
    out = pd.DataFrame({
        "kind": by["issue"].first().map(lambda i: "exact" if i == "exact_duplicate" else "near"),
        "files": by["path"].nunique(), "splits": _joined(members, "split"), "labels": _joined(members, "label"),
        "conflicting": by["conflicting"].any(), "leaks": by["leaks"].any()}).rename_axis("group").reset_index()
    return out.sort_values(["conflicting", "leaks", "files", "group"], ascending=[False, False, False, True],
                           kind="stable").reset_index(drop=True)


def leak_matrix_frame(summary: dict) -> pd.DataFrame:
    matrix = summary.get("leak_matrix") or {}
    return pd.DataFrame(matrix).T.fillna(0).astype(int) if matrix else pd.DataFrame()


def filter_groups(groups: pd.DataFrame, only: str) -> pd.DataFrame:
    """The duplicate groups a "Show" choice keeps: all, conflicting labels, leaks, exact or near."""
    if only == "conflicting labels":
        return groups[groups["conflicting"]]
    if only == "leaks":
        return groups[groups["leaks"]]
    if only in ("exact", "near"):
        return groups[groups["kind"] == only]
    return groups


INTEGER_COLUMNS = ("width", "height", "bytes")


def integer_edges(lo: int, hi: int, bins: int, log: bool) -> np.ndarray:
    """Bin edges on whole numbers covering [lo, hi]: one bin per value when they fit, else at most `bins`
    bins of whole widths (log-spaced when the spread is multiplicative), so no bin straddles half a pixel."""
    if hi - lo + 1 <= bins:
        return np.arange(lo, hi + 2)
    raw = np.geomspace(lo, hi + 1, bins + 1) if log else np.linspace(lo, hi + 1, bins + 1)
    return np.unique(np.r_[lo, np.ceil(raw[1:-1]), hi + 1].astype(np.int64))


def size_distribution(samples: pd.DataFrame, column: str, bins: int = 40) -> pd.DataFrame:
    """sizes.distribution with whole-number bins for whole-number columns (width, height, bytes) and a
    `bin` label per row ("32" for a one-value bin, "32–39" for a range); `mode` counts as they are."""
    if column not in INTEGER_COLUMNS:
        dist = sizes.distribution(samples, column, bins)
        if column != "mode":
            dist["bin"] = [f"{a:.3g}–{b:.3g}" for a, b in zip(dist["bin_left"], dist["bin_right"], strict=True)]
        return dist
    values = sizes.geometry(samples)[column].to_numpy(np.int64)
    if len(values) == 0:
        return pd.DataFrame({"bin_left": [], "bin_right": [], "count": [], "bin": []})
    lo, hi = int(values.min()), int(values.max())
    edges = integer_edges(lo, hi, bins, log=lo > 0 and hi / lo > 4)
    counts, _ = np.histogram(values, edges)
    left, right = edges[:-1], edges[1:] - 1  # inclusive whole-number ranges
    labels = [f"{a:,}" if a == b else f"{a:,}–{b:,}" for a, b in zip(left, right, strict=True)]
    return pd.DataFrame({"bin_left": left, "bin_right": right, "count": counts, "bin": labels})


def issue_table(counts: pd.Series, pages: dict, titles: dict) -> pd.DataFrame:
    """Findings per issue for the Overview: the issue as a person reads it, its files, the page showing it."""
    return pd.DataFrame({"issue": [issue_name(i) for i in counts.index], "files": counts.to_numpy(),
                         "where to look": [titles.get(pages.get(i), "") for i in counts.index]})
