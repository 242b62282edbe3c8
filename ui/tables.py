"""Pure table helpers for the pages: joins and filters over samples/findings. No Streamlit here,
so they are unit-tested like the inspectors."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from inspectors import sizes
from inspectors.schema import BINARY_COLUMNS
from ui.pages import PAGE

NUMERIC_FILTERS = ["width", "height", "bytes", "brightness", "contrast", "sharpness", "entropy"]
HIDDEN_COLUMNS = [*BINARY_COLUMNS, "mtime_ns"]
# the scan's bookkeeping: out of the Browse table and its sort until a person asks for them
INTERNAL_COLUMNS = ["entry", "orphan", "file_hash", "pixel_hash", "phash", "dhash", "exif_orientation", "frames",
                    "lum_p01", "lum_p05", "lum_p95", "lum_p99", "mean_r", "mean_g", "mean_b", "std_r", "std_g",
                    "std_b", "colour_entropy", "error"]
SCORE_PREFIX = "score: "  # one column per issue: its finding's score (0-1, 1 the most suspicious), blank if none


def score_column(issue: str) -> str:
    return SCORE_PREFIX + issue_name(issue)


def column_label(column: str) -> str:
    """A column as a person reads it, with its unit."""
    return COLUMN_LABELS.get(column, column.replace("_", " "))


COLUMN_LABELS = {"worst_score": "worst score (any issue)", "bytes": "file size (bytes)", "width": "width (px)",
                 "height": "height (px)", "brightness": "brightness (0-1)", "contrast": "contrast (0-1)",
                 "sharpness": "sharpness (edge energy)", "entropy": "entropy (bits)"}


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


def _arrow_strings(values) -> pa.Array:
    return pa.array(pd.Series(values, dtype=object if isinstance(values, list) else None).astype("string").array)


def positions_in(values, keys) -> np.ndarray:
    """For each value, its position in `keys` (the first, -1 if absent). pyarrow's hash lookup: faster than
    pandas' Index.get_indexer on a million strings (docs/benchmarks.md, "Scale"), and repeated keys are fine."""
    values = _arrow_strings(values)
    found = pc.index_in(values, value_set=_arrow_strings(keys).cast(values.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def with_issues(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Samples plus `issues` (comma-separated, sorted; a categorical: few distinct combinations),
    `worst_score` (max finding score, 0 if none) and one `score: <issue>` column per issue found (blank where
    the file has no such finding), to sort and filter by. Columns are added, not merged: a merge copies every
    column of the table."""
    names = findings[["path", "issue"]].drop_duplicates().sort_values(["path", "issue"], kind="stable")
    joined = {}
    for path, issue in zip(names["path"].tolist(), names["issue"].tolist(), strict=True):
        joined[path] = f"{joined[path]}, {issue}" if path in joined else issue
    categories = sorted(set(joined.values()) | {""})
    code = {name: i for i, name in enumerate(categories)}
    at = positions_in(samples["path"], list(joined))  # each sample's entry in `joined`, -1 for none
    key_codes = np.array([code[v] for v in joined.values()], dtype=np.int32)
    none = np.full(len(at), code[""], dtype=np.int32)  # a dataset without findings: key_codes is empty
    issues = pd.Categorical.from_codes(np.where(at >= 0, key_codes[np.maximum(at, 0)], none) if len(key_codes)
                                       else none, categories)
    # each file's score per issue, in the order of `joined`: one lookup of the samples' paths serves them all
    scores = findings.groupby(["path", "issue"])["score"].max().unstack("issue").reindex(list(joined))
    worst = scores.max(axis=1).fillna(0.0).to_numpy(float)
    worst_score = np.where(at >= 0, worst[np.maximum(at, 0)] if len(worst) else 0.0, 0.0)
    found = at >= 0
    per_issue = {}
    for issue in sorted(scores.columns):
        column = np.full(len(samples), np.nan, np.float32)
        column[found] = scores[issue].to_numpy(np.float32)[at[found]]
        per_issue[score_column(issue)] = column
    return samples.assign(issues=issues, worst_score=worst_score, **per_issue)


@dataclass
class Filter:
    splits: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    text: str = ""
    ranges: dict = field(default_factory=dict)  # column -> (low, high), inclusive
    paths: set | None = None  # e.g. the images in the selected bins of the size plot


def filter_mask(table: pd.DataFrame, f: Filter) -> np.ndarray:
    """The rows a filter keeps, as a boolean array in the table's row order."""
    keep = np.ones(len(table), dtype=bool)
    if f.splits:
        keep &= table["split"].isin(f.splits).to_numpy(bool)
    if f.labels:
        keep &= table["label"].isin(f.labels).to_numpy(bool)
    if f.issues:
        pattern = "|".join(f"(?:^|, ){i}(?:,|$)" for i in f.issues)
        keep &= _contains(table["issues"], pattern)
    if f.text:
        keep &= table["path"].str.contains(f.text, case=False, regex=False).fillna(False).to_numpy(bool)
    for column, (low, high) in f.ranges.items():
        values = pd.to_numeric(table[column], errors="coerce")
        keep &= (values.between(low, high) | values.isna() & (low is None)).to_numpy(bool)
    if f.paths is not None:
        keep &= table["path"].isin(f.paths).to_numpy(bool)
    return keep


def _contains(column: pd.Series, pattern: str) -> np.ndarray:
    """Rows whose text matches a regex; on a categorical, one match per category, not one per row."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype("string").str.contains(pattern, regex=True).fillna(False).to_numpy(bool)
    hits = pd.Series(column.cat.categories).astype("string").str.contains(pattern, regex=True).to_numpy(bool)
    codes = column.cat.codes.to_numpy()
    return np.where(codes >= 0, hits[codes], False)


def path_order(table: pd.DataFrame) -> np.ndarray:
    """Row positions in path order (the scan writes samples sorted by path: then no sort at all). pyarrow
    compares the neighbours without the GIL; pandas' is_monotonic_increasing makes 1M Python strings."""
    paths = _arrow_strings(table["path"])
    if len(paths) < 2 or pc.all(pc.greater_equal(paths[1:], paths[:-1])).as_py():
        return np.arange(len(paths))
    return pc.sort_indices(paths).to_numpy().astype(np.int64)  # stable


def sort_order(table: pd.DataFrame, column: str, descending: bool, by_path: np.ndarray | None = None) -> np.ndarray:
    """Row positions of the table sorted by a column (missing values last), ties by path: the order of a stable
    sort_values([column, "path"]), without moving 1M rows. by_path: path_order(table), if already known."""
    by_path = path_order(table) if by_path is None else by_path
    values = table[column].iloc[by_path]
    if values.dtype.kind in "iub" and not values.hasnans:
        key = values.to_numpy().astype(np.int64)
        key = ~key if descending else key  # ~ reverses int64 order exactly (mtime_ns has no float twin)
    elif values.dtype.kind == "f":
        key = values.to_numpy(dtype=float, na_value=np.nan)
        key = -key if descending else key  # NaN sorts last either way
    else:
        codes, _ = pd.factorize(values, sort=True)  # strings, categories, nullable: by sorted value
        key = np.where(codes < 0, np.iinfo(np.int64).max, codes.max(initial=0) - codes if descending else codes)
    return by_path[np.argsort(key, kind="stable")]


def view_positions(order: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The sorted positions a filter keeps, in sorted order."""
    return order[keep[order]]


def page(table: pd.DataFrame, number: int, size: int, positions: np.ndarray | None = None) -> pd.DataFrame:
    """Page `number` of the table, or of its rows at `positions` (a sorted, filtered view of it)."""
    if positions is None:
        return table.iloc[number * size:(number + 1) * size]
    return table.iloc[positions[number * size:(number + 1) * size]]


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


def _joined(members: pd.DataFrame, column: str, groups: pd.Index) -> pd.Series:
    """Per group, the distinct values of a column, sorted and comma-separated ("—" for none). A plain loop:
    groupby().agg(", ".join) calls Python per group through pandas (seconds for 20k groups)."""
    per = {}
    for group, value in zip(members["group"].tolist(), members[column].tolist(), strict=True):
        per.setdefault(group, set()).add(value if isinstance(value, str) and value else "—")
    return pd.Series([", ".join(sorted(per[g])) for g in groups.tolist()], index=groups, name=column, dtype="string")


def duplicate_groups(samples: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per duplicate group: kind, size, splits, labels, whether labels conflict or copies leak;
    conflicting groups first, then leaking ones, then by size. Vectorised: thousands of groups."""
    dup = findings[findings["issue"].isin(["exact_duplicate", "near_duplicate"])]
    if dup.empty:
        return pd.DataFrame(columns=["group", "kind", "files", "splits", "labels", "conflicting", "leaks"])
    at = positions_in(dup["path"], samples["path"])  # a lookup, not a merge with a 1M-row table
    found = at >= 0
    members = dup.assign(**{c: np.where(found, samples[c].take(np.maximum(at, 0)).to_numpy(object), None)
                            for c in ("split", "label")})
    for issue, column in (("conflicting_labels", "conflicting"), ("split_leak", "leaks")):
        members[column] = positions_in(members["path"], findings.loc[findings["issue"] == issue, "path"]) >= 0
    by = members.groupby("group")
    groups = by.size().index
    out = pd.DataFrame({
        "kind": by["issue"].first().map(lambda i: "exact" if i == "exact_duplicate" else "near"),
        "files": by["path"].nunique(), "splits": _joined(members, "split", groups),
        "labels": _joined(members, "label", groups), "conflicting": by["conflicting"].any(),
        "leaks": by["leaks"].any()}).rename_axis("group").reset_index()
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


def issue_table(counts: pd.Series, issue_pages: dict) -> pd.DataFrame:
    """Findings per issue for the Overview: the issue as a person reads it, its files, the page showing it
    (`issue_pages`: issue -> page name in ui.pages)."""
    return pd.DataFrame({"issue": [issue_name(i) for i in counts.index], "files": counts.to_numpy(),
                         "where to look": [PAGE[issue_pages[i]].label if i in issue_pages else ""
                                           for i in counts.index]})
